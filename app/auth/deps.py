"""FastAPI dependencies for the caller: ``CurrentPrincipal`` (may be anonymous), ``CurrentUser``
(must be logged in) and ``require_roles(...)``; routes stay one screen long."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from app.auth.policy import ANONYMOUS, ROLE_LABELS, Principal
from app.auth.security import decode_access_token
from app.errors import Forbidden, Unauthorized

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def _principal(
    request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    if token is None:
        token = request.cookies.get("gridgov_token")
    if not token:
        return ANONYMOUS
    claims = decode_access_token(token, secret=request.app.state.settings.secret_key)
    return Principal(
        username=claims["sub"],
        role=claims["role"],
        jurisdiction_code=claims["jur"],
        user_id=claims.get("uid"),
        staff_id=claims.get("sid"),
    )


async def _logged_in(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
    if principal.is_anonymous:
        raise Unauthorized("请先登录")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(_principal)]
CurrentUser = Annotated[Principal, Depends(_logged_in)]


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
