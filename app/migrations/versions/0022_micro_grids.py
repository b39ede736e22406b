"""micro-grids (微网格) inside grids, with their steward (docs/domain.md#micro-grids)

The table ``micro_grids`` (code = the grid's 15 digits + a 2-digit serial), scoped by row-level
security on its code like the tables of 0012, and fed to ``registry_changes`` (kind ``micro_grid``,
key the code) so locate answers the micro-grid of a point. Containment in the parent grid and
no overlap between micro-grids are checked when one is written (app/microgrids/service.py, by the
sliver rule of gis.coverage) and audited afterwards (gis/coverage/micro.py).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 20:20:00
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LO = "(SELECT current_setting('gridgov.scope', true))"
_HI = "(SELECT current_setting('gridgov.scope', true) || '~')"
_IN_SCOPE = f"({_LO} <> '' AND code >= {_LO} AND code < {_HI})"

_FEED = """
CREATE OR REPLACE FUNCTION note_micro_grids_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO registry_changes (kind, key) SELECT DISTINCT 'micro_grid', code FROM new_rows;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO registry_changes (kind, key)
        SELECT 'micro_grid', code FROM new_rows UNION SELECT 'micro_grid', code FROM old_rows;
    ELSE
        INSERT INTO registry_changes (kind, key) SELECT DISTINCT 'micro_grid', code FROM old_rows;
    END IF;
    RETURN NULL;
END;
$$;
"""


def upgrade() -> None:
    op.create_table(
        "micro_grids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=17), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON", srid=4490, spatial_index=False
            ),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), server_default="active", nullable=False),
        sa.Column("steward_staff_id", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.Date(), server_default=sa.text("CURRENT_DATE"), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("code ~ '^[0-9]{17}$'", name=op.f("ck_micro_grids_code_17_digits")),
        sa.CheckConstraint("left(code, 15) = grid_code", name=op.f("ck_micro_grids_code_in_grid")),
        sa.CheckConstraint("status IN ('active', 'retired')", name=op.f("ck_micro_grids_status")),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from", name=op.f("ck_micro_grids_validity")
        ),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_micro_grids_geom_valid")),
        sa.ForeignKeyConstraint(
            ["steward_staff_id"], ["staff.id"], name=op.f("fk_micro_grids_steward_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_micro_grids")),
    )
    op.create_index("uq_micro_grids_code", "micro_grids", ["code"], unique=True)
    op.create_index("ix_micro_grids_grid_code", "micro_grids", ["grid_code"])
    op.create_index("ix_micro_grids_steward_staff_id", "micro_grids", ["steward_staff_id"])
    op.create_index("ix_micro_grids_geom", "micro_grids", ["geom"], postgresql_using="gist")

    op.execute("ALTER TABLE micro_grids ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE micro_grids FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY app_scope ON micro_grids TO gridgov_app "
        f"USING ({_IN_SCOPE}) WITH CHECK ({_IN_SCOPE})"
    )
    op.execute(
        "CREATE POLICY system_all ON micro_grids TO gridgov_system USING (true) WITH CHECK (true)"
    )

    op.execute(_FEED)
    for event, refs in (
        ("insert", "NEW TABLE AS new_rows"),
        ("update", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("delete", "OLD TABLE AS old_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER micro_grids_note_{event} AFTER {event.upper()} ON micro_grids "
            f"REFERENCING {refs} FOR EACH STATEMENT EXECUTE FUNCTION note_micro_grids_change()"
        )


def downgrade() -> None:
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS micro_grids_note_{event} ON micro_grids")
    op.execute("DROP FUNCTION IF EXISTS note_micro_grids_change()")
    op.execute("DROP POLICY IF EXISTS system_all ON micro_grids")
    op.execute("DROP POLICY IF EXISTS app_scope ON micro_grids")
    op.drop_index("ix_micro_grids_geom", table_name="micro_grids", postgresql_using="gist")
    op.drop_index("ix_micro_grids_steward_staff_id", table_name="micro_grids")
    op.drop_index("ix_micro_grids_grid_code", table_name="micro_grids")
    op.drop_index("uq_micro_grids_code", table_name="micro_grids")
    op.drop_table("micro_grids")
