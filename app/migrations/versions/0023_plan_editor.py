"""plan editor: edit history (undo/redo), grid exception reasons, 退回, scheduled approval

- ``plan_edits``: each edit of a draft with the plan's grids before and after it, so undo and redo
  are server-side and survive a reload; ``plans.edit_seq`` says how many of them are applied.
- ``plan_grids.exception_reason``: the planner's reason for a grid with no households, no buildings
  or fewer households than the band, given at submission and shown to the approver.
- ``plans.returned_by/returned_at/return_reason``: the approver's 退回 and why.
- ``plans.effective_at/applied_at`` and the status ``scheduled`` (已批准，待生效): an approval with a
  future effective date swaps the live grids at that moment, once (app/plans/schedule.py).

``plan_edits`` follows its plan under row-level security, like ``plan_grids`` (migration 0012).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CHILD = "plan_id IN (SELECT id FROM plans)"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_plans_status"), "plans", type_="check")
    op.create_check_constraint(
        op.f("ck_plans_status"),
        "plans",
        "status IN ('draft', 'submitted', 'scheduled', 'approved', 'rejected')",
    )
    op.add_column("plans", sa.Column("effective_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("plans", sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("plans", sa.Column("returned_by", sa.String(length=64), nullable=True))
    op.add_column("plans", sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("plans", sa.Column("return_reason", sa.String(length=500), nullable=True))
    op.add_column("plans", sa.Column("edit_seq", sa.Integer(), server_default="0", nullable=False))
    op.add_column("plan_grids", sa.Column("exception_reason", sa.String(length=500), nullable=True))
    # Approved before this migration: the swap was done at approval.
    op.execute("UPDATE plans SET applied_at = approved_at WHERE status = 'approved'")
    op.create_table(
        "plan_edits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("summary", sa.String(length=200), nullable=False),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("made_by", sa.String(length=64), nullable=False),
        sa.Column(
            "made_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_plan_edits_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_edits")),
        sa.UniqueConstraint("plan_id", "seq", name="uq_plan_edits_plan_seq"),
    )
    op.execute("ALTER TABLE plan_edits ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE plan_edits FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY app_scope ON plan_edits TO gridgov_app USING ({_CHILD}) WITH CHECK ({_CHILD})"
    )
    op.execute(
        "CREATE POLICY system_all ON plan_edits TO gridgov_system USING (true) WITH CHECK (true)"
    )


def downgrade() -> None:
    op.drop_table("plan_edits")
    op.drop_column("plan_grids", "exception_reason")
    for column in ("edit_seq", "return_reason", "returned_at", "returned_by", "applied_at",
                   "effective_at"):  # fmt: skip
        op.drop_column("plans", column)
    op.execute("UPDATE plans SET status = 'approved' WHERE status = 'scheduled'")
    op.drop_constraint(op.f("ck_plans_status"), "plans", type_="check")
    op.create_check_constraint(
        op.f("ck_plans_status"), "plans", "status IN ('draft', 'submitted', 'approved', 'rejected')"
    )
