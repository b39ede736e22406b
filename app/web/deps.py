"""What every page needs: the templates, the caller read from the ``gridgov_token`` cookie, and the
area the page is about, checked against the caller's jurisdiction (403 page, never an empty map).

A page refuses with the same domain errors as the API (``app.errors``: Forbidden, InvalidInput …);
the one renderer there answers a browser with the HTML error page. Only a missing session is not an
error: ``LoginRequired`` sends the browser to the login page (``to_login``)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from app.areas.service import current_area, current_names
from app.auth.deps import COOKIE, principal_from_token
from app.auth.policy import (
    ROLE_LABELS,
    Action,
    Principal,
    Resource,
    Role,
    allowed_roles,
    roles_label,
)
from app.auth.scope import check_area_code, scope_of
from app.errors import Forbidden, Unauthorized
from app.grids.service import active_names
from app.web.templating import templates

# The pages and what each shows, as (resource, action) of the policy table: a role sees a page in
# the navigation bar, and may open it, when the policy lets it do that (the API still enforces every
# action and area on the data the page loads).
NAV: list[tuple[str, str, Resource, Action]] = [
    ("/console", "调度台", Resource.INCIDENT, Action.READ),
    ("/maps/coverage", "覆盖地图", Resource.REGISTRY, Action.READ),
    ("/maps/visits", "走访地图", Resource.VISIT, Action.READ),
    ("/maps/cases", "案件地图", Resource.INCIDENT, Action.READ),
    ("/planner", "边界编辑", Resource.PLAN, Action.UPDATE),
    ("/addresses", "标准地址", Resource.ADDRESS, Action.UPDATE),
    ("/dashboard", "考核看板", Resource.KPI, Action.READ),
    ("/audits", "覆盖审计", Resource.AUDIT, Action.READ),
    ("/register", "实有人口", Resource.REGISTER_PROPOSAL, Action.READ),
    ("/m/", "网格员", Resource.VISIT, Action.CREATE),
    ("/b/", "楼栋", Resource.BUILDING_DESK, Action.READ),
    ("/admin/units", "承办单位", Resource.UNIT, Action.UPDATE),
    ("/wall", "指挥大屏", Resource.INCIDENT, Action.READ),
    ("/party", "党建引领", Resource.DUAL_SERVICE, Action.READ),
    ("/admission", "事务准入", Resource.GRID_TASK, Action.READ),
]
_PAGES = {href: (resource, action) for href, _, resource, action in NAV}
# Pages that show more than their own resource: each of these must be open to the role as well
# (the wall screen shows cases and the KPI league tables).
_ALSO: dict[str, tuple[tuple[Resource, Action], ...]] = {"/wall": ((Resource.KPI, Action.READ),)}


def _opens(principal: Principal, href: str) -> bool:
    resource, action = _PAGES[href]
    return all(principal.may(r, a) for r, a in ((resource, action), *_ALSO.get(href, ())))


# Where a role lands after signing in when not its first page in NAV's order (role-specific
# behaviour, not a permission: the page itself is still checked).
_LANDING: dict[str, str] = {Role.GRID_WORKER: "/m/", Role.AUDITOR: "/maps/coverage"}


def nav_for(principal: Principal) -> list[tuple[str, str]]:
    """The pages ``principal`` may open, in the navigation bar's order."""
    return [(href, label) for href, label, _, _ in NAV if _opens(principal, href)]


def landing_page(principal: Principal) -> str:
    pages = [href for href, _ in nav_for(principal)]
    first = _LANDING.get(principal.role)
    if first in pages:
        return first
    return pages[0] if pages else "/maps/coverage"


def require_page(principal: Principal, href: str) -> None:
    """A page the policy does not open to ``principal``: a 403 page naming who may use it."""
    if not _opens(principal, href):
        roles = allowed_roles(*_PAGES[href])
        for resource, action in _ALSO.get(href, ()):
            roles &= allowed_roles(resource, action)
        raise Forbidden(f"此页面仅限{roles_label(roles)}使用")


class LoginRequired(Exception):
    """A page asked for without a session: not an error, a way to the login page (``to_login``)."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def page_principal(request: Request) -> Principal:
    """The logged-in caller, or a redirect to the login page (an ended session counts as none)."""
    token = request.cookies.get(COOKIE)
    next_url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not token:
        raise LoginRequired(next_url)
    try:
        principal = principal_from_token(request, token)
    except Unauthorized as exc:
        raise LoginRequired(next_url) from exc
    if principal.is_public:
        raise Forbidden("公众账号无权使用工作台")
    return principal


PagePrincipal = Annotated[Principal, Depends(page_principal)]


def area_info(session: Session, code: str) -> dict[str, Any] | None:
    """The area a page is about (a grid's page is about its community)."""
    return current_area(session, code[:12] if len(code) == 15 else code)


def area_crumbs(session: Session, jurisdiction: str, code: str) -> list[dict[str, str]]:
    """The areas from the caller's jurisdiction down to ``code`` with their names (a grid code ends
    with its grid), for breadcrumbs; an unknown code keeps its code as its name."""
    codes = [code[:n] for n in (6, 9, 12, 15) if len(jurisdiction) <= n <= len(code)]
    names = current_names(session, codes) | active_names(session, codes)
    return [{"code": c, "name": names.get(c, c)} for c in codes]


def checked_area(principal: Principal, area: str | None) -> str:
    """The area a page shows: the one asked for if the caller may see it (``AreaScope.narrow``),
    else the error (InvalidInput for a malformed code, Forbidden outside the jurisdiction)."""
    if area:
        check_area_code(area)
    try:
        return scope_of(principal).narrow(area).prefix
    except Forbidden as exc:
        raise Forbidden(f"您无权查看：{exc.message}", **exc.detail) from exc


AreaQuery = Annotated[str | None, Query(description="area or grid code; default: own jurisdiction")]


def page_context(request: Request, principal: Principal, **extra: Any) -> dict[str, Any]:
    settings = request.app.state.settings
    cfg = {
        "area": extra.get("area") or principal.scope_prefix,
        "jurisdiction": principal.scope_prefix,
        "role": principal.role,
        "user": principal.username,  # shown in the page's header already
        "band": list(settings.household_band),
        "basemap_url": settings.basemap_url,
        "basemap_attribution": settings.basemap_attribution,
    }
    return {
        "cfg": cfg,
        "request": request,
        "user": principal,
        "role_label": ROLE_LABELS.get(principal.role, principal.role),
        "nav": nav_for(principal),
        "basemap_url": settings.basemap_url,
        "basemap_attribution": settings.basemap_attribution,
        "band": list(settings.household_band),
        **extra,
    }


def signed_in(request: Request) -> dict[str, Any]:
    """The navigation bar of the caller a page already identified in this request (the HTML error
    page keeps it: a 403 leaves the user where they can go on); nothing for an anonymous one."""
    cached = getattr(request.state, "principal_for", None)
    principal = cached[1] if cached else None
    if principal is None or principal.is_public or principal.is_anonymous:
        return {}
    return {
        "user": principal,
        "role_label": ROLE_LABELS.get(principal.role, principal.role),
        "nav": nav_for(principal),
    }


templates.env.globals["signed_in"] = signed_in


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status)


def to_login(request: Request, exc: Exception) -> RedirectResponse:
    """The handler for ``LoginRequired`` (app/main.py): back to this page after signing in."""
    next_url = exc.next_url if isinstance(exc, LoginRequired) else request.url.path
    return RedirectResponse(f"/login?next={quote(next_url)}", status_code=303)
