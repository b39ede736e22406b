"""The platform's processes log in as a role that owns nothing and can do nothing until a
transaction names the role it works as (app/service_login.py)."""

from __future__ import annotations

import stat

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError

from app.auth.policy import APP_ROLE
from app.db import SYSTEM, DbAccess, unit_of_work
from app.service_login import ensure_service_login


@pytest.fixture
def service_engine(engine, tmp_path):  # type: ignore[no-untyped-def]
    secret = tmp_path / "service_login.json"
    url = ensure_service_login(engine, secret)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert ensure_service_login(engine, secret) == url  # the same password on the next start
    service = create_engine(url)
    try:
        yield service
    finally:
        service.dispose()


def test_on_its_own_it_reads_nothing(service_engine):  # type: ignore[no-untyped-def]
    with service_engine.connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar_one() == "gridgov_service"
        with pytest.raises(ProgrammingError, match="permission denied"):
            conn.execute(text("SELECT count(*) FROM users"))


def test_a_declared_transaction_works_within_its_role(service_engine):  # type: ignore[no-untyped-def]
    with unit_of_work(service_engine, DbAccess(APP_ROLE, scope="419901")) as session:
        assert session.execute(text("SELECT current_user")).scalar_one() == APP_ROLE
        session.execute(text("SELECT count(*) FROM incidents")).scalar_one()
    with unit_of_work(service_engine, SYSTEM) as session:
        assert session.execute(text("SELECT current_user")).scalar_one() == "gridgov_system"


@pytest.mark.parametrize(
    "statement", ["DROP TABLE incidents", "ALTER TABLE incidents DISABLE ROW LEVEL SECURITY"]
)
def test_not_even_the_system_role_may_change_the_schema(service_engine, statement):  # type: ignore[no-untyped-def]
    with (
        pytest.raises(ProgrammingError, match="must be owner"),
        unit_of_work(service_engine, SYSTEM) as session,
    ):
        session.execute(text(statement))
