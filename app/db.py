"""Engine, session dependency, and the one place that commits.

A request gets one session; the route's work is one transaction, committed when the route returns and
*before* the response is sent (``scope="function"``), so an accepted write is durable by the time the
client hears about it. Any exception rolls everything back: a write is all or nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from app.settings import Settings


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


def unit_of_work(engine: Engine) -> AbstractContextManager[Session]:
    """A session for CLI commands and workers: commit on success, roll back on any error."""
    return _committing(sessionmaker(engine, expire_on_commit=False)())


def get_session(request: Request) -> Iterator[Session]:
    with _committing(request.app.state.sessionmaker()) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
