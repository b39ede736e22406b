"""workforce duties and building leaders (docs/duties.md)

- ``duty_arrivals``: a grid worker went to the place of a dispute, a death or a wedding reported in
  their grid (四必到); one per case. Row-level security as every jurisdiction-scoped table
  (migration 0012): ``app_scope`` on the case's grid code, ``system_all``.
- incident classes 09 居民家事 (0901 丧事, 0902 喜事), the reports that ask for an arrival, added
  from app/incidents/data/categories.csv where missing.
- ``staff_assignments.unit``: the unit (单元) a unit steward (单元管家) looks after in their building.
- users may be building leaders and unit stewards (roles ``building_leader``, ``unit_steward``);
  their jurisdiction is their grid, so ``users.jurisdiction_code`` holds a grid code (15 digits).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-01 20:20:00
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | Sequence[str] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEW_CLASSES = ("09", "0901", "0902")
ROLES_OLD = (
    "'county_admin', 'planner', 'dispatcher', 'grid_worker', 'auditor', 'unit_handler', 'public'"
)
ROLES_NEW = ROLES_OLD + ", 'building_leader', 'unit_steward'"
_SCOPE = (
    "((SELECT current_setting('gridgov.scope', true)) <> '' "
    "AND grid_code >= (SELECT current_setting('gridgov.scope', true)) "
    "AND grid_code < (SELECT current_setting('gridgov.scope', true) || '~'))"
)
_REVOKE_TRIGGER = """
    CREATE TRIGGER users_revoke_sessions
    AFTER UPDATE OF password_hash, role, jurisdiction_code, staff_id, is_active ON users
    FOR EACH ROW WHEN (
        OLD.password_hash IS DISTINCT FROM NEW.password_hash
        OR OLD.role IS DISTINCT FROM NEW.role
        OR OLD.jurisdiction_code IS DISTINCT FROM NEW.jurisdiction_code
        OR OLD.staff_id IS DISTINCT FROM NEW.staff_id
        OR OLD.is_active IS DISTINCT FROM NEW.is_active
    )
    EXECUTE FUNCTION users_revoke_sessions()
"""


def _jurisdiction_length(length: int) -> None:
    # The trigger names the column, so it is dropped and made again around the type change.
    op.execute("DROP TRIGGER IF EXISTS users_revoke_sessions ON users")
    op.alter_column(
        "users",
        "jurisdiction_code",
        type_=sa.String(length),
        existing_nullable=False,
        postgresql_using=f"jurisdiction_code::varchar({length})",
    )
    op.execute(_REVOKE_TRIGGER)


def upgrade() -> None:
    from app.incidents.categories import DEFAULT_FILE, read_category_file, upsert_categories

    bind = op.get_bind()
    present = {c for (c,) in bind.execute(sa.text("SELECT code FROM incident_categories"))}
    upsert_categories(
        bind,
        [
            r
            for r in read_category_file(DEFAULT_FILE)
            if r["code"] in _NEW_CLASSES and r["code"] not in present
        ],
    )

    op.create_table(
        "duty_arrivals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "location",
            geoalchemy2.types.Geometry(
                geometry_type="POINT", srid=4490, spatial_index=False, from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("note", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_duty_arrivals_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_duty_arrivals_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_arrivals")),
    )  # fmt: skip
    op.create_index("ix_duty_arrivals_grid_code", "duty_arrivals", ["grid_code"])
    op.create_index("ux_duty_arrivals_incident", "duty_arrivals", ["incident_id"], unique=True)
    op.execute("ALTER TABLE duty_arrivals ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE duty_arrivals FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY app_scope ON duty_arrivals TO gridgov_app USING ({_SCOPE}) "
        f"WITH CHECK ({_SCOPE})"
    )
    op.execute(
        "CREATE POLICY system_all ON duty_arrivals TO gridgov_system USING (true) WITH CHECK (true)"
    )

    op.add_column("staff_assignments", sa.Column("unit", sa.String(length=16), nullable=True))

    op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
    op.create_check_constraint(op.f("ck_users_role"), "users", f"role IN ({ROLES_NEW})")
    _jurisdiction_length(15)


def downgrade() -> None:
    op.execute(
        "UPDATE users SET is_active = false, role = 'public', jurisdiction_code = "
        "left(jurisdiction_code, 12) WHERE role IN ('building_leader', 'unit_steward')"
    )
    _jurisdiction_length(12)
    op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
    op.create_check_constraint(op.f("ck_users_role"), "users", f"role IN ({ROLES_OLD})")
    op.drop_column("staff_assignments", "unit")
    op.drop_table("duty_arrivals")
