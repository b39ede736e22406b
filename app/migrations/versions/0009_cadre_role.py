"""staff role 'cadre': the township cadre linked to a grid (联系网格干部, docs/domain.md#staff-roles)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 08:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(op.f("ck_staff_assignments_role"), "staff_assignments", type_="check")
    op.create_check_constraint(
        op.f("ck_staff_assignments_role"),
        "staff_assignments",
        "role IN ('leader', 'worker', 'building_leader', 'unit_steward', 'cadre')",
    )


def downgrade() -> None:
    op.execute("DELETE FROM staff_assignments WHERE role = 'cadre'")
    op.drop_constraint(op.f("ck_staff_assignments_role"), "staff_assignments", type_="check")
    op.create_check_constraint(
        op.f("ck_staff_assignments_role"),
        "staff_assignments",
        "role IN ('leader', 'worker', 'building_leader', 'unit_steward')",
    )
