"""Residents follow their case and rate its handling through the case's link
(docs/domain.md#residents-ratings).

The link carries the case's follow-up token (on the reporter's receipt, from Open311's token, or
read to a caller who reported by phone). Holding the token is the only credential: the follow view
shows what a public surface may show (docs/public.md: case number, category unless sensitive,
state and times; no names, address, description, unit or note), and a rating without the token is
refused (403). A 不满意 reopens the case (the lifecycle's ``reopen`` move) as many times as the
county allows (``IncidentSettings.reopen_limit``, once by default). The satisfaction KPI counts
these ratings; the dispatcher's follow-up call (``evaluate``, 回访) stays in its own columns.

Callers work as the intake database role (anyone, anywhere, on cases and their history only), the
same as a resident's report.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.policy import Principal
from app.errors import Conflict, Forbidden, InvalidInput
from app.incidents import statemachine as sm
from app.incidents.calendar import TZ, WorkingCalendar
from app.incidents.config import IncidentSettings
from app.incidents.models import Incident, IncidentCategory, IncidentEvent, IncidentRating
from app.incidents.service import now, record, rule_move

RATING_LABELS = {"satisfied": "满意", "basically": "基本满意", "unsatisfied": "不满意"}
RATE = "rate"  # the history event of a rating (statemachine.EVENT_LABELS)
REOPEN = "reopen"
NO_TOKEN = "评价需要该案件的查询凭证：请使用回执或短信中的链接"
# What a resident's timeline shows: the steps of the closed loop, never the internal work
# organisation (escalation, reassignment, returns, extensions, checks) nor who did it.
SHOWN_STEPS = (
    "report", "accept", "register", "reject", "void", "dispatch", "handle", "close",
    "resolve_on_spot", "evaluate", RATE, REOPEN,
)  # fmt: skip


@dataclass(frozen=True)
class Step:
    label: str
    at: dt.datetime


@dataclass(frozen=True)
class FollowView:
    """A case as its reporter follows it (docs/public.md)."""

    id: int
    case_no: str
    category_name: str | None  # None for a sensitive category
    state: str
    state_label: str
    reported_at: dt.datetime
    updated_at: dt.datetime
    steps: list[Step]
    rating: str | None
    rating_label: str | None
    rated_at: dt.datetime | None
    may_rate: bool
    why_not: str | None  # why a rating is not possible now, in the resident's words


def case_by_token(
    session: Session, token: str | None, *, incident_id: int | None = None
) -> Incident:
    """The case ``token`` names (and, when given, it must be ``incident_id``); else 403."""
    if not token or len(token) > 64:
        raise Forbidden(NO_TOKEN)
    incident = session.scalar(select(Incident).where(Incident.token == token))
    # The same answer for an unknown token and a token of another case: nothing is revealed.
    if incident is None or (incident_id is not None and incident.id != incident_id):
        raise Forbidden(NO_TOKEN)
    if not secrets.compare_digest(incident.token, token):
        raise Forbidden(NO_TOKEN)
    return incident


def _why_not(incident: Incident) -> str | None:
    if incident.state not in sm.CLOSED_STATES:
        return f"案件尚未办结（当前：{sm.STATE_LABELS[incident.state]}），办结后即可评价"
    if _rated_this_round(incident):
        return "本次办结已评价，感谢您的反馈"
    return None


def _rated_this_round(incident: Incident) -> bool:
    """Rated since the case was last closed (a reopened and re-closed case may be rated again)."""
    rated, closed = incident.resident_rated_at, incident.closed_at
    return rated is not None and (closed is None or rated >= closed)


def follow(session: Session, token: str | None) -> FollowView:
    incident = case_by_token(session, token)
    category = session.scalar(
        select(IncidentCategory).where(IncidentCategory.code == incident.category_code)
    )
    events = session.execute(
        select(IncidentEvent.action, IncidentEvent.at)
        .where(IncidentEvent.incident_id == incident.id, IncidentEvent.action.in_(SHOWN_STEPS))
        .order_by(IncidentEvent.id)
    )
    steps = [Step(step_label(a), at.astimezone(TZ)) for a, at in events]
    why = _why_not(incident)
    rating = incident.resident_rating
    return FollowView(
        id=incident.id,
        case_no=incident.case_no,
        category_name=None if category is None or category.sensitive else category.name,
        state=incident.state,
        state_label=sm.STATE_LABELS[incident.state],
        reported_at=incident.reported_at.astimezone(TZ),
        updated_at=incident.updated_at.astimezone(TZ),
        steps=steps,
        rating=rating,
        rating_label=RATING_LABELS[rating] if rating else None,
        rated_at=incident.resident_rated_at.astimezone(TZ) if incident.resident_rated_at else None,
        may_rate=why is None,
        why_not=why,
    )


def step_label(action: str) -> str:
    if action in sm.TRANSITIONS:
        return sm.TRANSITIONS[action].label
    return sm.EVENT_LABELS.get(action, action)


def rate(
    session: Session,
    *,
    token: str | None,
    rating: str,
    comment: str,
    principal: Principal,
    settings: IncidentSettings,
    calendar: WorkingCalendar,
    incident_id: int | None = None,
) -> tuple[Incident, IncidentRating]:
    """Record a resident's rating of a closed case; a 不满意 reopens it while the county's limit
    allows (``settings.reopen_limit``). One rating per closure: a case reopened and closed again
    may be rated again."""
    incident = case_by_token(session, token, incident_id=incident_id)
    if rating not in RATING_LABELS:
        raise InvalidInput("rating: 请选择 满意、基本满意 或 不满意", field="rating")
    comment = comment.strip()
    if rating == "unsatisfied" and not comment:
        raise InvalidInput("comment: 请说明不满意的原因，以便重新办理", field="comment")
    session.refresh(incident, with_for_update=True)  # one rating at a time per case
    why = _why_not(incident)
    if why is not None:
        raise Conflict(why, current_state=incident.state)
    stamp = now()
    reopen = rating == "unsatisfied" and incident.reopen_count < settings.reopen_limit(
        incident.grid_code
    )
    row = IncidentRating(
        incident_id=incident.id,
        rating=rating,
        comment=comment,
        channel=incident.source,
        reopened=reopen,
        rated_at=stamp,
    )
    session.add(row)
    incident.resident_rating = rating
    incident.resident_rated_at = stamp
    incident.updated_at = stamp
    incident.version += 1
    session.flush()
    data = {"rating": rating, "channel": incident.source}
    record(session, incident, action=RATE, from_state=incident.state, actor=principal,
           note=comment, data=data)  # fmt: skip
    if reopen:
        _reopen(session, incident, principal, comment, calendar, settings)
    return incident, row


def _reopen(
    session: Session,
    incident: Incident,
    principal: Principal,
    reason: str,
    calendar: WorkingCalendar,
    settings: IncidentSettings,
) -> None:
    """The lifecycle's ``reopen`` move, made by the resident's 不满意 (service.rule_move: back to the
    unit that handled it, no longer handled nor closed, its clock started again), counted in
    ``reopen_count``."""
    incident.reopen_count += 1
    rule_move(
        session,
        incident,
        REOPEN,
        actor=principal,
        note=f"居民评价不满意：{reason}",
        calendar=calendar,
        escalation_share=settings.escalation_share,
    )
