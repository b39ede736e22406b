"""access log of sensitive household reads (数据应用追溯), append-only

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-22 07:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_access_log_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
    )
    op.create_index("ix_access_log_household_at", "access_log", ["household_id", "at"])
    op.create_index("ix_access_log_username_at", "access_log", ["username", "at"])
    op.execute(
        """
        CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '访问日志只能追加，不能修改或删除' USING ERRCODE = 'GG004';
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log "
        "FOR EACH ROW EXECUTE FUNCTION access_log_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS access_log_append_only ON access_log")
    op.execute("DROP FUNCTION IF EXISTS access_log_append_only()")
    op.drop_index("ix_access_log_username_at", table_name="access_log")
    op.drop_index("ix_access_log_household_at", table_name="access_log")
    op.drop_table("access_log")
