"""registry change feed: which grids, areas, staff and buildings changed, per row, not one counter

Until now a statement trigger bumped the single row of ``registry_revision`` on any write to grids,
areas, staff, assignments or buildings. Every writer queued on that row, and every web process, on
seeing the number move, rebuilt its whole locate index while requests waited. Now each write
statement appends what it touched to ``registry_changes`` (set-based, through transition tables),
and each process applies only what changed (docs/architecture.md#the-locate-registry):

- ``kind`` says what changed: grid, area, staff, assignment or building;
- ``key`` the grid or area code or the staff id (NULL for buildings: the gazetteer is rebuilt whole);
- ``txid`` the writing transaction, so a reader can tell which changes can no longer be joined by an
  earlier-numbered one still in flight (all transactions below the snapshot's xmin have ended).

Appending rows takes no lock another writer waits for, so writers on different grids no longer
serialise. Rows older than two days are pruned by the readers (a process that slept longer
reloads everything when the day changes).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 17:30:00
"""

from collections.abc import Sequence

from alembic import op

from app.migrations.sql.foundation_triggers import REVISION_BUMP

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (kind, key expression over the transition table's rows; None: one row per statement)
FED: dict[str, tuple[str, str | None]] = {
    "grids": ("grid", "code"),
    "areas": ("area", "code"),
    "staff": ("staff", "id::text"),
    "staff_assignments": ("assignment", "grid_code"),
    "buildings": ("building", None),
}

_OLD_TABLES = ("grids", "areas", "staff", "staff_assignments", "buildings")


def _select(kind: str, key: str | None, rows: str) -> str:
    if key is None:
        return f"SELECT '{kind}', NULL WHERE EXISTS (SELECT 1 FROM {rows})"
    return f"SELECT DISTINCT '{kind}', {key} FROM {rows}"


def _function(table: str, kind: str, key: str | None) -> str:
    new, old = _select(kind, key, "new_rows"), _select(kind, key, "old_rows")
    return f"""
CREATE OR REPLACE FUNCTION note_{table}_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO registry_changes (kind, key) {new};
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO registry_changes (kind, key) {new} UNION {old};
    ELSE
        INSERT INTO registry_changes (kind, key) {old};
    END IF;
    RETURN NULL;
END;
$$;
"""


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE registry_changes (
            seq bigint GENERATED ALWAYS AS IDENTITY,
            txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
            kind varchar(16) NOT NULL,
            key varchar(32),
            at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_registry_changes PRIMARY KEY (seq)
        )
        """
    )
    op.execute("CREATE INDEX ix_registry_changes_txid_seq ON registry_changes (txid, seq)")
    op.execute("CREATE INDEX ix_registry_changes_at ON registry_changes (at)")
    for table in _OLD_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_revision ON {table}")
    op.execute("DROP FUNCTION IF EXISTS bump_registry_revision()")
    op.execute("DROP TABLE registry_revision")
    for table, (kind, key) in FED.items():
        op.execute(_function(table, kind, key))
        op.execute(
            f"CREATE TRIGGER {table}_note_insert AFTER INSERT ON {table} "
            f"REFERENCING NEW TABLE AS new_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION note_{table}_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_note_update AFTER UPDATE ON {table} "
            f"REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION note_{table}_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_note_delete AFTER DELETE ON {table} "
            f"REFERENCING OLD TABLE AS old_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION note_{table}_change()"
        )


def downgrade() -> None:
    for table in FED:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_note_{event} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS note_{table}_change()")
    op.execute("DROP TABLE registry_changes")
    op.execute("CREATE TABLE registry_revision (id integer PRIMARY KEY, revision bigint DEFAULT 0)")
    op.execute("INSERT INTO registry_revision (id, revision) VALUES (1, 0)")
    op.execute(REVISION_BUMP)
    for table in _OLD_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_bump_revision AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION bump_registry_revision()"
        )
