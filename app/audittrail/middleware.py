"""Every unsafe-method request (POST, PUT, PATCH, DELETE) leaves one ``http.write`` event.

One pure ASGI middleware, outermost, so that writes refused before they reach a route (CSRF, body
limits) are recorded too. The event is appended after the response has been sent, in its own
transaction: a write that failed (its transaction rolled back) is recorded as refused or error all
the same. The price: the event of a successful write is committed just after the write, not with
it, so a crash in between would lose the event (not the write) — docs/security.md#security-audit.

Recorded: user (the principal the request's authentication resolved, ``request.state``), client
address (after the trusted-proxy rewrite), method and path template as the object, the outcome
(success < 400, refused 4xx, error 5xx or an exception) and the status and concrete path as detail.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.audittrail.service import record_event_now
from app.db import CONNECTION_ERRORS

log = logging.getLogger("gridgov.audittrail")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def outcome_of(status: int) -> str:
    if status >= 500:
        return "error"
    if status >= 400:
        return "refused"
    return "success"


def client_address(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


def principal_name(scope: Scope) -> str | None:
    """The username the request's authentication step resolved (app/auth/deps.py caches it on
    ``request.state.principal_for``), or None for anonymous callers and refused tokens."""
    cached: Any = scope.get("state", {}).get("principal_for")
    if not cached:
        return None
    name = getattr(cached[1], "username", None)
    return name if isinstance(name, str) and name else None


def path_template(scope: Scope) -> str:
    """``/api/v1/incidents/{incident_id}`` rather than ``/api/v1/incidents/42``: the route the
    request matches (routing copies its scope, so ask the routes again), else the raw path."""
    path = str(scope.get("path", ""))
    partial = None
    for route in getattr(scope.get("app"), "routes", ()):
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return str(getattr(route, "path", path))
        if match is Match.PARTIAL and partial is None:  # the path exists, not for this method
            partial = str(getattr(route, "path", path))
    return partial or path


class AuditWritesMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        status: int | None = None

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        except BaseException:
            if status is None or status < 500:
                status = 500
            raise
        finally:
            await run_in_threadpool(self._record, scope, status or 500)

    @staticmethod
    def _record(scope: Scope, status: int) -> None:
        template = path_template(scope)
        method = scope["method"]
        try:
            record_event_now(
                scope["app"].state.sessionmaker,
                actor=principal_name(scope),
                address=client_address(scope),
                action="http.write",
                object=f"{method} {template}",
                outcome=outcome_of(status),
                detail={"status": status, "path": scope.get("path", "")[:300]},
            )
        except CONNECTION_ERRORS as exc:  # the database is away: one line, not a trace
            log.error("audit trail: could not record %s %s (%s): %s", method, template, status, exc)
        except Exception:  # the response is already sent: say so loudly, do not mask it
            log.exception("audit trail: could not record %s %s (%s)", method, template, status)
