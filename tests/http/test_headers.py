"""Security headers on every kind of response; no inline script in any page; cookies Secure behind
an HTTPS proxy."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from app.http import cookie_options

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def _assert_secured(r) -> None:  # type: ignore[no-untyped-def]
    assert r.headers["content-security-policy"] == CSP
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in r.headers  # plain HTTP here


def test_headers_on_a_page_an_api_answer_a_static_file_and_errors(client, token_for) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/login")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    api = client.get("/api/v1/locate", params={"lng": 113.002, "lat": 34.005})
    static = client.get("/static/gridgov/api.js")
    assert static.status_code == 200
    missing = client.get("/api/v1/incidents/1", headers=token_for("dispatcher"))
    assert missing.status_code == 404
    too_big = client.post("/api/v1/plans", content=b"x" * (2 << 20))
    assert too_big.status_code == 413
    for r in (page, api, static, missing, too_big):
        _assert_secured(r)


def test_headers_on_an_unexpected_500(app_factory) -> None:  # type: ignore[no-untyped-def]
    app = app_factory()

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom")
    assert r.status_code == 500
    _assert_secured(r)


def test_basemap_host_may_serve_images(app_factory) -> None:  # type: ignore[no-untyped-def]
    app = app_factory(basemap_url="https://{s}.tiles.county.example/xyz/{z}/{x}/{y}.png")
    with TestClient(app) as c:
        csp = c.get("/login").headers["content-security-policy"]
    assert "img-src 'self' data: blob: https://*.tiles.county.example;" in csp
    assert "connect-src 'self';" in csp and "script-src 'self';" in csp


def test_api_docs_allow_only_their_own_inline_script(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/docs")
    inline = re.findall(r"<script>(.*?)</script>", r.text, re.S)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    csp = r.headers["content-security-policy"]
    assert (
        f"'sha256-{digest}'" in csp
        and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    )
    assert "frame-ancestors 'none'" in csp and r.headers["x-frame-options"] == "DENY"


def test_api_docs_need_no_network(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/docs").text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sorted(assets) == [
        "/static/swagger-ui/favicon-32x32.png",
        "/static/swagger-ui/swagger-ui-bundle.js",
        "/static/swagger-ui/swagger-ui.css",
    ]
    assert all(client.get(a).status_code == 200 for a in assets)
    assert client.get("/redoc").status_code == 404  # ReDoc would need its CDN


def test_audit_report_is_a_download(client, county, token_for) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/audits?area=419901&f=html", headers=token_for("auditor"))
    assert r.status_code == 201
    assert re.fullmatch(r'attachment; filename="audit_\d+\.html"', r.headers["content-disposition"])
    _assert_secured(r)  # opened inline anyway, its inline scripts would not run in our origin


PAGES = [
    "/console",
    "/maps/coverage",
    "/maps/visits",
    "/maps/cases",
    "/planner",
    "/dashboard",
    "/m/",
]
_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)
_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


@pytest.mark.parametrize("path", [*PAGES, "/login", "/console?area=1"])
def test_no_inline_script_in_any_page(client, cookie_login, path) -> None:  # type: ignore[no-untyped-def]
    # county admins see every page but the grid worker's own
    cookie_login(client, "grid_worker" if path == "/m/" else "county_admin")
    if path == "/login":
        client.cookies.clear()
    r = client.get(path, follow_redirects=False)
    assert r.status_code in (200, 422), r.text[:300]  # 422: the error page for a bad area code
    for attrs, body in _SCRIPT.findall(r.text):
        if "src=" in attrs:
            assert body.strip() == ""
        else:  # data for the page's script, never code
            assert 'type="application/json"' in attrs and 'id="gg-config"' in attrs
    assert _HANDLER.search(r.text) is None
    assert "javascript:" not in r.text


def test_page_config_says_whether_the_cases_map_is_read_only(client, cookie_login) -> None:  # type: ignore[no-untyped-def]
    cookie_login(client, "county_admin")
    for path, readonly in (("/maps/cases", "true"), ("/console", "false")):
        config = re.search(r'id="gg-config"[^>]*>(.*?)</script>', client.get(path).text, re.S)
        assert config is not None and f'"readonly": {readonly}' in config.group(1)


# -- cookies ------------------------------------------------------------------------------------


def _request(scheme: str) -> Request:
    return Request({"type": "http", "scheme": scheme, "headers": [], "method": "GET", "path": "/"})


def test_cookie_options_follow_the_scheme() -> None:
    base = {"httponly": True, "samesite": "lax", "path": "/"}
    assert cookie_options(_request("http")) == {**base, "secure": False}
    assert cookie_options(_request("https")) == {**base, "secure": True}


def _set_cookies(r) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {c.split("=", 1)[0]: c for c in r.headers.get_list("set-cookie")}


HTTPS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}


def test_cookies_are_secure_behind_a_trusted_https_proxy(app_factory) -> None:  # type: ignore[no-untyped-def]
    # The test client connects from "testclient": trusted here, as a reverse proxy would be.
    with TestClient(app_factory(trusted_proxies=["testclient"])) as c:
        r = c.get("/login", headers=HTTPS)
    csrf = _set_cookies(r)["gridgov_csrf"]
    assert "; Secure" in csrf and "SameSite=Lax" in csrf and "HttpOnly" not in csrf
    assert r.headers["strict-transport-security"] == "max-age=31536000"


def test_forwarded_https_from_an_untrusted_client_is_ignored(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/login", headers=HTTPS)  # default: only 127.0.0.1 is a trusted proxy
    assert "Secure" not in _set_cookies(r)["gridgov_csrf"]
    assert "strict-transport-security" not in r.headers


def test_login_cookie_is_httponly_lax_and_secure_over_https(app_factory, db) -> None:  # type: ignore[no-untyped-def]
    from app.auth.models import User
    from app.auth.security import hash_password

    db.add(
        User(
            username="edge-disp",
            password_hash=hash_password("a-long-test-passphrase"),
            role="dispatcher",
            jurisdiction_code="419901",
        )
    )
    db.commit()
    with TestClient(app_factory(trusted_proxies=["testclient"])) as c:
        form = c.get("/login", headers=HTTPS)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        # The browser got a Secure cookie over HTTPS and sends it back (the test client, speaking
        # plain HTTP to the app as the proxy does, would not: it is given by hand).
        c.cookies.clear()
        r = c.post(
            "/login",
            data={"username": "edge-disp", "password": "a-long-test-passphrase",
                  "next": "/", "csrf_token": token.group(1)},
            headers={**HTTPS, "Cookie": f"gridgov_csrf={token.group(1)}"},
            follow_redirects=False,
        )  # fmt: skip
    assert r.status_code == 303, r.text[:300]
    session = _set_cookies(r)["gridgov_token"]
    assert "HttpOnly" in session and "SameSite=lax" in session and "Secure" in session
