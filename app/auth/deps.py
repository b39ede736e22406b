"""FastAPI dependencies for the caller: ``CurrentPrincipal`` (may be anonymous), ``CurrentUser``
(must be logged in) and ``require_roles(...)``; routes stay one screen long.

``principal_from_token`` is the one step from a token to a caller, for the API and the pages alike:
the signature, every claim, and the session it names (one primary-key lookup: revoked, idle or
expired sessions end every token at once).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from app.auth import sessions
from app.auth.keys import signing_key
from app.auth.models import ROLES
from app.auth.policy import ANONYMOUS, ROLE_LABELS, Principal, Role
from app.auth.security import decode_access_token
from app.db import access_for, request_session, request_unit
from app.errors import Forbidden, Unauthorized
from app.http.cookies import SESSION_COOKIE
from app.locate.registry import today
from app.staff.service import worker_grids

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

COOKIE = SESSION_COOKIE

# What a session opened only to enrol a second factor may reach.
ENROL_PATHS = frozenset(
    {
        "/api/v1/auth/me",
        "/api/v1/auth/logout",
        "/api/v1/auth/totp/enrol",
        "/api/v1/auth/totp/confirm",
        "/login/totp",
        "/logout",
    }
)
ENROL_FIRST = (
    "请先绑定动态口令：POST /api/v1/auth/totp/enrol 获取密钥，再以 /api/v1/auth/totp/confirm 确认"
)


def _claims(token: str, secret: str) -> tuple[str, int, str, str, int | None, str]:
    claims: dict[str, Any] = decode_access_token(token, secret=secret)
    sub, uid, role = claims.get("sub"), claims.get("uid"), claims.get("role")
    jur, staff, sess = claims.get("jur"), claims.get("staff"), claims.get("sess")
    if (
        not isinstance(sub, str)
        or not isinstance(uid, int)
        or role not in ROLES
        or not isinstance(jur, str)
        or not (staff is None or isinstance(staff, int))
        or not isinstance(sess, str)
    ):
        raise Unauthorized("登录凭据无效，请重新登录")
    return sub, uid, role, jur, staff, sess


def _served_grids(db: Session, role: str, staff_id: int | None) -> frozenset[str]:
    """The grids a grid worker serves today: their rights to residents' details stop there
    (app/auth/policy.py: SERVED_GRIDS_ONLY)."""
    if role != Role.GRID_WORKER or staff_id is None:
        return frozenset()
    return frozenset(worker_grids(db, staff_id, today()))


def principal_from_token(request: Request, token: str) -> Principal:
    """The caller a token stands for, or 401 (bad signature, a missing claim, an ended session).
    A session that may only enrol a second factor reaches nothing else (403)."""
    cached = getattr(request.state, "principal_for", None)
    if cached is not None and cached[0] == token:
        return cached[1]  # the API and the page dependency of one request share the lookup
    settings = request.app.state.settings
    username, uid, role, jur, staff, sess = _claims(token, signing_key(settings))
    principal = Principal(
        username=username,
        role=role,
        jurisdiction_code=jur,
        user_id=uid,
        staff_id=staff,
        session_id=sess,
    )
    # The lookup works with the caller's own database access (their jurisdiction), nothing more.
    db = request_session(request, access_for(principal))
    try:
        row = sessions.live_session(
            db, sess, user_id=uid, cfg=settings.auth, now=sessions.now_utc()
        )
        purpose = row.purpose
        principal = replace(principal, served_grids=_served_grids(db, role, staff))
        db.commit()
    finally:
        db.close()
    if purpose == "enrol" and request.url.path not in ENROL_PATHS:
        raise Forbidden(ENROL_FIRST)
    request.state.principal_for = (token, principal)
    return principal


def _principal(request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]) -> Principal:
    if token:
        return principal_from_token(request, token)
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        return ANONYMOUS
    # The pages' cookie: an ended (or enrolment-only) session is simply no session for the API and
    # the login form (the pages themselves send the user to the login or enrolment page).
    try:
        return principal_from_token(request, cookie)
    except (Unauthorized, Forbidden):
        return ANONYMOUS


async def _logged_in(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
    if principal.is_anonymous:
        raise Unauthorized("请先登录")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(_principal)]
CurrentUser = Annotated[Principal, Depends(_logged_in)]


def get_session(request: Request, principal: CurrentPrincipal) -> Iterator[Session]:
    """The request's session, working with the caller's database access; committed when the route
    returns, before the response is sent (app/db.py)."""
    with request_unit(request, access_for(principal)) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def require_roles(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """Dependency factory: the caller must be logged in with one of ``roles``."""

    async def _check(principal: CurrentUser) -> Principal:
        if principal.role not in roles:
            allowed = "、".join(ROLE_LABELS[r] for r in roles)
            raise Forbidden(
                f"此操作仅限{allowed}；当前角色为{ROLE_LABELS.get(principal.role, principal.role)}"
            )
        return principal

    return _check
