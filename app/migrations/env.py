"""Alembic environment. The URL comes from the caller (app.migrate) via config attributes."""

from alembic import context
from sqlalchemy import create_engine

from app.models import Base

target_metadata = Base.metadata

# PostGIS/tiger/topology own tables we must not try to drop or compare.
_FOREIGN_TABLES = {"spatial_ref_sys"}


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    if type_ == "table" and (name in _FOREIGN_TABLES or (reflected and compare_to is None)):
        return name not in _FOREIGN_TABLES and not reflected
    return True


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        url = context.config.get_main_option("sqlalchemy.url")
        if url is None:
            raise RuntimeError("Alembic needs a database URL (run migrations through app.migrate)")
        engine = create_engine(url)
        with engine.connect() as conn:
            _run(conn)
        return
    _run(connection)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
