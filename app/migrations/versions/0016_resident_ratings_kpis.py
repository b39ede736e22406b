"""residents' ratings and the KPIs' indexes (docs/domain.md#residents-ratings, docs/domain.md#kpis)

- ``incident_ratings``: each rating a resident gives a closed case through its follow-up link
  (满意 / 基本满意 / 不满意, with a comment), kept apart from the dispatcher's follow-up call
  (回访, ``incidents.satisfaction`` / ``evaluated_at``, set by the ``evaluate`` move). A child of
  the case for row-level security; the intake role may add one (residents rate as they report:
  anyone holding the case's token, anywhere).
- ``incidents.resident_rating`` / ``resident_rated_at``: the case's latest resident rating, which
  the satisfaction KPI counts; ``reopen_count``: how often a 不满意 reopened the case.
- ``incidents.register_late`` / ``verification_late``: whether the 受理立案 stage, and any 核查
  stage, ended after its due time (NULL: not ended yet), set by a trigger when a stage's clock
  ends (``stage_started_at`` changes): 按时受理率 and 按时核查率 count them. The stage of each state
  is app/incidents/deadlines.py's ``STAGE_OF_STATE``.
- ``ix_incidents_reported_at``: 上报数 and 立案率 count the cases reported in a period.
- ``ix_incident_events_dispatch_moves``: 派遣准确率 and 退回率 count the dispatch, reassign and
  return moves made in a period.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 17:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RATINGS = "('satisfied', 'basically', 'unsatisfied')"
MOVES = "action IN ('dispatch', 'reassign', 'return')"
# A rating follows its case (migration 0012's pattern for a case's history).
_APP = "incident_id IN (SELECT id FROM incidents)"

# A stage ends when its clock does: stage_started_at changes (a new stage, or none). It was late
# when the move came after its due time, the clock not stopped (挂账). The moment is the move's own
# (the service stamps updated_at), else the statement's.
TIMELINESS = """
CREATE FUNCTION incidents_stage_timeliness() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    moment timestamptz := CASE WHEN NEW.updated_at IS DISTINCT FROM OLD.updated_at
                               THEN NEW.updated_at ELSE statement_timestamp() END;
    late boolean := OLD.stage_due_at IS NOT NULL AND OLD.paused_since IS NULL
                    AND moment > OLD.stage_due_at;
BEGIN
    IF OLD.stage_started_at IS NULL
       OR NEW.stage_started_at IS NOT DISTINCT FROM OLD.stage_started_at THEN
        RETURN NEW;
    END IF;
    IF OLD.state IN ({register}) THEN
        NEW.register_late := late;
    ELSIF OLD.state IN ({verification}) THEN
        NEW.verification_late := COALESCE(OLD.verification_late, false) OR late;
    END IF;
    RETURN NEW;
END $$
"""


def _states(stage: str) -> str:
    from app.incidents.deadlines import STAGE_OF_STATE

    return ", ".join(f"'{s}'" for s, g in sorted(STAGE_OF_STATE.items()) if g == stage)


def upgrade() -> None:
    op.add_column("incidents", sa.Column("resident_rating", sa.String(16), nullable=True))
    op.add_column(
        "incidents", sa.Column("resident_rated_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "incidents",
        sa.Column("reopen_count", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_incidents_resident_rating"),
        "incidents",
        f"resident_rating IS NULL OR resident_rating IN {RATINGS}",
    )
    op.create_index("ix_incidents_reported_at", "incidents", ["reported_at"])
    op.add_column("incidents", sa.Column("register_late", sa.Boolean(), nullable=True))
    op.add_column("incidents", sa.Column("verification_late", sa.Boolean(), nullable=True))
    op.execute(
        TIMELINESS.format(register=_states("register"), verification=_states("verification"))
    )
    op.execute(
        "CREATE TRIGGER incidents_stage_timeliness BEFORE UPDATE OF stage_started_at "
        "ON incidents FOR EACH ROW EXECUTE FUNCTION incidents_stage_timeliness()"
    )
    op.create_table(
        "incident_ratings",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column(
            "incident_id",
            sa.BigInteger(),
            sa.ForeignKey("incidents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("rating", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("reopened", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "rated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(f"rating IN {RATINGS}", name=op.f("ck_incident_ratings_rating")),
        sa.CheckConstraint("length(comment) <= 500", name=op.f("ck_incident_ratings_comment")),
    )
    op.create_index("ix_incident_ratings_incident_id", "incident_ratings", ["incident_id"])
    op.create_index(
        "ix_incident_events_dispatch_moves",
        "incident_events",
        ["at"],
        postgresql_where=sa.text(MOVES),
    )
    op.execute("ALTER TABLE incident_ratings ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE incident_ratings FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY app_scope ON incident_ratings TO gridgov_app USING ({_APP}) "
        f"WITH CHECK ({_APP})"
    )
    op.execute(
        "CREATE POLICY system_all ON incident_ratings TO gridgov_system "
        "USING (true) WITH CHECK (true)"
    )
    op.execute(
        "CREATE POLICY intake_all ON incident_ratings TO gridgov_intake "
        "USING (true) WITH CHECK (true)"
    )
    op.execute("GRANT INSERT ON incident_ratings TO gridgov_intake")


def downgrade() -> None:
    op.drop_index("ix_incident_events_dispatch_moves", table_name="incident_events")
    op.drop_table("incident_ratings")
    op.execute("DROP TRIGGER IF EXISTS incidents_stage_timeliness ON incidents")
    op.execute("DROP FUNCTION IF EXISTS incidents_stage_timeliness()")
    op.drop_column("incidents", "verification_late")
    op.drop_column("incidents", "register_late")
    op.drop_index("ix_incidents_reported_at", table_name="incidents")
    op.drop_constraint(op.f("ck_incidents_resident_rating"), "incidents", type_="check")
    op.drop_column("incidents", "reopen_count")
    op.drop_column("incidents", "resident_rated_at")
    op.drop_column("incidents", "resident_rating")
