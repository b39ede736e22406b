"""visit rollups: first/last visit per household, visits per grid/worker/day, households revision

Coverage of a county-year (millions of visits) reads these instead of the visits; statement
triggers on visits keep them exact under insert, update, delete and truncate
(app/visits/rollup_sql.py). The upgrade backfills them from the visits already stored.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 07:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.visits import rollup_sql

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "household_visit_stats",
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("first_visit_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_visit_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_household_visit_stats_household_id_households"),
        ),
        sa.PrimaryKeyConstraint("household_id", name=op.f("pk_household_visit_stats")),
    )
    op.create_table(
        "worker_visit_days",
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["staff.id"], name=op.f("fk_worker_visit_days_worker_id_staff")
        ),
        sa.PrimaryKeyConstraint("grid_code", "worker_id", "day", name=op.f("pk_worker_visit_days")),
    )
    op.create_table(
        "households_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_households_revision")),
    )
    for statement in rollup_sql.BACKFILL:
        op.execute(statement)
    for statement in rollup_sql.UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in rollup_sql.DOWNGRADE:
        op.execute(statement)
    op.drop_table("households_revision")
    op.drop_table("worker_visit_days")
    op.drop_table("household_visit_stats")
