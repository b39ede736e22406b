"""What every page needs: the templates, the caller read from the ``gridgov_token`` cookie, and the
area the page is about, checked against the caller's jurisdiction (403 page, never an empty map)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import text
from sqlalchemy.orm import Session

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
from app.errors import Forbidden, InvalidInput, Unauthorized

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
templates = Jinja2Templates(directory=WEB_DIR / "templates")

# The pages and what each shows, as (resource, action) of the policy table: a role sees a page in
# the navigation bar, and may open it, when the policy lets it do that (the API still enforces every
# action and area on the data the page loads).
NAV: list[tuple[str, str, Resource, Action]] = [
    ("/console", "调度台", Resource.INCIDENT, Action.READ),
    ("/maps/coverage", "覆盖地图", Resource.REGISTRY, Action.READ),
    ("/maps/visits", "走访地图", Resource.VISIT, Action.READ),
    ("/maps/cases", "案件地图", Resource.INCIDENT, Action.READ),
    ("/planner", "边界编辑", Resource.PLAN, Action.UPDATE),
    ("/dashboard", "考核看板", Resource.KPI, Action.READ),
    ("/m/", "网格员", Resource.VISIT, Action.CREATE),
]
_PAGES = {href: (resource, action) for href, _, resource, action in NAV}

# Where a role lands after signing in when not its first page in NAV's order (role-specific
# behaviour, not a permission: the page itself is still checked).
_LANDING: dict[str, str] = {Role.GRID_WORKER: "/m/", Role.AUDITOR: "/maps/coverage"}


def nav_for(principal: Principal) -> list[tuple[str, str]]:
    """The pages ``principal`` may open, in the navigation bar's order."""
    return [(href, label) for href, label, res, act in NAV if principal.may(res, act)]


def landing_page(principal: Principal) -> str:
    pages = [href for href, _ in nav_for(principal)]
    first = _LANDING.get(principal.role)
    if first in pages:
        return first
    return pages[0] if pages else "/maps/coverage"


def require_page(principal: Principal, href: str) -> None:
    """A page the policy does not open to ``principal``: a 403 page naming who may use it."""
    resource, action = _PAGES[href]
    if not principal.may(resource, action):
        raise PageError(403, f"此页面仅限{roles_label(allowed_roles(resource, action))}使用")


class LoginRequired(Exception):
    """Raised by page dependencies; the handler in pages.py redirects to /login?next=..."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


class PageError(Exception):
    """A page that cannot be shown: rendered as an HTML error page with the given status."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message


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
    except Forbidden as exc:  # a session that may only enrol its second factor
        raise PageError(403, exc.message) from exc
    if principal.is_public:
        raise PageError(403, "公众账号无权使用工作台")
    return principal


PagePrincipal = Annotated[Principal, Depends(page_principal)]


def area_info(session: Session, code: str) -> dict[str, Any] | None:
    row = session.execute(
        text(
            "SELECT code, name, level, parent_code FROM areas WHERE code = :c AND valid_to IS NULL"
        ),
        {"c": code},
    ).first()
    return dict(row._mapping) if row else None


def area_crumbs(session: Session, jurisdiction: str, code: str) -> list[dict[str, str]]:
    """The areas from the caller's jurisdiction down to ``code`` with their names (a grid code ends
    with its grid), for breadcrumbs; an unknown code keeps its code as its name."""
    codes = [code[:n] for n in (6, 9, 12, 15) if len(jurisdiction) <= n <= len(code)]
    rows = session.execute(
        text(
            "SELECT code, name FROM areas WHERE code = ANY(:c) AND valid_to IS NULL "
            "UNION ALL SELECT code, name FROM grids WHERE code = ANY(:c) AND status = 'active'"
        ),
        {"c": codes},
    )
    names = {r.code: r.name for r in rows}
    return [{"code": c, "name": names.get(c, c)} for c in codes]


def checked_area(principal: Principal, area: str | None) -> str:
    """The area a page shows: the one asked for if the caller may see it (``AreaScope.narrow``),
    else an error page (422 for a malformed code, 403 outside the jurisdiction)."""
    try:
        if area:
            check_area_code(area)
        return scope_of(principal).narrow(area).prefix
    except InvalidInput as exc:
        raise PageError(422, exc.message) from exc
    except Forbidden as exc:
        raise PageError(403, f"您无权查看：{exc.message}") from exc


AreaQuery = Annotated[str | None, Query(description="area or grid code; default: own jurisdiction")]


def page_context(request: Request, principal: Principal, **extra: Any) -> dict[str, Any]:
    settings = request.app.state.settings
    cfg = {
        "area": extra.get("area") or principal.scope_prefix,
        "jurisdiction": principal.scope_prefix,
        "role": principal.role,
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


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status)


def login_redirect(next_url: str) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(next_url)}", status_code=303)
