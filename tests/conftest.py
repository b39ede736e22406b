"""Test session: a real PostgreSQL + PostGIS cluster started by the session itself.

Nothing is mocked. The cluster lives in a temp dir (fsync off: it is thrown away), the schema comes
from the Alembic migrations, and each database test runs inside a transaction that is rolled back.
Set GRIDGOV_TEST_DATABASE_URL to use an existing PostGIS server instead.
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.orm import Session

from app.embedded import EmbeddedCluster


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    from app import migrate

    url = os.environ.get("GRIDGOV_TEST_DATABASE_URL")
    cluster = None
    tmp = None
    if not url:
        tmp = tempfile.TemporaryDirectory(prefix="gridgov-test-")
        os.chmod(tmp.name, 0o755)
        cluster = EmbeddedCluster(Path(tmp.name), _free_port(), fast_unsafe=True)
        cluster.start()
        url = cluster.url()
    eng = create_engine(url, pool_size=5, max_overflow=10)
    migrate.upgrade(eng)
    try:
        yield eng
    finally:
        eng.dispose()
        if cluster is not None:
            cluster.stop()
        if tmp is not None:
            tmp.cleanup()


@contextmanager
def rolled_back_connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside one transaction that is rolled back at the end: nothing a test writes
    outlives it."""
    conn = engine.connect()
    outer = conn.begin()
    try:
        yield conn
    finally:
        outer.rollback()
        conn.close()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with rolled_back_connection(engine) as conn:
        yield conn


@pytest.fixture
def db(connection) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    """A session whose commits are savepoints inside the test's rolled-back transaction."""
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def app_factory(connection):  # type: ignore[no-untyped-def]
    from app.db import AccessSession
    from app.main import create_app
    from app.settings import Settings

    class _RequestSession(AccessSession):
        """The app's sessions are savepoints in the test's transaction, so the database role and
        scope they declare (SET LOCAL) would outlive them: put the test's own back on close."""

        def close(self) -> None:
            super().close()
            connection.exec_driver_sql("RESET ROLE")

    def make(**overrides):  # type: ignore[no-untyped-def]
        settings = Settings(environment="test", locate_refresh_seconds=0, **overrides)

        def factory() -> Session:
            return _RequestSession(
                bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
            )

        return create_app(settings, session_factory=factory)

    return make


@pytest.fixture
def client(app_factory):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app_factory()) as c:
        yield c


@pytest.fixture
def token_for(connection):  # type: ignore[no-untyped-def]
    """Bearer headers for a real user with ``role`` and ``jurisdiction`` and a real session, made in
    the test's transaction (which the app shares): logging out, deactivating the user or changing
    their role ends the token like any other. A name not given is unique per call; a name given
    twice is the same user (same role and jurisdiction required)."""
    make, db = token_maker(connection)
    try:
        yield make
    finally:
        db.close()


def token_maker(connection):  # type: ignore[no-untyped-def]
    """``token_for``'s maker on any connection (a module-scoped one too), and the session it writes
    with (the caller closes it)."""
    import itertools

    from sqlalchemy import select

    from app.auth import sessions
    from app.auth.models import User
    from app.settings import Settings

    settings = Settings(environment="test")
    db = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    counter = itertools.count(1)

    def make(
        role: str,
        jurisdiction: str = "419901",
        username: str | None = None,
        *,
        staff_id: int | None = None,
    ) -> dict[str, str]:
        name = username or f"tester{next(counter)}"
        user = db.scalar(select(User).where(User.username == name))
        if user is None:
            # A hash no password matches: these users sign in only through this fixture.
            user = User(
                username=name,
                password_hash="!",
                role=role,
                jurisdiction_code=jurisdiction,
                staff_id=staff_id,
            )
            db.add(user)
            db.flush()
        elif (user.role, user.jurisdiction_code, user.staff_id) != (role, jurisdiction, staff_id):
            raise ValueError(f"token_for: user {name} exists with another role or jurisdiction")
        now = sessions.now_utc()
        row, _ = sessions.open_session(
            db, user, kind="api", purpose="full", address=None, cfg=settings.auth, now=now
        )
        db.commit()
        token = sessions.access_token(
            user, row, secret=settings.secret_key or "", minutes=settings.auth.access_token_minutes
        )
        return {"Authorization": f"Bearer {token}"}

    return make, db


def pytest_configure(config):  # type: ignore[no-untyped-def]
    os.environ.setdefault("GRIDGOV_ENVIRONMENT", "test")
