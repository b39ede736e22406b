"""HTML pages: login, dispatch console, maps, boundary editor, grid worker page, dashboard.

Pages are thin: they check who is asking and which area, then render a template whose script loads
the data from the same JSON endpoints every other client uses (ENGINEERING.md practice 11).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from app.auth import service as auth_service
from app.auth.policy import ROLE_LABELS
from app.db import SessionDep
from app.errors import GridgovError
from app.web.deps import (
    COOKIE,
    NAV,
    AreaQuery,
    LoginRequired,
    PageError,
    PagePrincipal,
    area_crumbs,
    area_info,
    checked_area,
    login_redirect,
    page_context,
    render,
    templates,
)


class PageRoute(APIRoute):
    """Turns LoginRequired into a redirect and PageError into an HTML error page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired as exc:
                return login_redirect(exc.next_url)
            except PageError as exc:
                return templates.TemplateResponse(
                    request,
                    "error.html",
                    {"request": request, "status": exc.status, "message": exc.message, "nav": []},
                    status_code=exc.status,
                )

        return run


router = APIRouter(tags=["web"], include_in_schema=False, route_class=PageRoute)


def _safe_next(next_url: str | None) -> str:
    # Only local paths: a login form must not become an open redirect.
    if next_url and next_url.startswith("/") and not next_url.startswith("//"):
        return next_url
    return "/"


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"request": request, "next": _safe_next(next), "nav": []})


@router.post("/login")
def login_submit(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """The same check as POST /api/v1/auth/token; the JWT goes into an HttpOnly cookie."""
    try:
        user = auth_service.authenticate(session, username=username, password=password)
    except GridgovError as exc:
        ctx = {"request": request, "next": _safe_next(next), "error": exc.message, "nav": []}
        return render(request, "login.html", ctx, status=401)
    settings = request.app.state.settings
    token = auth_service.issue_token(user, settings)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=settings.access_token_minutes * 60,
        httponly=True,
        samesite="strict",
        secure=settings.environment == "production",
    )
    return response


@router.post("/logout")
def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/")
def home(principal: PagePrincipal) -> Response:
    """Each role lands on its own first page."""
    first = next((href for href, _, roles in NAV if principal.role in roles), "/maps/coverage")
    return RedirectResponse(first, status_code=303)


def _map_page(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    area: str | None,
    name: str,
    **extra: object,
) -> Response:
    code = checked_area(principal, area)
    info = area_info(session, code[:12] if len(code) == 15 else code)
    crumbs = area_crumbs(session, principal.jurisdiction_code, code)
    ctx = page_context(request, principal, area=code, area_info=info, crumbs=crumbs, **extra)
    ctx["cfg"]["crumbs"] = crumbs
    return render(request, name, ctx)


def _require(principal: PagePrincipal, *roles: str) -> None:
    if principal.role not in roles:
        allowed = "、".join(ROLE_LABELS[r] for r in roles)
        raise PageError(403, f"此页面仅限{allowed}使用")


@router.get("/console")
def console(
    request: Request, session: SessionDep, principal: PagePrincipal, area: AreaQuery = None
) -> Response:
    _require(principal, "county_admin", "dispatcher")
    return _map_page(request, session, principal, area, "console.html")


@router.get("/maps/coverage")
def coverage_map(
    request: Request, session: SessionDep, principal: PagePrincipal, area: AreaQuery = None
) -> Response:
    return _map_page(request, session, principal, area, "coverage.html")


@router.get("/maps/visits")
def visits_map(
    request: Request, session: SessionDep, principal: PagePrincipal, area: AreaQuery = None
) -> Response:
    return _map_page(request, session, principal, area, "visits.html")


@router.get("/maps/cases")
def cases_map(
    request: Request, session: SessionDep, principal: PagePrincipal, area: AreaQuery = None
) -> Response:
    return _map_page(request, session, principal, area, "console.html", readonly=True)


@router.get("/planner")
def planner(
    request: Request, session: SessionDep, principal: PagePrincipal, area: AreaQuery = None
) -> Response:
    _require(principal, "county_admin", "planner")
    return _map_page(request, session, principal, area, "planner.html")


@router.get("/dashboard")
def dashboard(
    request: Request, session: SessionDep, principal: PagePrincipal, area: AreaQuery = None
) -> Response:
    return _map_page(request, session, principal, area, "dashboard.html")


@router.get("/m/")
def worker(request: Request, session: SessionDep, principal: PagePrincipal) -> Response:
    return _map_page(request, session, principal, None, "worker.html")
