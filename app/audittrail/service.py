"""Writing to the audit trail. The chain itself is kept by the database (see ``models``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from app.audittrail.models import OUTCOMES, AuditEvent


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
    verb such as ``auth.login`` or ``http.write``, ``object`` what it was done to (a path template,
    ``household:123``), ``outcome`` one of success / failure / refused / error.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}; expected one of {OUTCOMES}")
    if detail is not None:
        detail = json.loads(json.dumps(detail, ensure_ascii=False, default=str))
    session.execute(
        insert(AuditEvent).values(
            actor=_clip(actor, 64),
            address=_clip(address, 64),
            action=action[:64],
            object=object[:300],
            outcome=outcome,
            detail=detail,
        )
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
    session = sessionmaker()
    try:
        record_event(
            session,
            actor=actor,
            address=address,
            action=action,
            object=object,
            outcome=outcome,
            detail=detail,
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
