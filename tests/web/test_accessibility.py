"""Accessibility: axe-core (vendored, web/static/vendor/axe-core) on every page for every role that
may open it, failing on any serious or critical violation (WCAG 2.1 A/AA rules and axe's best
practices).

The pages come from the registries, not a hand list: each role's pages are the navigation the
policy gives it (``app.web.deps.nav_for``), plus the phone pages the app routes under ``/m/``,
plus the pages outside the navigation: the login form (fresh and after a refused password), the
403 page of each role, a resident's ``/follow/`` page and an audit's HTML report. The roles are
every role of the policy except the public; one without a user in the fixture data gets one made
here, so a role added later is checked too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from app.auth.policy import Principal, Role
from app.web.deps import NAV, nav_for
from tests.web.conftest import PASSWORD, USERS, Watched
from tests.web.test_console_stream import G11_POINT, report

pytestmark = pytest.mark.browser

AXE = "/static/vendor/axe-core/axe.min.js"
VENDOR = Path(__file__).resolve().parents[2] / "web" / "static" / "vendor" / "axe-core"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING = {"serious", "critical"}
PHONE = {"width": 390, "height": 844}

# One user per role: the first in USERS with that role in the tiny county; a role USERS has no user
# for (a role added to the policy later) gets one made here, so no role is left out.
ROLE_USER: dict[str, tuple[str, str]] = {}
for _name, _role, _jur, _ in USERS:
    if _jur.startswith("419901"):
        ROLE_USER.setdefault(_role, (_name, _jur))
STAFF_ROLES = sorted({r.value for r in Role} - {Role.PUBLIC.value})


@pytest.fixture
def role_user(engine: Engine, web_data: None, request: Any) -> Iterator[str]:
    role = request.param
    if role in ROLE_USER:
        yield ROLE_USER[role][0]
        return
    from app.auth.security import hash_password

    name = f"a11y_{role}"[:64]
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE username = :u"), {"u": name})
        conn.execute(
            text(
                "INSERT INTO users (username, full_name, password_hash, role, jurisdiction_code) "
                "VALUES (:u, :u, :pw, :r, '419901')"
            ),
            {"u": name, "pw": hash_password(PASSWORD), "r": role},
        )
    try:
        yield name
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE username = :u"), {"u": name})


def _pages(role: str, jur: str) -> list[str]:
    principal = Principal(username="x", role=role, jurisdiction_code=jur)
    return [href for href, _ in nav_for(principal)]


def _phone_pages() -> list[str]:
    """GET pages the app routes under /m/ without path parameters (not the service worker)."""
    from app.main import create_app
    from app.settings import Settings

    app = create_app(Settings(environment="test", locate_refresh_seconds=0))
    paths = {
        r.path
        for r in app.routes
        if getattr(r, "path", "").startswith("/m/")
        and "GET" in (getattr(r, "methods", None) or ())
        and "{" not in r.path
        and not r.path.endswith(".js")
    }
    return sorted(paths)


def _violations(page: Any) -> list[dict[str, Any]]:
    if not page.evaluate("() => !!window.axe"):
        if page.url.startswith("file:"):
            page.add_script_tag(path=str(VENDOR / "axe.min.js"))
        else:
            page.add_script_tag(url=AXE)
    result = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}))",
        TAGS,
    )
    return [v for v in result if v["impact"] in BLOCKING]


def _settle(page: Any) -> None:
    # Pages with a live stream never go network-idle: wait for the load, then for the first data.
    page.wait_for_load_state("load")
    page.wait_for_timeout(1200)


def _check(page: Any, where: str, found: dict[str, Any]) -> None:
    _settle(page)
    bad = _violations(page)
    if bad:
        found[where] = bad


def _report(found: dict[str, Any]) -> str:
    return json.dumps(found, ensure_ascii=False, indent=1)


@pytest.mark.parametrize("role_user", STAFF_ROLES, indirect=True)
def test_axe_finds_nothing_serious_on_any_page_of_the_role(web: Watched, role_user: str) -> None:
    page = web.page
    found: dict[str, Any] = {}
    web.login(role_user)
    me = page.request.get(f"{web.base}/api/v1/auth/me").json()
    pages = _pages(me["role"], me["jurisdiction_code"])  # none for a role without pages: 403 only
    if "/m/" in pages:  # the phone pages under /m/ are the grid worker's: all of them
        pages += [p for p in _phone_pages() if p not in pages]
    for href in pages:
        page.set_viewport_size(PHONE if href.startswith("/m/") else {"width": 1280, "height": 800})
        resp = page.goto(web.base + href)
        if resp is None or resp.status != 200:
            found[href] = f"HTTP {resp.status if resp else '—'}"
            continue
        _check(page, href, found)
    # The 403 page as this role sees it: a page of the navigation it is not given, else an area
    # outside its jurisdiction.
    refused = [href for href, *_ in NAV if href not in pages]
    page.set_viewport_size({"width": 1280, "height": 800})
    target = refused[0] if refused else pages[0] + "?area=419902"
    resp = page.goto(web.base + target)
    assert resp is not None and resp.status == 403
    _check(page, f"403 {target}", found)
    assert found == {}, _report(found)


def test_axe_finds_nothing_serious_on_the_pages_outside_the_navigation(
    web: Watched, tmp_path: Path
) -> None:
    page = web.page
    found: dict[str, Any] = {}
    page.goto(web.base + "/login")
    _check(page, "/login", found)
    page.fill("input[name=username]", "disp")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    page.locator("#login-error").wait_for()
    _check(page, "/login (refused)", found)

    # A resident's follow page, from an anonymous report's receipt, on a phone.
    page.set_viewport_size(PHONE)
    receipt = report(web.base, {}, {**G11_POINT, "reporter_phone": "13900000000"}, "楼道垃圾")
    page.goto(web.base + receipt["follow_url"])
    _check(page, "/follow/", found)

    # An audit's stored HTML report, read back with GET.
    page.set_viewport_size({"width": 1280, "height": 800})
    web.login("auditor", "/audits?area=419901")
    csrf = web.cookie("gridgov_csrf")
    run = page.request.post(f"{web.base}/api/v1/audits?area=419901", headers={"X-CSRF-Token": csrf})
    assert run.status == 201, run.text()
    body = page.request.get(f"{web.base}/api/v1/audits/{run.json()['id']}?f=html")
    assert body.status == 200
    saved = tmp_path / "report.html"  # a download: opened as the auditor opens the saved file
    saved.write_bytes(body.body())
    page.goto(saved.as_uri())
    page.locator(".leaflet-container").wait_for()
    _check(page, "audit report", found)
    assert found == {}, _report(found)
