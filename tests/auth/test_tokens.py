"""Tokens: only our key signs them, every claim is required, and each names a live session."""

from __future__ import annotations

import datetime as dt
import secrets

import jwt
import pytest
from sqlalchemy import text

from app.auth.security import create_access_token
from app.settings import Settings
from tests.auth.conftest import bearer, login

OLD_CONSTANT = "gridgov-development-secret-change-me"  # the key the code used to ship with


def _claims(**over):  # type: ignore[no-untyped-def]
    claims = {"uid": 1, "role": "county_admin", "jur": "419901", "staff": None, "sess": "x"}
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not ...}


@pytest.mark.parametrize("key", [OLD_CONSTANT, secrets.token_urlsafe(48)])
def test_a_token_signed_with_another_key_is_401(client, make_user, key):
    user = make_user("disp")
    r = login(client, "disp")
    sess = jwt.decode(r.json()["access_token"], options={"verify_signature": False})["sess"]
    forged = create_access_token(
        subject="admin", secret=key, minutes=5, claims=_claims(uid=user.id, sess=sess)
    )
    r = client.get("/api/v1/auth/me", headers=bearer(forged))
    assert r.status_code == 401 and r.json()["detail"] == "登录凭据无效，请重新登录"


@pytest.mark.parametrize("missing", ["jur", "role", "uid", "sess"])
def test_a_signed_token_missing_a_claim_is_401_not_500(client, make_user, missing):
    make_user("disp")
    r = login(client, "disp")
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    del claims[missing]
    token = jwt.encode(claims, Settings(environment="test").secret_key, algorithm="HS256")
    r = client.get("/api/v1/auth/me", headers=bearer(token))
    assert r.status_code == 401 and "无效" in r.json()["detail"]


def test_a_signed_token_for_a_user_without_a_session_is_401(client, county):
    # What the review did: sign a county_admin token for a user that does not exist.
    token = create_access_token(
        subject="ghost",
        secret=Settings(environment="test").secret_key or "",
        minutes=5,
        claims=_claims(uid=999999, sess="5f0c3bce-0000-4000-8000-000000000000"),
    )
    r = client.get("/api/v1/auth/me", headers=bearer(token))
    assert r.status_code == 401 and r.json()["detail"] == "登录已失效，请重新登录"


def test_an_expired_token_says_so(client, make_user):
    make_user("disp")
    claims = jwt.decode(
        login(client, "disp").json()["access_token"], options={"verify_signature": False}
    )
    claims["exp"] = int((dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).timestamp())
    token = jwt.encode(claims, Settings(environment="test").secret_key, algorithm="HS256")
    r = client.get("/api/v1/auth/me", headers=bearer(token))
    assert r.status_code == 401 and "过期" in r.json()["detail"]


def test_access_tokens_are_short_and_come_with_a_refresh_token(client, make_user):
    make_user("disp")
    body = login(client, "disp").json()
    assert body["expires_in"] == 15 * 60 and body["refresh_token"]
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert "sid" not in claims and claims["staff"] is None


def test_token_for_fixture_makes_real_users_and_sessions(client, db, token_for, county):
    h = token_for("auditor", "419901001", username="audit1")
    assert client.get("/api/v1/auth/me", headers=h).json() == {
        "username": "audit1",
        "role": "auditor",
        "jurisdiction_code": "419901001",
    }
    db.execute(text("UPDATE users SET is_active = false WHERE username = 'audit1'"))
    assert client.get("/api/v1/auth/me", headers=h).status_code == 401
