"""visits and coverage audits: visits, audit_runs, audit_findings

Revision ID: 0003
Revises: 0001

Visits carry covering indexes for the coverage queries (a period scanned by time, grouped by
household or worker). The incident a visit raised is a plain integer: incidents are another branch's
table, so no foreign key across branches.
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=True),
        sa.Column("visited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column(
            "location",
            geoalchemy2.types.Geometry(
                geometry_type="POINT", srid=4490, spatial_index=False, from_text="ST_GeomFromEWKT", name="geometry"
            ),
            nullable=True,
        ),
        sa.Column("input_crs", sa.String(length=16), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("far_from_household", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("photo", sa.LargeBinary(), nullable=True),
        sa.Column("photo_content_type", sa.String(length=64), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind IN ('routine', 'special_group', 'follow_up')", name=op.f("ck_visits_kind")),
        sa.CheckConstraint("distance_m IS NULL OR distance_m >= 0", name=op.f("ck_visits_distance")),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"], name=op.f("fk_visits_household_id_households")),
        sa.ForeignKeyConstraint(["worker_id"], ["staff.id"], name=op.f("fk_visits_worker_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
    )
    op.create_index(
        "ix_visits_visited_at_household", "visits", ["visited_at", "household_id"], unique=False,
        postgresql_include=["worker_id"],
    )
    op.create_index("ix_visits_household_visited_at", "visits", ["household_id", "visited_at"], unique=False)
    op.create_index("ix_visits_worker_visited_at", "visits", ["worker_id", "visited_at"], unique=False)

    op.create_table(
        "audit_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.String(length=15), nullable=False),
        sa.Column("area_name", sa.String(length=100), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("run_by", sa.String(length=64), nullable=False),
        sa.Column("summary", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("previous_run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["previous_run_id"], ["audit_runs.id"], name=op.f("fk_audit_runs_previous_run_id_audit_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_runs")),
    )
    op.create_index("ix_audit_runs_area_started", "audit_runs", ["area_code", "started_at"], unique=False)
    op.create_table(
        "audit_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("objects", sa.ARRAY(sa.String()), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="GEOMETRY", srid=4490, spatial_index=False, from_text="ST_GeomFromEWKT", name="geometry"
            ),
            nullable=True,
        ),
        sa.Column("area_m2", sa.Float(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["audit_runs.id"], name=op.f("fk_audit_findings_run_id_audit_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_findings")),
    )
    op.create_index("ix_audit_findings_run_key", "audit_findings", ["run_id", "key"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_findings_run_key", table_name="audit_findings")
    op.drop_table("audit_findings")
    op.drop_index("ix_audit_runs_area_started", table_name="audit_runs")
    op.drop_table("audit_runs")
    op.drop_index("ix_visits_worker_visited_at", table_name="visits")
    op.drop_index("ix_visits_household_visited_at", table_name="visits")
    op.drop_index("ix_visits_visited_at_household", table_name="visits")
    op.drop_table("visits")
