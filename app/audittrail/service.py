"""Writing, reading and purging the audit trail. The chain itself is kept by the database
(migration 0011); ``app.audittrail.chain`` checks it independently."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.audittrail.models import OUTCOMES, AuditEvent
from app.db import _committing  # the one commit/rollback frame

RETENTION_ROLE = "gridgov_audit_retention"

_APPEND = text(
    "SELECT audit_append(:actor, :address, :action, :object, :outcome, CAST(:detail AS jsonb))"
)


def _clip(value: str | None, size: int) -> str | None:
    return None if value is None else value[:size]


def record_event(
    session: Session,
    *,
    actor: str | None,
    address: str | None,
    action: str,
    object: str,
    outcome: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one event in the caller's transaction (it is kept only if that transaction commits).

    ``actor`` is the username (None: anonymous), ``address`` the client address, ``action`` a dotted
    verb such as ``auth.login``, ``http.write`` or ``personal.read``, ``object`` what it was done to
    (a path template, ``household:123``), ``outcome`` one of success / failure / refused / error.
    Appends are serialised (a chain has one end): the transaction holds the chain until it ends,
    so call this late in a long transaction, and never ``record_event_now`` after it in the same
    request (that second transaction would wait for this one).
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}; expected one of {OUTCOMES}")
    session.execute(
        _APPEND,
        {
            "actor": _clip(actor, 64),
            "address": _clip(address, 64),
            "action": action[:64],
            "object": object[:300],
            "outcome": outcome,
            "detail": None
            if detail is None
            else json.dumps(detail, ensure_ascii=False, default=str),
        },
    )


def record_event_now(
    sessionmaker: Callable[[], Session],
    *,
    actor: str | None,
    address: str | None,
    action: str,
    object: str,
    outcome: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one event in its own transaction, committed at once: for failures whose request
    transaction rolls back (a wrong password, a refused write)."""
    with _committing(sessionmaker()) as session:
        record_event(
            session,
            actor=actor,
            address=address,
            action=action,
            object=object,
            outcome=outcome,
            detail=detail,
        )


def list_events(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    outcome: str | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[AuditEvent]]:
    """Events matching the filters, newest first, and how many match in all."""
    conditions = []
    if actor is not None:
        conditions.append(AuditEvent.actor == actor)
    if action is not None:
        conditions.append(AuditEvent.action == action)
    if outcome is not None:
        conditions.append(AuditEvent.outcome == outcome)
    if start is not None:
        conditions.append(AuditEvent.at >= start)
    if end is not None:
        conditions.append(AuditEvent.at < end)
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0
    rows = session.scalars(
        select(AuditEvent)
        .where(*conditions)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return int(total), list(rows)


def purge(session: Session, *, before: dt.datetime, purged_by: str) -> int:
    """Delete the events older than ``before`` (a prefix of the chain), after appending an anchor
    that keeps the rest verifiable; returns how many were deleted. Runs as the retention role,
    the only one the append-only trigger lets delete."""
    previous_role = session.execute(text("SELECT current_setting('role')")).scalar_one()
    session.execute(text(f"SET LOCAL ROLE {RETENTION_ROLE}"))
    try:
        deleted = session.execute(
            text("SELECT audit_events_purge(:cutoff, :by)"), {"cutoff": before, "by": purged_by}
        ).scalar_one()
    finally:
        session.execute(text("SELECT set_config('role', :r, true)"), {"r": previous_role})
    return int(deleted)
