"""What the public may see of cases: read only through the ``public_incidents`` view.

The view (migration 0013) is the one place that decides which cases and which columns are public:
no case of a sensitive category, no names, phones, address, description or grid, and a point snapped
to the centre of its 0.001° cell (about 111 m north–south and 111 m × cos(latitude) east–west:
92 m at 34° N). Snapping, not jitter: every case in a cell shows the same centre, so neither one case
nor many cases in the same cell reveal where inside the cell they are (docs/public.md).

The view runs with its owner's rights, so it keeps answering when row-level security hides the
``incidents`` table from the app's database role; this module never reads ``incidents`` itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy import DateTime, Numeric, String, column, select, table
from sqlalchemy.orm import Session

from app.incidents import statemachine as sm
from app.incidents.calendar import TZ
from app.incidents.categories import CategoryRule
from app.incidents.models import Incident
from app.incidents.schemas import DuplicateOut, IncidentReceipt, PublicDuplicate

# A lightweight table clause: the view is not part of the ORM metadata (Alembic owns it).
PUBLIC_INCIDENTS = table(
    "public_incidents",
    column("id"),
    column("case_no", String),
    column("category_code", String),
    column("state", String),
    column("reported_at", DateTime(timezone=True)),
    column("updated_at", DateTime(timezone=True)),
    column("lng", Numeric),
    column("lat", Numeric),
)

# GeoReport v2 has two statuses: a case is open until it is closed, evaluated, rejected or voided.
OPEN = sm.IN_PROGRESS_STATES
MAX_REQUESTS = 1000  # the GeoReport v2 default page


@dataclass(frozen=True)
class PublicRequest:
    """One case as the public sees it."""

    id: int
    case_no: str
    category_code: str
    state: str
    reported_at: dt.datetime
    updated_at: dt.datetime
    lng: float  # the centre of the case's cell, never the case's own point
    lat: float

    @property
    def status(self) -> str:
        return "open" if self.state in OPEN else "closed"

    @property
    def status_note(self) -> str:
        return sm.STATE_LABELS[self.state]


def public_requests(
    session: Session,
    *,
    ids: Sequence[int] | None = None,
    categories: Sequence[str] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    status: str | None = None,
    limit: int = MAX_REQUESTS,
) -> list[PublicRequest]:
    """Public cases, newest first, filtered by id, category code, reporting time and status.

    Parameters
    ----------
    ids : only these cases (a case that is sensitive or does not exist is simply absent).
    categories : category codes (small classes).
    start, end : reported within [start, end].
    status : ``"open"`` or ``"closed"`` (GeoReport v2); None for both.
    limit : at most this many.
    """
    v = PUBLIC_INCIDENTS.c
    stmt = select(PUBLIC_INCIDENTS)
    if ids is not None:
        # An id beyond bigint names no case (and must not reach PostgreSQL as an overflow).
        stmt = stmt.where(v.id.in_([i for i in ids if 0 < i < 2**63]))
    if categories is not None:
        stmt = stmt.where(v.category_code.in_(list(categories)))
    if start is not None:
        stmt = stmt.where(v.reported_at >= start)
    if end is not None:
        stmt = stmt.where(v.reported_at <= end)
    if status == "open":
        stmt = stmt.where(v.state.in_(OPEN))
    elif status == "closed":
        stmt = stmt.where(v.state.not_in(OPEN))
    elif status is not None:
        raise ValueError(f"status {status!r}")
    rows = session.execute(stmt.order_by(v.id.desc()).limit(limit)).mappings()
    return [PublicRequest(**{**r, "lng": float(r["lng"]), "lat": float(r["lat"])}) for r in rows]


def follow_path(token: str) -> str:
    """The reporter's link to follow and rate their case (app/incidents/residents.py)."""
    return f"/follow/{quote(token, safe='')}"


def to_receipt(
    incident: Incident, category: CategoryRule | None, duplicates: list[DuplicateOut]
) -> IncidentReceipt:
    """A reporter's receipt for a case they may not read: its public fields and follow-up token.

    Likely duplicates are named by case number and status only, and not at all for a sensitive
    category (a nearby dispute or public-order case is nobody else's business).
    """
    shown = [] if category is None or category.sensitive else duplicates
    return IncidentReceipt(
        id=incident.id,
        case_no=incident.case_no,
        token=incident.token,
        follow_url=follow_path(incident.token),
        category_code=incident.category_code,
        category_name=category.name if category else None,
        state=incident.state,
        state_label=sm.STATE_LABELS[incident.state],
        # Beijing time, whether the case was just filed or read back for a replay.
        reported_at=incident.reported_at.astimezone(TZ),
        deadline=incident.deadline.astimezone(TZ),
        duplicates=[
            PublicDuplicate(case_no=d.case_no, state_label=sm.STATE_LABELS[d.state]) for d in shown
        ],
    )
