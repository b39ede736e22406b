"""``GET /api/v1/audit-trail``: the security audit trail, for county admins and auditors only."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from app.audittrail.middleware import client_address
from app.audittrail.schemas import AuditEventPublic, AuditTrailPage
from app.audittrail.service import list_events, record_event
from app.auth.deps import SessionDep
from app.auth.policy import Resource
from app.auth.scope import AreaScope, access_whole
from app.errors import InvalidInput

router = APIRouter(prefix="/api/v1", tags=["audit trail 安全审计"])

# The same readers as the household access log (the policy table in app/auth/policy.py).
Overseer = Annotated[AreaScope, Depends(access_whole(Resource.ACCESS_LOG))]


@router.get("/audit-trail", response_model=AuditTrailPage)
def audit_trail(
    request: Request,
    session: SessionDep,
    scope: Overseer,
    user: Annotated[str | None, Query(max_length=64, description="username")] = None,
    action: Annotated[str | None, Query(max_length=64, description="e.g. auth.login")] = None,
    outcome: Annotated[str | None, Query(pattern="^(success|failure|refused|error)$")] = None,
    start: Annotated[dt.datetime | None, Query(alias="from", description="inclusive")] = None,
    end: Annotated[dt.datetime | None, Query(alias="to", description="exclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AuditTrailPage:
    """Who did what, to what, from where, with what outcome: sign-ins, writes and reads of personal
    data, newest first. Reading the trail is itself recorded."""
    for moment in (start, end):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput("from/to 须带时区，例如 2026-12-01T08:00:00+08:00")
    if start is not None and end is not None and end <= start:
        raise InvalidInput("to 须晚于 from")
    total, rows = list_events(
        session,
        actor=user,
        action=action,
        outcome=outcome,
        start=start,
        end=end,
        limit=limit,
        offset=offset,
    )
    record_event(
        session,
        actor=scope.principal.username,
        address=client_address(request.scope),
        action="audit.read",
        object="audit_events",
        outcome="success",
        detail={"user": user, "action": action, "from": start, "to": end, "offset": offset},
    )
    data = [AuditEventPublic.model_validate(r, from_attributes=True) for r in rows]
    return AuditTrailPage(data=data, count=len(data), total=total, offset=offset, limit=limit)
