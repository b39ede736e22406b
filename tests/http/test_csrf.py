"""Cross-site writes: a cookie-authenticated write must echo the CSRF cookie; bearer clients and
anonymous callers are unaffected; intake takes only JSON or multipart."""

from __future__ import annotations

import pytest

from tests.http.conftest import IN_G11

REFUSED = "请求缺少有效的 CSRF 令牌（页面可能已过期）：请刷新页面后重试"
REPORT = {"category_code": "0401", "description": "垃圾堆积", **IN_G11}


def test_cookie_write_without_the_header_is_refused(client, county, cookie_login) -> None:  # type: ignore[no-untyped-def]
    cookie_login(client)
    r = client.post("/api/v1/incidents", json=REPORT)
    assert r.status_code == 403 and r.json()["detail"] == REFUSED
    wrong = client.post("/api/v1/incidents", json=REPORT, headers={"X-CSRF-Token": "forged"})
    assert wrong.status_code == 403
    # every unsafe method, whatever the route
    assert client.delete("/api/v1/plans/1").status_code == 403
    assert client.post("/api/v1/auth/logout").status_code == 403


def test_cookie_write_with_the_header_goes_through(client, county, cookie_login) -> None:  # type: ignore[no-untyped-def]
    csrf = cookie_login(client)
    r = client.post("/api/v1/incidents", json=REPORT, headers=csrf)
    assert r.status_code == 201, r.text
    assert r.json()["grid_code"] == "419901001001001"


def test_a_token_signed_by_another_key_is_refused(client, county, cookie_login) -> None:  # type: ignore[no-untyped-def]
    """The cookie is signed: a value planted by a neighbouring site (cookie tossing) is no good."""
    cookie_login(client)
    client.cookies.set("gridgov_csrf", "planted")
    r = client.post("/api/v1/incidents", json=REPORT, headers={"X-CSRF-Token": "planted"})
    assert r.status_code == 403


def test_bearer_writes_need_no_csrf_token(client, county, token_for) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/incidents", json=REPORT, headers=token_for("dispatcher"))
    assert r.status_code == 201, r.text
    # even from a browser that also holds a page cookie: the bearer token is the credential
    client.cookies.set("gridgov_token", "stale")
    r = client.post("/api/v1/incidents", json=REPORT, headers=token_for("dispatcher"))
    assert r.status_code == 201, r.text


def test_anonymous_writes_need_no_csrf_token(client, county) -> None:  # type: ignore[no-untyped-def]
    client.cookies.set("gridgov_csrf", "left-over")  # no session cookie: nothing to forge
    r = client.post("/api/v1/incidents", json=REPORT)
    assert r.status_code == 201, r.text


def test_login_form_needs_its_token(client) -> None:  # type: ignore[no-untyped-def]
    form = {"username": "nobody", "password": "wrong-password-1", "next": "/"}
    r = client.post("/login", data=form, headers={"Accept": "text/html"})
    assert r.status_code == 403 and REFUSED in r.text and "/login" in r.text
    page = client.get("/login")
    token = client.cookies["gridgov_csrf"]
    assert f'name="csrf_token" value="{token}"' in page.text
    r = client.post("/login", data={**form, "csrf_token": token})
    assert r.status_code == 401  # past the CSRF check, refused by the password check


def test_logout_form_carries_the_token(client, cookie_login) -> None:  # type: ignore[no-untyped-def]
    csrf = cookie_login(client, "county_admin")
    page = client.get("/maps/coverage")
    assert f'name="csrf_token" value="{csrf["X-CSRF-Token"]}"' in page.text
    assert client.post("/logout", follow_redirects=False).status_code == 403
    r = client.post("/logout", data={"csrf_token": csrf["X-CSRF-Token"]}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", None],
)
def test_intake_takes_only_json_or_multipart(client, county, content_type) -> None:  # type: ignore[no-untyped-def]
    import json

    headers = {"content-type": content_type} if content_type else {}
    r = client.post("/api/v1/incidents", content=json.dumps(REPORT), headers=headers)
    assert r.status_code == 415
    shown = (content_type or "（未声明）").split(";")[0].lower()
    assert r.json()["detail"] == (
        f"不支持的内容类型 {shown}；事件上报请用 application/json 或 multipart/form-data"
    )


def test_open311_form_posts_are_deliberately_form_encoded(client) -> None:  # type: ignore[no-untyped-def]
    """GeoReport v2 posts application/x-www-form-urlencoded: the body is read (no 415); the answer
    here is about the missing api_key."""
    r = client.post(
        "/open311/v2/requests.json", data={"service_code": "0401", "lat": 34.0, "long": 113.0}
    )
    assert r.status_code == 401 and "api_key" in r.text
