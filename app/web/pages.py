"""HTML pages: login, dispatch console, maps, boundary editor, grid worker page, dashboard.

Pages are thin: they check who is asking and which area, then render a template whose script loads
the data from the same JSON endpoints every other client uses
(docs/architecture.md#one-resource-several-formats). A page that cannot be shown raises the API's
domain errors (``app.errors``), rendered for a browser as the HTML error page; a page without a
session sends the browser to the login page (``LoginRequired``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import FileResponse, RedirectResponse

from app.auth import service as auth_service
from app.auth.deps import CurrentPrincipal, SessionDep
from app.auth.policy import Action, Resource
from app.auth.router import client_address
from app.errors import GridgovError
from app.http.cookies import cookie_options
from app.web.deps import (
    COOKIE,
    AreaQuery,
    PagePrincipal,
    area_crumbs,
    area_info,
    checked_area,
    landing_page,
    page_context,
    render,
    require_page,
)
from app.web.templating import WEB_DIR

router = APIRouter(tags=["web"], include_in_schema=False)


def _safe_next(next_url: str | None) -> str:
    # Only local paths: a login form must not become an open redirect.
    if next_url and next_url.startswith("/") and not next_url.startswith("//"):
        return next_url
    return "/"


def _login_form(
    request: Request, next_url: str | None, *, status: int = 200, **extra: object
) -> Response:
    ctx = {"request": request, "next": _safe_next(next_url), "nav": [], **extra}
    return render(request, "login.html", ctx, status=status)


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return _login_form(request, next)


@router.post("/login")
def login_submit(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=128)],
    totp: Annotated[str, Form(max_length=8)] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """The same sign-in as POST /api/v1/auth/token (same limits, same messages); the token goes into
    an HttpOnly cookie. A refusal is answered, not raised, so the failure is counted."""
    try:
        signed = auth_service.sign_in(
            session,
            username=username,
            password=password,
            code=totp or None,
            address=client_address(request),
            kind="page",
            settings=request.app.state.settings,
        )
    except auth_service.LoginRefused as exc:
        response = _login_form(
            request,
            next,
            status=exc.status_code,
            error=exc.message,
            username=username,
            totp_required=bool(exc.detail.get("totp_required")),
        )
        response.headers.update(exc.headers)
        return response
    target = "/login/totp" if signed.session.purpose == "enrol" else _safe_next(next)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE, signed.access_token, max_age=signed.expires_in, **cookie_options(request)
    )
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """End the session (not just the cookie): the token stops working everywhere at once."""
    if not principal.is_anonymous:
        auth_service.sign_out(
            session,
            session_id=principal.session_id,
            username=principal.username,
            address=client_address(request),
        )
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/login/totp")
def totp_page(request: Request, session: SessionDep, principal: PagePrincipal) -> Response:
    """Enrol a second factor: a new secret to type (or paste the URI) into an authenticator app."""
    user = auth_service.user_by_id(session, principal.user_id or 0)
    if user.totp_enabled_at is not None:
        return RedirectResponse("/", status_code=303)
    secret, uri = auth_service.start_totp_enrolment(
        session, user, settings=request.app.state.settings
    )
    ctx = {"request": request, "nav": [], "secret": secret, "uri": uri}
    return render(request, "totp.html", ctx)


@router.post("/login/totp")
def totp_confirm(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    code: Annotated[str, Form(max_length=8)],
) -> Response:
    user = auth_service.user_by_id(session, principal.user_id or 0)
    try:
        auth_service.confirm_totp_enrolment(
            session,
            user,
            code=code,
            settings=request.app.state.settings,
            address=client_address(request),
        )
    except GridgovError as exc:  # the same error, saying what to do next
        exc.message = f"{exc.message}（返回上一页重新获取密钥）"
        raise
    response = _login_form(request, "/", notice="动态口令已启用，请重新登录（需输入动态口令）")
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/")
def home(principal: PagePrincipal) -> Response:
    """Each role lands on its own first page."""
    return RedirectResponse(landing_page(principal), status_code=303)


def _map_page(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    area: str | None,
    page: str,
    name: str,
    **extra: object,
) -> Response:
    """``page`` (its path in NAV) for ``area``, if the policy opens it to the caller."""
    require_page(principal, page)
    code = checked_area(principal, area)
    info = area_info(session, code)
    crumbs = area_crumbs(session, principal.scope_prefix, code)
    ctx = page_context(request, principal, area=code, area_info=info, crumbs=crumbs, **extra)
    ctx["cfg"]["crumbs"] = crumbs
    ctx["cfg"]["readonly"] = bool(extra.get("readonly"))
    ctx["cfg"]["may_approve"] = bool(extra.get("may_approve"))
    ctx["cfg"]["may_run"] = bool(extra.get("may_run"))
    ctx["cfg"]["may_edit_micro"] = bool(extra.get("may_edit_micro"))
    return render(request, name, ctx)


@router.get("/console")
def console(
    request: Request, session: SessionDep, principal: PagePrincipal, area: AreaQuery = None
) -> Response:
    return _map_page(request, session, principal, area, "/console", "console.html")


@router.get("/maps/coverage")
def coverage_map(
    request: Request, session: SessionDep, principal: PagePrincipal, area: AreaQuery = None
) -> Response:
    may_edit_micro = principal.may(Resource.MICRO_GRID, Action.UPDATE)
    return _map_page(
        request,
        session,
        principal,
        area,
        "/maps/coverage",
        "coverage.html",
        may_edit_micro=may_edit_micro,
    )


@router.get("/maps/visits")
def visits_map(
    request: Request, session: SessionDep, principal: PagePrincipal, area: AreaQuery = None
) -> Response:
    return _map_page(request, session, principal, area, "/maps/visits", "visits.html")


@router.get("/maps/cases")
def cases_map(
    request: Request, session: SessionDep, principal: PagePrincipal, area: AreaQuery = None
) -> Response:
    return _map_page(
        request, session, principal, area, "/maps/cases", "console.html", readonly=True
    )


@router.get("/planner")
def planner(
    request: Request, session: SessionDep, principal: PagePrincipal, area: AreaQuery = None
) -> Response:
    may_approve = principal.may(Resource.PLAN, Action.APPROVE)
    return _map_page(
        request, session, principal, area, "/planner", "planner.html", may_approve=may_approve,
        may_create_plan=principal.may(Resource.PLAN, Action.CREATE),
    )  # fmt: skip


@router.get("/dashboard")
def dashboard(
    request: Request, session: SessionDep, principal: PagePrincipal, area: AreaQuery = None
) -> Response:
    return _map_page(request, session, principal, area, "/dashboard", "dashboard.html")


@router.get("/audits")
def audits(
    request: Request, session: SessionDep, principal: PagePrincipal, area: AreaQuery = None
) -> Response:
    """Coverage audits of an area: past runs, findings by kind on a map; those the policy lets
    run one get the button (docs/audits.md)."""
    may_run = principal.may(Resource.AUDIT, Action.CREATE)
    return _map_page(request, session, principal, area, "/audits", "audits.html", may_run=may_run)


@router.get("/admin/units")
def units_admin(
    request: Request, session: SessionDep, principal: PagePrincipal, area: AreaQuery = None
) -> Response:
    """Responsible units, their staff and the routing table (county admins); those the policy lets
    give logins also see the area's building leaders and unit stewards (docs/duties.md)."""
    extra = {"may_grant_desk": principal.may(Resource.USER, Action.CREATE)}
    return _map_page(request, session, principal, area, "/admin/units", "units.html", **extra)


@router.get("/m/")
def worker(request: Request, session: SessionDep, principal: PagePrincipal) -> Response:
    return _map_page(request, session, principal, None, "/m/", "worker.html")


@router.get("/m/sw.js", include_in_schema=False)
def worker_service_worker() -> Response:
    """The phone page's service worker (web/static/sw.js), served under /m/ so that its scope is
    the page; no data of anyone, and never cached by HTTP so an update reaches phones at once."""
    return FileResponse(
        WEB_DIR / "static" / "sw.js",
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache"},
    )
