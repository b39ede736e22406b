"""plans: draft grid sets for one community (plans, plan_grids)

Revision ID: 0004
Revises: 0001
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="draft", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("locked_by", sa.String(length=64), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'approved', 'rejected')", name=op.f("ck_plans_status")
        ),
        sa.CheckConstraint(
            "community_code ~ '^[0-9]{12}$'", name=op.f("ck_plans_community_code_12_digits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
    )
    op.create_index(op.f("ix_plans_community_code"), "plans", ["community_code"], unique=False)
    op.create_table(
        "plan_grids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=15), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=16), server_default="comprehensive", nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4490,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column(
            "building_ids", sa.ARRAY(sa.Integer()), server_default=sa.text("'{}'"), nullable=False
        ),
        sa.Column("households", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "code IS NULL OR code ~ '^[0-9]{15}$'", name=op.f("ck_plan_grids_code_15_digits")
        ),
        sa.CheckConstraint(
            "type IN ('comprehensive', 'dedicated', 'micro')", name=op.f("ck_plan_grids_type")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_plan_grids_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_grids")),
    )
    op.create_index("ix_plan_grids_geom", "plan_grids", ["geom"], postgresql_using="gist")
    op.create_index(op.f("ix_plan_grids_plan_id"), "plan_grids", ["plan_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_plan_grids_plan_id"), table_name="plan_grids")
    op.drop_index("ix_plan_grids_geom", table_name="plan_grids", postgresql_using="gist")
    op.drop_table("plan_grids")
    op.drop_index(op.f("ix_plans_community_code"), table_name="plans")
    op.drop_table("plans")
