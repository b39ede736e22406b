"""barriers: roads, rivers, walls and railways that grids should not cross

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 07:30:00
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "barriers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("class", sa.String(length=16), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTILINESTRING",
                srid=4490,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "class IN ('arterial', 'county_road', 'local', 'river', 'wall', 'railway')",
            name=op.f("ck_barriers_class"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_barriers")),
        sa.UniqueConstraint("name", "class", name="uq_barriers_name_class"),
    )
    op.create_index("ix_barriers_geom", "barriers", ["geom"], unique=False, postgresql_using="gist")


def downgrade() -> None:
    op.drop_index("ix_barriers_geom", table_name="barriers", postgresql_using="gist")
    op.drop_table("barriers")
