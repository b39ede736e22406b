"""``GET /api/v1/meta``: the labels a client shows for codes, from the one place each is defined.

States and transitions come from the lifecycle table (app/incidents/statemachine.py), categories
from the category table, roles from the policy (app/auth/policy.py). The pages read them here
instead of keeping copies. Public (labels are no secret) and cacheable for a few minutes: a
category an admin renames shows its new name after at most ``MAX_AGE`` seconds.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from app.auth.deps import SessionDep
from app.auth.policy import ROLE_LABELS
from app.grids.service import BAND_LABELS
from app.incidents import statemachine as sm
from app.incidents.calendar import UNIT_LABELS
from app.incidents.deadlines import LIGHT_LABELS, REQUEST_KINDS, STAGE_LABELS
from app.incidents.rating import RATING_LABELS
from app.incidents.service import URGENCY_LIGHTS, category_names
from app.plans.models import PLAN_STATUS_LABELS
from app.units.models import KIND_LABELS as UNIT_KIND_LABELS

router = APIRouter(prefix="/api/v1", tags=["meta"])
MAX_AGE = 300


class Meta(BaseModel):
    states: dict[str, str] = Field(description="incident state → label, in lifecycle order")
    in_progress_states: list[str] = Field(description="states a dispatcher's console lists (在办)")
    transitions: dict[str, str] = Field(description="transition action → label")
    events: dict[str, str] = Field(
        description="action of any event in a case's history → label (the transitions, intake, re-routing)"
    )
    categories: dict[str, str] = Field(description="incident category code → name")
    roles: dict[str, str] = Field(description="role → label")
    urgency: dict[str, str] = Field(description="urgency class of the cases layer → label")
    lights: dict[str, str] = Field(description="deadline light (a case's deadline.light) → label")
    stages: dict[str, str] = Field(description="deadline stage (a case's deadline.stage) → label")
    time_units: dict[str, str] = Field(
        description="unit of a time limit (a category's, a case's deadline.basis) → label"
    )
    satisfaction: dict[str, str] = Field(description="a rating or 回访 result → label")
    requests: dict[str, str] = Field(description="kind of a pending request (延期, 挂账) → label")
    plan_states: dict[str, str] = Field(description="boundary plan status → label")
    bands: dict[str, str] = Field(
        description="a grid's households against the band (the grids layer's band) → label"
    )
    unit_kinds: dict[str, str] = Field(
        default_factory=dict,
        description="kind of a responsible unit (grid … department, agency) → label; the first "
        "four are also the tiers a routing rule may name",
    )


@router.get("/meta", response_model=Meta)
def meta(session: SessionDep, response: Response) -> Meta:
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    transitions = {action: t.label for action, t in sm.TRANSITIONS.items()}
    return Meta(
        states=dict(sm.STATE_LABELS),
        in_progress_states=list(sm.IN_PROGRESS_STATES),
        transitions=transitions,
        events={**sm.EVENT_LABELS, **transitions},
        categories=dict(sorted(category_names(session).items())),
        roles={str(role): label for role, label in ROLE_LABELS.items()},
        urgency={u: LIGHT_LABELS[light] for u, light in URGENCY_LIGHTS.items()},
        lights=dict(LIGHT_LABELS),
        stages=dict(STAGE_LABELS),
        time_units=dict(UNIT_LABELS),
        satisfaction=dict(RATING_LABELS),
        requests=dict(REQUEST_KINDS),
        plan_states=dict(PLAN_STATUS_LABELS),
        bands=dict(BAND_LABELS),
        unit_kinds=dict(UNIT_KIND_LABELS),
    )
