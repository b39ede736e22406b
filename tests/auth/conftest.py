"""Accounts over the tiny county: real users (password policy applied), real sign-ins."""

from __future__ import annotations

import pytest

from app.auth.schemas import UserCreate
from app.auth.service import create_user
from tests.factories import tiny_county

PASSWORD = "Harbour-lights-42"


@pytest.fixture
def county(db):  # type: ignore[no-untyped-def]
    tiny_county(db)
    db.commit()


@pytest.fixture
def make_user(db, county):  # type: ignore[no-untyped-def]
    def make(username: str, role: str = "dispatcher", jurisdiction: str = "419901"):  # type: ignore[no-untyped-def]
        user = create_user(
            db,
            data=UserCreate(
                username=username, password=PASSWORD, role=role, jurisdiction_code=jurisdiction
            ),
        )
        db.commit()
        return user

    return make


def login(client, username: str, password: str = PASSWORD, **extra):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/auth/token", data={"username": username, "password": password, **extra}
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
