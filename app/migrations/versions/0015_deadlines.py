"""deadlines: limits on calendar time, stage clocks, extensions on request, 挂账

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 17:15:00

Categories may count their limit on the clock (calendar_hours, calendar_days) as well as in
working time; the classes the category file now puts on calendar time are loaded here (0002 loads
only those on working time), and a class still holding the limit the earlier file shipped gets
the new one (a class a county has edited keeps its edit). Cases get their clock
(docs/domain.md#deadlines-and-the-calendar): the handling limit they were reported with, the
current stage's start, due time and amber time, the 挂账 pause and a pending 延期/挂账 request;
open cases keep their current deadline as the due time of the stage they are in.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ALL = "'calendar_hours', 'calendar_days', 'working_hours', 'working_days'"
_WORKING = "'working_hours', 'working_days'"
# The limits the earlier category file shipped for the classes that changed: (value, unit,
# urgent value, urgent unit).
_SHIPPED = {
    "0201": (8, "working_hours", 2, "working_hours"),
    "0202": (4, "working_hours", 1, "working_hours"),
    "0203": (3, "working_days", 4, "working_hours"),
    "0204": (1, "working_days", 4, "working_hours"),
    "0205": (3, "working_days", 8, "working_hours"),
    "0301": (4, "working_hours", 1, "working_hours"),
    "0302": (2, "working_hours", 1, "working_hours"),
    "0305": (1, "working_days", 4, "working_hours"),
    "0405": (4, "working_hours", 1, "working_hours"),
    "0504": (2, "working_days", 8, "working_hours"),
    "0601": (2, "working_days", 4, "working_hours"),
    "0701": (2, "working_hours", 1, "working_hours"),
    "0702": (4, "working_hours", 1, "working_hours"),
    "0703": (4, "working_hours", 1, "working_hours"),
    "0704": (2, "working_hours", 1, "working_hours"),
    "0803": (4, "working_hours", 1, "working_hours"),
}
_COLUMNS = (
    ("limit_value", sa.Float()),
    ("limit_unit", sa.String(length=16)),
    ("stage_started_at", sa.DateTime(timezone=True)),
    ("stage_due_at", sa.DateTime(timezone=True)),
    ("amber_at", sa.DateTime(timezone=True)),
    ("paused_since", sa.DateTime(timezone=True)),
    ("pending_request", postgresql.JSONB()),
)


def _unit_checks(units: str) -> None:
    for name, column in (("unit", "limit_unit"), ("urgent_unit", "urgent_limit_unit")):
        op.drop_constraint(
            op.f(f"ck_incident_categories_{name}"), "incident_categories", type_="check"
        )
        op.create_check_constraint(
            op.f(f"ck_incident_categories_{name}"),
            "incident_categories",
            f"{column} IS NULL OR {column} IN ({units})",
        )


def upgrade() -> None:
    _unit_checks(_ALL)
    from app.incidents.categories import DEFAULT_FILE, read_category_file, upsert_categories

    bind = op.get_bind()
    rows = {r["code"]: r for r in read_category_file(DEFAULT_FILE)}
    present = {c for (c,) in bind.execute(sa.text("SELECT code FROM incident_categories"))}
    upsert_categories(bind, [r for code, r in rows.items() if code not in present])
    for code, (lv, lu, ulv, ulu) in _SHIPPED.items():
        if code not in rows or code not in present:
            continue
        r = rows[code]
        bind.execute(
            sa.text(
                "UPDATE incident_categories SET limit_value = :nlv, limit_unit = :nlu, "
                "urgent_limit_value = :nulv, urgent_limit_unit = :nulu "
                "WHERE code = :code AND limit_value = :lv AND limit_unit = :lu "
                "AND urgent_limit_value = :ulv AND urgent_limit_unit = :ulu"
            ),
            {
                "code": code, "lv": lv, "lu": lu, "ulv": ulv, "ulu": ulu,
                "nlv": r["limit_value"], "nlu": r["limit_unit"],
                "nulv": r["urgent_limit_value"], "nulu": r["urgent_limit_unit"],
            },
        )  # fmt: skip

    for name, type_ in _COLUMNS:
        op.add_column("incidents", sa.Column(name, type_, nullable=True))
    op.add_column(
        "incidents",
        sa.Column("paused_minutes", sa.Integer(), server_default="0", nullable=False),
    )
    # Existing cases: the limit of their category as reported, and the current deadline as the due
    # time of whatever stage they are in, counted from the report (the only clock they had).
    op.execute(
        """
        UPDATE incidents i
           SET limit_value = CASE WHEN i.urgent AND c.urgent_limit_value IS NOT NULL
                                  THEN c.urgent_limit_value ELSE c.limit_value END,
               limit_unit = CASE WHEN i.urgent AND c.urgent_limit_value IS NOT NULL
                                 THEN c.urgent_limit_unit ELSE c.limit_unit END,
               stage_started_at = CASE WHEN i.state IN ('reported', 'accepted', 'registered',
                   'returned', 'dispatched', 'handling', 'handled', 'checking')
                   THEN i.reported_at END,
               stage_due_at = CASE WHEN i.state IN ('reported', 'accepted', 'registered',
                   'returned', 'dispatched', 'handling', 'handled', 'checking')
                   THEN i.deadline END,
               -- amber at the last fifth of the span (deadlines.json's default), in elapsed time
               amber_at = CASE WHEN i.state IN ('reported', 'accepted', 'registered',
                   'returned', 'dispatched', 'handling', 'handled', 'checking')
                   THEN i.deadline - (i.deadline - i.reported_at) * 0.2 END
          FROM incident_categories c
         WHERE c.code = i.category_code
        """
    )


def downgrade() -> None:
    op.drop_column("incidents", "paused_minutes")
    for name, _ in reversed(_COLUMNS):
        op.drop_column("incidents", name)
    # Back to working time only: a class on calendar time gets its value in working units.
    op.execute(
        "UPDATE incident_categories SET limit_unit = replace(limit_unit, 'calendar_', 'working_'), "
        "urgent_limit_unit = replace(urgent_limit_unit, 'calendar_', 'working_')"
    )
    _unit_checks(_WORKING)
