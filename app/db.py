"""Engine, sessions that declare their access, and the one place that commits.

A request gets one session (``SessionDep``, declared beside the caller in app/auth/deps.py, since
it works with the caller's access); the route's work is one transaction, committed when the route
returns and *before* the response is sent (``scope="function"``), so an accepted write is durable by
the time the client hears about it. Any exception rolls everything back: a write is all or nothing.

Every transaction also says, first thing, whom it works for (docs/security.md#row-level-security):
``SET LOCAL ROLE`` to one of the named database roles and the caller's jurisdiction as the setting
``gridgov.scope``, which the row-level security policies read. A request works as ``gridgov_app``
within the caller's jurisdiction; intake as ``gridgov_intake``; the worker, the CLI and start-up
jobs as ``gridgov_system``. A session that says nothing gets ``gridgov_app`` with no jurisdiction:
it sees no scoped row at all (fail closed). Both settings are transaction-local, so a pooled
connection never carries one caller's scope to the next.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from app.auth.policy import APP_ROLE, INTAKE_ROLE, SYSTEM_ROLE, Principal
from app.settings import Settings

# "The database is not there right now" (refused, restarted, network cut, pool exhausted), as
# opposed to a query it refuses: worth waiting for, not a bug.
CONNECTION_ERRORS = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)


@dataclass(frozen=True)
class DbAccess:
    """What one transaction may reach: a database role and a jurisdiction prefix ('' = none)."""

    role: str
    scope: str = ""
    user: str = ""


NO_ACCESS = DbAccess(APP_ROLE)
SYSTEM = DbAccess(SYSTEM_ROLE, user="system")


def access_for(principal: Principal) -> DbAccess:
    """The database access of a caller: their jurisdiction, or everything for a system job."""
    if principal.system:
        return DbAccess(SYSTEM_ROLE, user=principal.username)
    return DbAccess(APP_ROLE, scope=principal.scope_prefix, user=principal.username)


def intake_access(principal: Principal) -> DbAccess:
    """Intake files a case anywhere for anyone (residents included), so it works as the intake
    role: it may write and read cases, their history and outbox, and nothing else scoped."""
    return DbAccess(INTAKE_ROLE, scope=principal.scope_prefix, user=principal.username)


# Sent straight to the driver: it runs at the start of every transaction, and skipping SQLAlchemy's
# statement handling saves a quarter of its cost (bench/bench_rls.py).
_SET_ACCESS = (
    "SELECT set_config('role', %(role)s, true), set_config('gridgov.scope', %(scope)s, true), "
    "set_config('gridgov.user', %(user)s, true)"
)


class AccessSession(Session):
    """A session whose every transaction first declares its ``DbAccess`` (``info['db_access']``)."""


@event.listens_for(AccessSession, "after_begin")
def _declare_access(session: Session, _tx: SessionTransaction, connection: Connection) -> None:
    access: DbAccess = session.info.get("db_access", NO_ACCESS)
    connection.exec_driver_sql(
        _SET_ACCESS, {"role": access.role, "scope": access.scope, "user": access.user}
    )


SessionFactory = Callable[[], Session]


def access_sessionmaker(engine: Engine) -> SessionFactory:
    return sessionmaker(engine, class_=AccessSession, expire_on_commit=False)


def with_access(factory: SessionFactory, access: DbAccess) -> Session:
    """A new session from ``factory`` that works with ``access``."""
    session = factory()
    session.info["db_access"] = access
    return session


def system_factory(factory: SessionFactory) -> SessionFactory:
    """``factory``'s sessions, working as the system role (start-up, the locate registry)."""

    def make() -> Session:
        return with_access(factory, SYSTEM)

    return make


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        future=True,
    )


def resolve_database_url(settings: Settings) -> str:
    """The configured server, or the embedded cluster (started if needed)."""
    if settings.database_url:
        return settings.database_url
    from app.embedded import EmbeddedCluster

    cluster = EmbeddedCluster(settings.data_dir.resolve(), settings.embedded_port)
    cluster.start()
    return cluster.url()


def sync_registry_config(session: Session, settings: Settings) -> None:
    """Copy the tolerances the database triggers enforce from Settings (their single source)."""
    for key, value in (
        ("overlap_tolerance_m2", settings.overlap_tolerance_m2),
        ("containment_tolerance_m2", settings.containment_tolerance_m2),
    ):
        session.execute(
            text(
                "INSERT INTO registry_config (key, value) VALUES (:k, :v) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
            ),
            {"k": key, "v": value},
        )


@contextmanager
def _committing(session: Session) -> Iterator[Session]:
    """Commit if the block succeeds, roll back on any error, always close."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def unit_of_work(engine: Engine, access: DbAccess = SYSTEM) -> AbstractContextManager[Session]:
    """A session for CLI commands and workers (the system role unless told otherwise): commit on
    success, roll back on any error."""
    return _committing(with_access(access_sessionmaker(engine), access))


def request_session(request: Request, access: DbAccess) -> Session:
    """A session of this app's for ``access`` (the caller commits and closes it)."""
    return with_access(request.app.state.sessionmaker, access)


def request_unit(request: Request, access: DbAccess) -> AbstractContextManager[Session]:
    """A session of this app's for ``access``: commit on success, roll back on any error. The
    request's own session (``SessionDep`` in app/auth/deps.py, which knows the caller) is one."""
    return _committing(request_session(request, access))
