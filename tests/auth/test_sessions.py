"""Sessions end at once: logout, deactivation, role or jurisdiction change, password change (by the
service and by SQL), a reused refresh token, idleness."""

from __future__ import annotations

import datetime as dt

import jwt
from sqlalchemy import text

from tests.auth.conftest import PASSWORD, bearer, login

NEW_PASSWORD = "Quiet-river-stone-7"


def _session_of(token: str) -> str:
    return jwt.decode(token, options={"verify_signature": False})["sess"]


def test_logout_ends_the_token_at_once(client, make_user):
    make_user("disp")
    token = login(client, "disp").json()["access_token"]
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200
    r = client.post("/api/v1/auth/logout", headers=bearer(token))
    assert r.status_code == 200 and r.json()["detail"] == "已退出登录"
    r = client.get("/api/v1/auth/me", headers=bearer(token))
    assert r.status_code == 401 and r.json()["detail"] == "登录已失效，请重新登录"


def test_deactivation_and_role_change_by_an_admin_end_sessions(client, make_user, token_for):
    make_user("disp", jurisdiction="419901001")
    make_user("disp2", jurisdiction="419901001")
    admin = token_for("county_admin", "419901")
    t1 = login(client, "disp").json()["access_token"]
    t2 = login(client, "disp2").json()["access_token"]
    r = client.patch("/api/v1/auth/users/disp", json={"is_active": False}, headers=admin)
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert client.get("/api/v1/auth/me", headers=bearer(t1)).status_code == 401
    assert login(client, "disp").status_code == 401  # and cannot sign in again
    r = client.patch("/api/v1/auth/users/disp2", json={"role": "auditor"}, headers=admin)
    assert r.status_code == 200 and r.json()["role"] == "auditor"
    assert client.get("/api/v1/auth/me", headers=bearer(t2)).status_code == 401
    # The new role is in the next token.
    assert login(client, "disp2").json()["role"] == "auditor"


def test_an_admin_manages_only_users_of_their_jurisdiction(client, make_user, token_for):
    make_user("disp", jurisdiction="419901001")
    other = token_for("county_admin", "419902")
    r = client.patch("/api/v1/auth/users/disp", json={"is_active": False}, headers=other)
    assert r.status_code == 403 and "本辖区" in r.json()["detail"]
    admin = token_for("county_admin", "419901001")
    r = client.patch("/api/v1/auth/users/disp", json={"jurisdiction_code": "419901"}, headers=admin)
    assert r.status_code == 403
    r = client.patch("/api/v1/auth/users/nobody", json={"is_active": False}, headers=admin)
    assert r.status_code == 404 and "nobody" in r.json()["detail"]


def test_password_change_ends_every_session_and_the_new_password_works(client, make_user):
    make_user("disp")
    t1 = login(client, "disp").json()["access_token"]
    t2 = login(client, "disp").json()["access_token"]
    body = {"current_password": "wrong-password-1", "new_password": NEW_PASSWORD}
    r = client.post("/api/v1/auth/password", json=body, headers=bearer(t1))
    assert r.status_code == 422 and r.json()["detail"] == "当前密码不正确"
    body["current_password"] = PASSWORD
    r = client.post("/api/v1/auth/password", json=body, headers=bearer(t1))
    assert r.status_code == 200 and "重新登录" in r.json()["detail"]
    for t in (t1, t2):
        assert client.get("/api/v1/auth/me", headers=bearer(t)).status_code == 401
    assert login(client, "disp").status_code == 401
    assert login(client, "disp", NEW_PASSWORD).status_code == 200


def test_a_change_made_in_sql_ends_sessions_too(client, db, make_user):
    make_user("disp")
    token = login(client, "disp").json()["access_token"]
    db.execute(text("UPDATE users SET full_name = '改名' WHERE username = 'disp'"))
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200  # a name only
    db.execute(text("UPDATE users SET jurisdiction_code = '419901001' WHERE username = 'disp'"))
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401
    reason = db.execute(
        text("SELECT revoked_reason FROM auth_sessions WHERE id = :id"),
        {"id": _session_of(token)},
    ).scalar_one()
    assert reason == "account_changed"


def test_refresh_rotates_and_a_spent_refresh_token_ends_the_session(client, make_user):
    make_user("disp")
    first = login(client, "disp").json()
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/api/v1/auth/me", headers=bearer(second["access_token"])).status_code == 200
    # The old one again: refused, and the session ends (whoever holds the copy is locked out too).
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 401 and "已使用" in r.json()["detail"]
    assert client.get("/api/v1/auth/me", headers=bearer(second["access_token"])).status_code == 401
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert r.status_code == 401


def test_a_malformed_refresh_token_is_401(client, county):
    for bad in ("nonsense", "5f0c3bce-0000-4000-8000-000000000000.abc", "."):
        r = client.post("/api/v1/auth/refresh", json={"refresh_token": bad})
        assert r.status_code == 401 and "刷新令牌无效" in r.json()["detail"]


def test_refresh_after_logout_is_refused(client, make_user):
    make_user("disp")
    body = login(client, "disp").json()
    client.post("/api/v1/auth/logout", headers=bearer(body["access_token"]))
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert r.status_code == 401


def _age(db, token: str, minutes: float) -> None:  # type: ignore[no-untyped-def]
    db.execute(
        text("UPDATE auth_sessions SET last_seen_at = :t WHERE id = :id"),
        {
            "t": dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes),
            "id": _session_of(token),
        },
    )


def test_idle_sessions_end_and_active_ones_slide(client, db, make_user):
    make_user("disp")
    token = login(client, "disp").json()["access_token"]
    _age(db, token, 20)
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200
    seen = db.execute(
        text("SELECT last_seen_at FROM auth_sessions WHERE id = :id"), {"id": _session_of(token)}
    ).scalar_one()
    assert dt.datetime.now(dt.UTC) - seen < dt.timedelta(minutes=1)  # the request slid it
    _age(db, token, 31)
    r = client.get("/api/v1/auth/me", headers=bearer(token))
    assert r.status_code == 401 and "超时" in r.json()["detail"]


def test_idle_timeout_is_a_setting(app_factory, db, make_user):
    from fastapi.testclient import TestClient

    from app.auth.config import AuthSettings

    make_user("disp")
    with TestClient(app_factory(auth=AuthSettings(session_idle_minutes=5))) as c:
        token = login(c, "disp").json()["access_token"]
        _age(db, token, 6)
        assert c.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401


def test_sessions_ended_a_week_ago_are_removed_at_the_next_sign_in(client, db, make_user):
    make_user("disp")
    old = login(client, "disp").json()["access_token"]
    client.post("/api/v1/auth/logout", headers=bearer(old))
    db.execute(
        text("UPDATE auth_sessions SET revoked_at = now() - interval '8 days' WHERE id = :id"),
        {"id": _session_of(old)},
    )
    recent = login(client, "disp").json()["access_token"]
    client.post("/api/v1/auth/logout", headers=bearer(recent))
    login(client, "disp")
    ids = {str(i) for i in db.execute(text("SELECT id FROM auth_sessions")).scalars()}
    assert _session_of(old) not in ids and _session_of(recent) in ids
