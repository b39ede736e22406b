"""Login failure handling: per username (423 with when to retry) and per address (429 with
Retry-After), shared through the database; the same on the login page; unknown users take as long
as known ones."""

from __future__ import annotations

import re
import statistics
import time

from fastapi.testclient import TestClient
from sqlalchemy import text

from app.auth.config import AuthSettings
from tests.auth.conftest import PASSWORD, login


def test_five_failures_lock_the_account_even_for_the_right_password(client, db, make_user):
    make_user("disp")
    for _ in range(4):
        r = login(client, "disp", "wrong-password")
        assert r.status_code == 401 and r.json()["detail"].startswith("用户名或密码错误")
    r = login(client, "disp", "wrong-password")
    assert r.status_code == 401 and "账号已锁定 15 分钟" in r.json()["detail"]
    r = login(client, "disp")  # the right password, but locked
    assert r.status_code == 423
    assert re.search(r"已锁定，请于 \d\d:\d\d（约 1[45] 分钟后）再试", r.json()["detail"])
    assert 840 <= int(r.headers["Retry-After"]) <= 900
    # Once the lock has passed, the right password works and clears the count.
    db.execute(text("UPDATE login_throttle SET locked_until = now() - interval '1 second'"))
    assert login(client, "disp").status_code == 200
    assert (
        db.execute(
            text("SELECT count(*) FROM login_throttle WHERE scope = 'user' AND key = 'disp'")
        ).scalar_one()
        == 0
    )


def test_warnings_count_down_before_the_lock(client, make_user):
    make_user("disp")
    details = [login(client, "disp", "nope-nope-1").json()["detail"] for _ in range(4)]
    assert details[:2] == ["用户名或密码错误", "用户名或密码错误"]
    assert "再失败 2 次" in details[2] and "再失败 1 次" in details[3]


def test_unknown_usernames_lock_the_same_way(client, county):
    for _ in range(5):
        login(client, "no-such-user", "whatever-123")
    r = login(client, "no-such-user", "whatever-123")
    assert r.status_code == 423  # nothing tells an unknown name from a known one


def test_too_many_failures_from_one_address_are_429_with_retry_after(app_factory, make_user):
    make_user("disp")
    settings = AuthSettings(address_max_failures=3, address_window_minutes=10)
    with TestClient(app_factory(auth=settings)) as c:
        for name in ("a1", "a2", "a3"):  # different names: only the address adds up
            assert login(c, name, "guess-guess-1").status_code == 401
        r = login(c, "disp")
        assert r.status_code == 429
        assert re.search(
            r"本机登录失败次数过多，请于 \d\d:\d\d（约 (9|10) 分钟后）再试", r.json()["detail"]
        )
        assert 540 <= int(r.headers["Retry-After"]) <= 600


def test_the_limits_can_be_switched_off(app_factory, make_user):
    make_user("disp")
    with TestClient(app_factory(auth=AuthSettings(throttle_enabled=False))) as c:
        for _ in range(8):
            login(c, "disp", "wrong-password")
        assert login(c, "disp").status_code == 200


def test_every_sign_in_is_in_the_audit_trail(client, db, make_user):
    make_user("disp")
    login(client, "disp", "wrong-password")
    login(client, "ghost", "wrong-password")
    login(client, "disp")
    rows = db.execute(
        text(
            "SELECT actor, outcome, detail->>'reason' AS reason, address FROM audit_events "
            "WHERE action = 'auth.login' ORDER BY id"
        )
    ).all()
    assert [(r.actor, r.outcome, r.reason) for r in rows[-3:]] == [
        ("disp", "failure", "bad_password"),
        ("ghost", "failure", "unknown_user"),
        ("disp", "success", None),
    ]
    assert rows[-1].address == "testclient"


def test_unknown_users_take_as_long_as_known_ones(client, make_user):
    make_user("disp")

    times: dict[str, list[float]] = {"disp": [], "nobody-here": []}
    for _ in range(4):  # under the lock (5 per name); alternate so machine load hits both alike
        for username, spent in times.items():
            start = time.perf_counter()
            assert login(client, username, "not-the-password").status_code == 401
            spent.append(time.perf_counter() - start)
    known, unknown = (statistics.median(t) for t in times.values())
    assert abs(known - unknown) / max(known, unknown) < 0.3, (known, unknown)


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    return match.group(1) if match else ""


def _page_login(client, username: str, password: str, totp: str = ""):  # type: ignore[no-untyped-def]
    form = client.get("/login").text
    data = {"username": username, "password": password, "totp": totp, "next": "/console"}
    data["csrf_token"] = _csrf(form)
    return client.post("/login", data=data, follow_redirects=False)


def test_the_login_page_says_the_same_and_keeps_the_username(client, make_user):
    make_user("disp")
    r = _page_login(client, "disp", "wrong-password")
    assert r.status_code == 401 and "用户名或密码错误" in r.text
    assert 'value="disp"' in r.text
    for _ in range(4):
        _page_login(client, "disp", "wrong-password")
    r = _page_login(client, "disp", PASSWORD)
    assert r.status_code == 423 and "已锁定，请于" in r.text and 'value="disp"' in r.text
    assert int(r.headers["Retry-After"]) > 0


def test_page_login_and_logout_end_the_session(client, make_user):
    make_user("disp")
    r = _page_login(client, "disp", PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == "/console"
    token = client.cookies.get("gridgov_token")
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    page = client.get("/console")
    assert page.status_code == 200
    client.post("/logout", data={"csrf_token": _csrf(page.text)}, follow_redirects=False)
    # The same token, kept by someone, no longer works: the session ended, not just the cookie.
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401
    client.cookies.set("gridgov_token", token)
    r = client.get("/console", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


def test_an_idle_page_session_goes_back_to_the_login(client, db, make_user):
    make_user("disp")
    _page_login(client, "disp", PASSWORD)
    db.execute(text("UPDATE auth_sessions SET last_seen_at = now() - interval '31 minutes'"))
    r = client.get("/console", follow_redirects=False)
    assert r.status_code == 303 and "/login" in r.headers["location"]


def test_old_counters_are_removed(client, db, county):
    db.execute(
        text(
            "INSERT INTO login_throttle VALUES ('user', 'long-ago', 3, now() - interval '2 days', NULL)"
        )
    )
    login(client, "someone", "wrong-password")
    keys = set(db.execute(text("SELECT key FROM login_throttle")).scalars())
    assert keys == {"someone", "testclient"}
