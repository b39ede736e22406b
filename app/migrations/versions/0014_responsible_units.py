"""responsible units, their members, the routing table; a case's unit; the unit handler role

Units (docs/domain.md#responsible-units) answer for cases: grid, community, township and county
units, functional departments and stationed agencies. ``incidents.unit_code`` is the unit that
answers now. The new tables get the row-level security of migration 0012: a caller sees the units
whose area lies inside their jurisdiction and those whose area holds it (a township dispatcher
sends cases to county departments), and their members and routing rules through them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LO = "(SELECT current_setting('gridgov.scope', true))"
_HI = "(SELECT current_setting('gridgov.scope', true) || '~')"
# Inside the jurisdiction, or holding it (the same prefix rule read both ways).
_RELATED = (
    f"({_LO} <> '' AND ((area_code >= {_LO} AND area_code < {_HI}) "
    f"OR starts_with({_LO}, area_code)))"
)
SCOPED = {
    "units": _RELATED,
    "unit_members": "unit_code IN (SELECT code FROM units)",
    "routing_rules": _RELATED,
}
ROLES_OLD = "'county_admin', 'planner', 'dispatcher', 'grid_worker', 'auditor', 'public'"
ROLES_NEW = (
    "'county_admin', 'planner', 'dispatcher', 'grid_worker', 'auditor', 'unit_handler', 'public'"
)
OPEN_OLD = "'reported', 'accepted', 'registered', 'dispatched', 'handling'"
OPEN_NEW = "'reported', 'accepted', 'registered', 'dispatched', 'returned', 'handling'"


def _escalate_index(states: str) -> None:
    op.drop_index("ix_incidents_escalate_at", table_name="incidents")
    op.create_index(
        "ix_incidents_escalate_at",
        "incidents",
        ["escalate_at"],
        postgresql_where=sa.text(f"escalate_at IS NOT NULL AND state IN ({states})"),
    )


def upgrade() -> None:
    op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
    op.create_check_constraint(op.f("ck_users_role"), "users", f"role IN ({ROLES_NEW})")

    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("area_code", sa.String(length=15), nullable=False),
        sa.Column("parent_code", sa.String(length=40), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            "kind IN ('grid', 'community', 'township', 'county', 'department', 'agency')",
            name=op.f("ck_units_kind"),
        ),
        sa.CheckConstraint(
            "area_code ~ '^[0-9]{6}([0-9]{3}){0,3}$'", name=op.f("ck_units_area_code")
        ),
        sa.CheckConstraint("code ~ '^[A-Za-z0-9_-]{2,40}$'", name=op.f("ck_units_code")),
        sa.CheckConstraint(
            "(kind = 'grid' AND length(area_code) = 15) OR (kind = 'community' AND "
            "length(area_code) = 12) OR (kind = 'township' AND length(area_code) = 9) OR "
            "(kind = 'county' AND length(area_code) = 6) OR kind IN ('department', 'agency')",
            name=op.f("ck_units_tier_level"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_code"],
            ["units.code"],
            name=op.f("fk_units_parent_code_units"),
            onupdate="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("code", name=op.f("uq_units_code")),
    )
    op.create_index(
        "ix_units_area_code",
        "units",
        ["area_code"],
        postgresql_ops={"area_code": "text_pattern_ops"},
    )
    op.create_index(
        "ux_units_tier_area",
        "units",
        ["kind", "area_code"],
        unique=True,
        postgresql_where=sa.text("active AND kind IN ('grid', 'community', 'township', 'county')"),
    )
    op.create_table(
        "unit_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(length=40), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from", name=op.f("ck_unit_members_dates")
        ),
        sa.ForeignKeyConstraint(
            ["unit_code"],
            ["units.code"],
            name=op.f("fk_unit_members_unit_code_units"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_members")),
        sa.UniqueConstraint("unit_code", "username", "valid_from", name="uq_unit_members_once"),
    )
    op.create_index("ix_unit_members_username", "unit_members", ["username"])
    op.create_table(
        "routing_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.String(length=16), nullable=False),
        sa.Column("area_code", sa.String(length=15), nullable=False),
        sa.Column("unit_code", sa.String(length=40), nullable=True),
        sa.Column("tier", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.CheckConstraint(
            "area_code ~ '^[0-9]{6}([0-9]{3}){0,3}$'", name=op.f("ck_routing_rules_area_code")
        ),
        sa.CheckConstraint(
            "(unit_code IS NULL) <> (tier IS NULL) AND "
            "(tier IS NULL OR tier IN ('grid', 'community', 'township', 'county'))",
            name=op.f("ck_routing_rules_unit_or_tier"),
        ),
        sa.ForeignKeyConstraint(
            ["category_code"],
            ["incident_categories.code"],
            name=op.f("fk_routing_rules_category_code_incident_categories"),
            onupdate="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_code"],
            ["units.code"],
            name=op.f("fk_routing_rules_unit_code_units"),
            onupdate="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rules")),
        sa.UniqueConstraint("category_code", "area_code", name="uq_routing_rules_category_area"),
    )

    op.add_column("incidents", sa.Column("unit_code", sa.String(length=40), nullable=True))
    op.create_foreign_key(
        op.f("fk_incidents_unit_code_units"),
        "incidents",
        "units",
        ["unit_code"],
        ["code"],
        onupdate="CASCADE",
    )
    op.create_index("ix_incidents_unit_code", "incidents", ["unit_code"])
    _escalate_index(OPEN_NEW)

    for table, condition in SCOPED.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY app_scope ON {table} TO gridgov_app "
            f"USING ({condition}) WITH CHECK ({condition})"
        )
        op.execute(
            f"CREATE POLICY system_all ON {table} TO gridgov_system USING (true) WITH CHECK (true)"
        )


def downgrade() -> None:
    _escalate_index(OPEN_OLD)
    op.drop_index("ix_incidents_unit_code", table_name="incidents")
    op.drop_constraint(op.f("fk_incidents_unit_code_units"), "incidents", type_="foreignkey")
    op.drop_column("incidents", "unit_code")
    op.drop_table("routing_rules")
    op.drop_table("unit_members")
    op.drop_table("units")
    # A unit handler's account has no role to fall back to: giving it another would widen it.
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM users WHERE role = 'unit_handler') THEN "
        "RAISE EXCEPTION 'unit_handler accounts exist: remove or change them before downgrading'; "
        "END IF; END $$"
    )
    op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
    op.create_check_constraint(op.f("ck_users_role"), "users", f"role IN ({ROLES_OLD})")
