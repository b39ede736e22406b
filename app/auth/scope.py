"""The access dependency every surface uses: who the caller is, what they may do, and which area
their request reaches (docs/security.md#access).

A route asks for ``Access(resource, action)``: the caller must be allowed by the policy table
(``app.auth.policy.POLICY``), and gets an ``AreaScope``: their jurisdiction, narrowed to the
``area`` they asked for if they asked for one inside it. Services take the scope and filter with
``scope.clause(column)`` (SQLAlchemy) or ``scope.params()`` with ``{scope_filter}`` (text SQL), and
check single records with ``scope.require(code)``, which answers a record outside the scope exactly
like a missing one: the caller learns nothing about records they may not see.

Row-level security holds the same line in PostgreSQL (app/db.py, migration 0012), so a filter
forgotten here still returns nothing outside the caller's area. The test switch
``Settings.access_app_filters = False`` turns the application-side filters off so that tests can
prove the database alone holds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import Query, Request
from sqlalchemy import ColumnElement, and_, false, literal, true

from app.auth.deps import CurrentPrincipal
from app.auth.policy import (
    Action,
    Field,
    Principal,
    Resource,
    allowed_roles,
    role_label,
    roles_label,
    scope_range,
    within,
)
from app.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from gis.codes import BadAreaCode, canonical

# An area or grid code's digits (2, 4, 6, 9, 12 or 15); gis.codes.canonical has the last word.
AREA_CODE_PATTERN = r"^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15})$"


@dataclass(frozen=True)
class AreaScope:
    """The area a request reaches: a code prefix inside the caller's jurisdiction."""

    principal: Principal
    prefix: str
    # False only under the test switch: the database's row-level security must hold alone.
    app_filters: bool = True
    # True once narrowed to an area the request named: that area is what the request is about,
    # so it is filtered on even for a system job and under the test switch (only the
    # jurisdiction filter is switched off; the database must then hide what lies outside).
    narrowed: bool = False

    @property
    def everything(self) -> bool:
        """No filter applies: a system job on the whole county, or the jurisdiction filter switched
        off by the test switch, in both cases without an area named."""
        return (self.principal.system or not self.app_filters) and not self.narrowed

    def covers(self, code: str | None) -> bool:
        if self.everything:
            return code is not None
        return within(code, self.prefix)

    def require(self, code: str | None, *, missing: str) -> None:
        """A record at ``code`` the caller may not see is answered as missing (404, ``missing``)."""
        if not self.covers(code):
            raise NotFound(missing)

    def clause(self, column: Any) -> ColumnElement[bool]:
        """``column`` (an area/grid code) lies in the scope, as a range the index answers."""
        if self.everything:
            return true()
        if not self.prefix:
            return false()
        lo, hi = scope_range(self.prefix)
        return and_(column >= literal(lo), column < literal(hi))

    def sql(self, column: str) -> str:
        """The same condition for text SQL; bind ``**scope.params()``."""
        if self.everything:
            return "true"
        return f"({column} >= :scope_lo AND {column} < :scope_hi)"

    def params(self) -> dict[str, str]:
        lo, hi = scope_range(self.prefix) if self.prefix else ("~", "~")
        return {"scope_lo": lo, "scope_hi": hi}

    def narrow(self, area: str | None) -> AreaScope:
        """The scope limited to ``area`` (a code the caller named), refused if outside theirs."""
        if not area:
            return self
        if not self.everything and not within(area, self.prefix):
            # The caller named this area themselves, so naming it back tells them nothing new.
            raise Forbidden(f"区域 {area} 不在您的辖区内", area=area)
        return replace(self, prefix=area, narrowed=True)

    def sees(self, what: Field, grid_code: str | None) -> bool:
        return self.principal.sees(what, grid_code)


def _check(principal: Principal, resource: Resource, action: Action) -> None:
    roles = allowed_roles(resource, action)
    if principal.role in roles:  # the anonymous caller has the public role
        return
    if principal.is_anonymous:
        raise Unauthorized("请先登录")
    raise Forbidden(f"此操作仅限{roles_label(roles)}；当前角色为{role_label(principal.role)}")


def _app_filters(request: Request) -> bool:
    """The application filters are on, except under the test switch in the test environment."""
    settings = request.app.state.settings
    return bool(settings.access_app_filters) or settings.environment != "test"


def scope_of(principal: Principal, *, app_filters: bool = True) -> AreaScope:
    return AreaScope(principal, principal.scope_prefix, app_filters=app_filters)


def require(principal: Principal, resource: Resource, action: Action) -> None:
    """Refuse (401/403) unless the policy lets ``principal`` do ``action`` on ``resource``."""
    _check(principal, resource, action)


def access(resource: Resource, action: Action = Action.READ) -> Callable[..., Awaitable[AreaScope]]:
    """Dependency: the caller may do ``action`` on ``resource``; gives their ``AreaScope``,
    narrowed to the request's ``area`` parameter when it has one."""

    async def _dep(
        request: Request,
        principal: CurrentPrincipal,
        area: Annotated[
            str | None,
            Query(
                pattern=AREA_CODE_PATTERN,
                description="area or grid code; default: own jurisdiction",
            ),
        ] = None,
    ) -> AreaScope:
        _check(principal, resource, action)
        return scope_of(principal, app_filters=_app_filters(request)).narrow(
            check_area_code(area) if area else area
        )

    return _dep


def access_whole(
    resource: Resource, action: Action = Action.READ
) -> Callable[..., Awaitable[AreaScope]]:
    """Like ``access`` for routes that take no ``area`` parameter."""

    async def _dep(request: Request, principal: CurrentPrincipal) -> AreaScope:
        _check(principal, resource, action)
        return scope_of(principal, app_filters=_app_filters(request))

    return _dep


def check_area_code(area: str) -> str:
    """An area or grid code as typed by a person (2, 4, 6, 9, 12 or 15 digits, or padded with
    zeros as 330200), in its one canonical form (gis.codes.canonical)."""
    try:
        return canonical(area)
    except BadAreaCode as exc:
        raise InvalidInput(str(exc), field="area") from exc
