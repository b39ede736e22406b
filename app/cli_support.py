"""What the ``gridgov`` commands share, in a module of its own so that app/cli.py and the domain
command modules (app/*/cli.py) can both import it without importing each other."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from app.settings import Settings


@contextmanager
def database(settings: Settings, *, migrate: bool = True) -> Iterator[Engine]:
    """An engine on the configured server, or on the embedded cluster, started if needed and
    stopped afterwards only if this command started it."""
    from app import migrate as migrations
    from app.db import make_engine, sync_registry_config, unit_of_work

    cluster = None
    started_here = False
    url = settings.database_url
    if not url:
        from app.embedded import EmbeddedCluster

        cluster = EmbeddedCluster(settings.data_dir.resolve(), settings.embedded_port)
        started_here = not cluster.is_running()
        cluster.start()
        url = cluster.url()
    engine = make_engine(url, pool_size=2)
    try:
        if migrate:
            migrations.upgrade(engine)
            with unit_of_work(engine) as session:
                sync_registry_config(session, settings)
        yield engine
    finally:
        engine.dispose()
        if cluster is not None and started_here:
            cluster.stop()
