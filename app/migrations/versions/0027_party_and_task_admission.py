"""party-building in the grid and task admission (docs/party.md)

- ``party_orgs``, ``party_org_grids`` (a grid has at most one organisation), ``party_members``
  (linked to the register's person, and to their staff row when they serve as 楼栋长),
  ``dual_registrations`` (双报到) and
  ``service_hours``;
- ``task_kinds`` (a county's 网格事务准入清单) and ``grid_tasks`` (work given to grid workers).

Row-level security as in migration 0012: organisations by their area, grids' links by grid, members
and hours through their parent; a 双报到 registration by its community, and also to the member's
own account wherever it serves; the admission list to everyone inside its county; tasks by grid.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-01 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | Sequence[str] | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LO = "(SELECT current_setting('gridgov.scope', true))"
_HI = "(SELECT current_setting('gridgov.scope', true) || '~')"
_USER = "(SELECT current_setting('gridgov.user', true))"


def _in_scope(column: str) -> str:
    return f"({_LO} <> '' AND {column} >= {_LO} AND {column} < {_HI})"


# Inside the jurisdiction, or holding it (a township's staff read their county's list).
_COUNTY_LIST = f"({_in_scope('county_code')} OR ({_LO} <> '' AND starts_with({_LO}, county_code)))"

SCOPED: dict[str, str] = {
    "party_orgs": _in_scope("area_code"),
    "party_org_grids": _in_scope("grid_code"),
    "party_members": "org_id IN (SELECT id FROM party_orgs)",
    "dual_registrations": (
        f"({_in_scope('community_code')} OR (username IS NOT NULL AND username = {_USER}))"
    ),
    "service_hours": "registration_id IN (SELECT id FROM dual_registrations)",
    "task_kinds": _COUNTY_LIST,
    "grid_tasks": _in_scope("grid_code"),
}


def upgrade() -> None:
    op.create_table(
        "party_orgs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("area_code", sa.String(length=15), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("secretary", sa.String(length=50), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("kind IN ('branch', 'group')", name=op.f("ck_party_orgs_kind")),
        sa.CheckConstraint(
            "area_code ~ '^[0-9]{9}([0-9]{3})?$'", name=op.f("ck_party_orgs_area_code")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["party_orgs.id"],
            name=op.f("fk_party_orgs_parent_id_party_orgs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_orgs")),
    )
    op.create_index("ix_party_orgs_area_code", "party_orgs", ["area_code"])
    op.create_table(
        "party_org_grids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["party_orgs.id"],
            name=op.f("fk_party_org_grids_org_id_party_orgs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_org_grids")),
        sa.UniqueConstraint("grid_code", name="uq_party_org_grids_grid_code"),
    )
    op.create_index("ix_party_org_grids_org_id", "party_org_grids", ["org_id"])
    op.create_table(
        "party_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["party_orgs.id"],
            name=op.f("fk_party_members_org_id_party_orgs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_party_members_person_id_persons"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_party_members_staff_id_staff"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_members")),
    )
    op.create_index("ix_party_members_org_id", "party_members", ["org_id"])
    op.create_index(
        "ux_party_members_staff_id",
        "party_members",
        ["staff_id"],
        unique=True,
        postgresql_where=sa.text("active AND staff_id IS NOT NULL"),
    )
    op.create_table(
        "dual_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("unit_code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.CheckConstraint(
            "community_code ~ '^[0-9]{12}$'", name=op.f("ck_dual_registrations_community_code")
        ),
        sa.ForeignKeyConstraint(
            ["unit_code"],
            ["units.code"],
            name=op.f("fk_dual_registrations_unit_code_units"),
            onupdate="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dual_registrations")),
        sa.UniqueConstraint("community_code", "unit_code", "name", "phone", name="uq_dual_once"),
    )
    op.create_index(
        "ix_dual_registrations_community_code", "dual_registrations", ["community_code"]
    )
    op.create_index("ix_dual_registrations_username", "dual_registrations", ["username"])
    op.create_table(
        "service_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("served_on", sa.Date(), nullable=False),
        sa.Column("hours", sa.Numeric(precision=4, scale=1), nullable=False),
        sa.Column("activity", sa.String(length=200), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("hours > 0 AND hours <= 24", name=op.f("ck_service_hours_hours")),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["dual_registrations.id"],
            name=op.f("fk_service_hours_registration_id_dual_registrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_hours")),
    )
    op.create_index("ix_service_hours_registration_id", "service_hours", ["registration_id"])
    op.create_table(
        "task_kinds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("county_code ~ '^[0-9]{6}$'", name=op.f("ck_task_kinds_county_code")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_kinds")),
        sa.UniqueConstraint("county_code", "name", name="uq_task_kinds_county_name"),
    )
    op.create_table(
        "grid_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind_id", sa.Integer(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("assignee", sa.String(length=64), nullable=False),
        sa.Column("unit_code", sa.String(length=40), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), server_default="", nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=8), server_default="open", nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('open', 'done')", name=op.f("ck_grid_tasks_state")),
        sa.CheckConstraint("grid_code ~ '^[0-9]{15}$'", name=op.f("ck_grid_tasks_grid_code")),
        sa.ForeignKeyConstraint(
            ["kind_id"], ["task_kinds.id"], name=op.f("fk_grid_tasks_kind_id_task_kinds")
        ),
        sa.ForeignKeyConstraint(
            ["unit_code"],
            ["units.code"],
            name=op.f("fk_grid_tasks_unit_code_units"),
            onupdate="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_tasks")),
    )
    op.create_index("ix_grid_tasks_grid_code", "grid_tasks", ["grid_code"])
    op.create_index("ix_grid_tasks_assignee", "grid_tasks", ["assignee", "state"])
    op.create_index("ix_grid_tasks_kind_id", "grid_tasks", ["kind_id"])

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
    for table in reversed(list(SCOPED)):
        op.drop_table(table)
