"""Second factor (TOTP), and what a start refuses: no signing key, demo passwords in production.
`gridgov run`'s key file: made 0600 once, then reused."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.auth.keys import MissingSecretKey, ensure_key_file
from app.auth.passwords import DEMO_PASSWORD
from app.auth.schemas import UserCreate
from app.auth.security import hash_password
from app.auth.service import create_user
from app.auth.startup import DemoPasswordsInProduction, refuse_demo_passwords
from app.auth.totp import code_at
from app.main import create_app
from app.settings import Settings
from tests.auth.conftest import PASSWORD, bearer, login


def _enrol(client, token: str) -> str:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/auth/totp/enrol", headers=bearer(token))
    assert r.status_code == 200
    body = r.json()
    assert body["otpauth_uri"].startswith("otpauth://totp/gridgov:chief?secret=")
    assert body["secret"] in body["otpauth_uri"]
    return str(body["secret"])


def test_enrol_confirm_then_sign_in_needs_the_code(client, db, make_user):
    now = dt.datetime.now(dt.UTC)  # the codes below are valid for about a minute around it
    make_user("chief", role="county_admin")
    token = login(client, "chief").json()["access_token"]
    secret = _enrol(client, token)
    # Stored sealed: the database alone does not give the secret away.
    stored = db.execute(text("SELECT totp_secret FROM users WHERE username = 'chief'")).scalar()
    assert secret not in stored
    r = client.post("/api/v1/auth/totp/confirm", json={"code": "000000"}, headers=bearer(token))
    assert r.status_code == 422 and "动态口令错误" in r.json()["detail"]
    r = client.post(
        "/api/v1/auth/totp/confirm", json={"code": code_at(secret, now)}, headers=bearer(token)
    )
    assert r.status_code == 200 and "重新登录" in r.json()["detail"]
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 401
    # Password alone is not enough any more.
    r = login(client, "chief")
    assert r.status_code == 401 and r.json()["detail"].startswith("请输入动态口令")
    r = login(client, "chief", totp="123456")
    assert r.status_code == 401 and "动态口令错误" in r.json()["detail"]
    next_code = code_at(secret, now + dt.timedelta(seconds=30))
    r = login(client, "chief", totp=next_code)
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    # A code works once.
    r = login(client, "chief", totp=next_code)
    assert r.status_code == 401 and "已使用" in r.json()["detail"]
    # Enrolling again is refused once enabled.
    assert client.post("/api/v1/auth/totp/enrol", headers=bearer(token)).status_code == 409


def test_in_production_an_admin_without_a_second_factor_may_only_enrol(app_factory, make_user):
    now = dt.datetime.now(dt.UTC)  # the codes below are valid for about a minute around it
    make_user("chief", role="county_admin")
    app = app_factory()
    app.state.settings = app.state.settings.model_copy(update={"environment": "production"})
    with TestClient(app) as c:
        body = login(c, "chief").json()
        assert body["totp_enrolment_required"] is True
        h = bearer(body["access_token"])
        r = c.get("/api/v1/households", params={"grid": "419901001001001"}, headers=h)
        assert r.status_code == 403 and r.json()["detail"].startswith("请先绑定动态口令")
        assert c.get("/api/v1/auth/me", headers=h).status_code == 200
        secret = _enrol(c, body["access_token"])
        r = c.post("/api/v1/auth/totp/confirm", json={"code": code_at(secret, now)}, headers=h)
        assert r.status_code == 200
        body = login(c, "chief", totp=code_at(secret, now + dt.timedelta(seconds=30))).json()
        assert body["totp_enrolment_required"] is False
        r = c.get(
            "/api/v1/households",
            params={"grid": "419901001001001"},
            headers=bearer(body["access_token"]),
        )
        assert r.status_code == 200
        # Roles that need no second factor sign in as before.
        make_user("disp")
        assert login(c, "disp").json()["totp_enrolment_required"] is False


def test_production_refuses_to_start_while_a_demo_password_is_set(db, county):
    for name, role in (
        ("admin", "county_admin"),
        ("dispatcher", "dispatcher"),
        ("worker", "grid_worker"),
    ):
        data = UserCreate(
            username=name, password=DEMO_PASSWORD, role=role, jurisdiction_code="419901"
        )
        create_user(db, data=data, demo_password=True)  # what the demo loader does
    with pytest.raises(DemoPasswordsInProduction, match="admin、dispatcher、worker 仍使用演示密码"):
        refuse_demo_passwords(db)
    db.execute(text("UPDATE users SET is_active = false WHERE username = 'admin'"))
    db.execute(
        text("UPDATE users SET password_hash = :h WHERE username = 'worker'"),
        {"h": hash_password("Another-long-one-8")},
    )
    with pytest.raises(DemoPasswordsInProduction, match="账号 dispatcher 仍使用"):
        refuse_demo_passwords(db)
    db.execute(text("UPDATE users SET is_active = false WHERE username = 'dispatcher'"))
    refuse_demo_passwords(db)  # nothing left to refuse


@pytest.mark.parametrize("environment", ["development", "production"])
def test_no_signing_key_no_start(environment, monkeypatch):
    monkeypatch.delenv("GRIDGOV_SECRET_KEY", raising=False)
    with pytest.raises(MissingSecretKey, match="GRIDGOV_SECRET_KEY"):
        create_app(Settings(environment=environment, _env_file=None))


def test_a_short_signing_key_is_refused():
    with pytest.raises(ValueError, match="32"):
        Settings(environment="production", secret_key="short", _env_file=None)


def test_test_environment_gets_one_random_key_per_process():
    a, b = (
        Settings(environment="test", _env_file=None),
        Settings(environment="test", _env_file=None),
    )
    assert a.secret_key == b.secret_key and len(a.secret_key or "") >= 32
    assert a.secret_key != "gridgov-development-secret-change-me"


def test_run_makes_a_private_key_file_once_then_reuses_it(tmp_path: Path):
    key, path, created = ensure_key_file(tmp_path / "var")
    assert created and path == (tmp_path / "var" / "secret_key").resolve()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and len(key) >= 32
    again, _, created_again = ensure_key_file(tmp_path / "var")
    assert again == key and not created_again
    os.chmod(path, 0o644)
    with pytest.raises(MissingSecretKey, match="chmod 600"):
        ensure_key_file(tmp_path / "var")


def test_run_prints_where_the_key_lives(tmp_path: Path, monkeypatch, capsys):
    from app.cli import _provide_secret_key

    monkeypatch.delenv("GRIDGOV_SECRET_KEY", raising=False)
    _provide_secret_key(Settings(environment="development", data_dir=tmp_path, _env_file=None))
    out = capsys.readouterr().out
    assert f"签名密钥：{tmp_path.resolve()}/secret_key（首次启动，已生成" in out
    assert len(os.environ["GRIDGOV_SECRET_KEY"]) >= 32
    monkeypatch.delenv("GRIDGOV_SECRET_KEY")
    _provide_secret_key(Settings(environment="development", data_dir=tmp_path, _env_file=None))
    assert "沿用" in capsys.readouterr().out


def test_the_pages_enrol_a_second_factor_and_then_ask_for_it(app_factory, make_user):
    now = dt.datetime.now(dt.UTC)  # the codes below are valid for about a minute around it
    import re

    def csrf(page: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]

    make_user("chief", role="planner")
    app = app_factory()
    app.state.settings = app.state.settings.model_copy(update={"environment": "production"})
    with TestClient(app) as c:
        form = {"username": "chief", "password": PASSWORD, "next": "/planner"}
        r = c.post("/login", data={**form, "csrf_token": csrf(c.get("/login").text)})
        assert r.url.path == "/login/totp" and "绑定动态口令" in r.text
        secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', r.text).group(1)  # type: ignore[union-attr]
        # Until enrolled, the pages are closed to this session.
        assert c.get("/planner", follow_redirects=False).status_code == 403
        r = c.post("/login/totp", data={"code": code_at(secret, now), "csrf_token": csrf(r.text)})
        assert r.status_code == 200 and "动态口令已启用，请重新登录" in r.text
        r = c.post("/login", data={**form, "csrf_token": csrf(r.text)}, follow_redirects=False)
        assert r.status_code == 401 and "请输入动态口令" in r.text and 'value="chief"' in r.text
        code = code_at(secret, now + dt.timedelta(seconds=30))
        r = c.post(
            "/login",
            data={**form, "totp": code, "csrf_token": csrf(r.text)},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/planner"


def test_an_abandoned_enrolment_does_not_block_the_login_form(app_factory, make_user):
    import re

    make_user("chief", role="county_admin")
    app = app_factory()
    app.state.settings = app.state.settings.model_copy(update={"environment": "production"})
    with TestClient(app) as c:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)  # type: ignore[union-attr]
        form = {"username": "chief", "password": PASSWORD, "csrf_token": token}
        assert c.post("/login", data=form).url.path == "/login/totp"
        # The enrolment-only cookie is still there; the login form works as for anyone.
        page = c.get("/login")
        assert page.status_code == 200
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        r = c.post("/login", data={**form, "csrf_token": token})
        assert r.url.path == "/login/totp"
