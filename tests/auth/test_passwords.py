"""Password policy in the API (new users, password change) and in `gridgov user add`."""

from __future__ import annotations

import io

import pytest

from app.cli import main
from app.settings import get_settings
from tests.auth.conftest import PASSWORD, bearer, login

WEAK = [
    ("password", "密码至少需要 10 个字符"),
    ("short-1", "密码至少需要 10 个字符"),
    ("qwertyuiop", "该密码是常见密码，容易被猜中，请换一个"),
    ("password123", "该密码是常见密码，容易被猜中，请换一个"),
    ("gridgov-demo", "该密码是常见密码，容易被猜中，请换一个"),
    ("newclerk01", "密码不能与用户名相同"),
    (
        "aaaaaaaaaaaa",
        "密码过于简单（如重复字符、连续字母或数字、常见单词加数字），请换一个更难猜的",
    ),
]


@pytest.mark.parametrize(("password", "message"), WEAK)
def test_weak_passwords_are_refused_for_new_users(client, county, token_for, password, message):
    body = {
        "username": "newclerk01",
        "password": password,
        "role": "county_admin",
        "jurisdiction_code": "419901",
    }
    r = client.post("/api/v1/auth/users", json=body, headers=token_for("county_admin"))
    assert r.status_code == 422 and r.json()["detail"] == message


def test_a_good_password_is_accepted(client, county, token_for):
    body = {
        "username": "newclerk01",
        "password": "Maple-syrup-harbour-9",
        "role": "dispatcher",
        "jurisdiction_code": "419901",
    }
    r = client.post("/api/v1/auth/users", json=body, headers=token_for("county_admin"))
    assert r.status_code == 201
    assert login(client, "newclerk01", "Maple-syrup-harbour-9").status_code == 200


def test_password_change_applies_the_policy(client, make_user):
    make_user("disp")
    token = login(client, "disp").json()["access_token"]
    body = {"current_password": PASSWORD, "new_password": "1234567890"}
    r = client.post("/api/v1/auth/password", json=body, headers=bearer(token))
    assert r.status_code == 422 and "常见密码" in r.json()["detail"]
    body["new_password"] = PASSWORD
    r = client.post("/api/v1/auth/password", json=body, headers=bearer(token))
    assert r.status_code == 422 and r.json()["detail"] == "新密码不能与当前密码相同"
    # Refused changes end nothing.
    assert client.get("/api/v1/auth/me", headers=bearer(token)).status_code == 200


@pytest.fixture
def cli_env(engine, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GRIDGOV_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _user_add(cli_env, stdin: str, *extra: str) -> int:  # type: ignore[no-untyped-def]
    cli_env.setattr("sys.stdin", io.StringIO(stdin))  # not a terminal, like a pipe or CI
    args = ["user", "add", "clerk2", "--role", "dispatcher", "--jurisdiction", "419977"]
    return main([*args, *extra])


def test_cli_reads_the_password_from_stdin_and_refuses_a_weak_one(cli_env, capsys):
    assert _user_add(cli_env, "password\n") == 2
    assert "密码至少需要 10 个字符" in capsys.readouterr().err
    assert _user_add(cli_env, "qwertyuiop\n", "--password-stdin") == 2
    assert "常见密码" in capsys.readouterr().err


def test_cli_accepts_a_good_password_from_stdin(cli_env, capsys):
    # The password passes; the (deliberately unknown) area is what stops it, so nothing is written.
    assert _user_add(cli_env, "Maple-syrup-harbour-9\n") == 2
    assert "辖区编码 419977 不存在" in capsys.readouterr().err


def test_cli_with_empty_stdin_says_so(cli_env, capsys):
    assert _user_add(cli_env, "") == 2
    assert "未读到密码" in capsys.readouterr().err
