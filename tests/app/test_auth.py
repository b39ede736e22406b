"""Login, roles, jurisdiction scoping and masking."""

import pytest

from app.auth.policy import Principal, mask_phone
from app.auth.schemas import UserCreate
from app.auth.service import create_user
from tests.factories import tiny_county


@pytest.fixture
def users(db):
    tiny_county(db)
    create_user(
        db,
        data=UserCreate(
            username="disp",
            password="secret-pass-1",
            role="dispatcher",
            jurisdiction_code="419901001",
        ),
    )
    db.commit()


def _login(client, username, password):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def test_password_flow_issues_a_token_that_identifies_the_user(client, users):
    r = _login(client, "disp", "secret-pass-1")
    assert r.status_code == 200
    token = r.json()["access_token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json() == {"username": "disp", "role": "dispatcher", "jurisdiction_code": "419901001"}


def test_password_is_stored_hashed_with_argon2(db, users):
    from sqlalchemy import select

    from app.auth.models import User

    stored = db.scalar(select(User.password_hash).where(User.username == "disp"))
    assert stored.startswith("$argon2") and "secret-pass-1" not in stored


@pytest.mark.parametrize(("username", "password"), [("disp", "wrong"), ("nobody", "secret-pass-1")])
def test_bad_credentials_are_401_without_saying_which(client, users, username, password):
    r = _login(client, username, password)
    assert r.status_code == 401 and r.json()["detail"] == "用户名或密码错误"


def test_garbage_token_is_401(client, users):
    r = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and "无效" in r.json()["detail"]


def test_only_county_admins_add_users_and_only_inside_their_jurisdiction(client, users, token_for):
    body = {
        "username": "w1",
        "password": "longenough-2026",
        "role": "grid_worker",
        "jurisdiction_code": "419901001",
    }
    assert (
        client.post("/api/v1/auth/users", json=body, headers=token_for("dispatcher")).status_code
        == 403
    )
    r = client.post("/api/v1/auth/users", json=body, headers=token_for("county_admin", "419901"))
    assert r.status_code == 201 and r.json()["role"] == "grid_worker"
    again = client.post(
        "/api/v1/auth/users", json=body, headers=token_for("county_admin", "419901")
    )
    assert again.status_code == 409
    other = {**body, "username": "w2", "jurisdiction_code": "419901001"}
    r = client.post("/api/v1/auth/users", json=other, headers=token_for("county_admin", "419902"))
    assert r.status_code == 403 and "本辖区" in r.json()["detail"]
    unknown_area = {**body, "username": "w3", "jurisdiction_code": "419901009"}
    r = client.post(
        "/api/v1/auth/users", json=unknown_area, headers=token_for("county_admin", "419901")
    )
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("role", "jurisdiction", "code", "covers"),
    [
        ("dispatcher", "419901", "419901001001001", True),
        ("dispatcher", "419901001", "419901002001001", False),
        ("auditor", "419901001001", "419901001001001", True),
        ("public", "", "419901001001001", False),
    ],
)
def test_jurisdiction_is_a_code_prefix(role, jurisdiction, code, covers):
    assert Principal("u", role, jurisdiction, 1).covers(code) is covers


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("170-9009-1115", "170****1115"),
        ("12345", "*****"),
        (None, None),
    ],
)
def test_phone_masking(phone, masked):
    assert mask_phone(phone) == masked
