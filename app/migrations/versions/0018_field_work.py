"""field work on the phone: offline retries of visits and of "same case" reports answered once

- ``visits.idempotency_key``: the key a phone makes when it queues a check-in; unique per recorder,
  so a check-in sent again when the network returns is answered with the visit already stored.
- ``incident_events``: a report a worker or resident links to an existing case ("same case",
  action ``same_report``) is an event on that case, not a new case; its Idempotency-Key lives in the
  event's data and is unique per caller, so a replay answers the original case.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 17:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("visits", sa.Column("idempotency_key", sa.String(128), nullable=True))
    op.create_index(
        "ux_visits_recorder_idempotency_key",
        "visits",
        ["recorded_by", "idempotency_key"],
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.execute(
        "CREATE UNIQUE INDEX ux_incident_events_same_report_key ON incident_events "
        "((data->>'idempotency_scope'), (data->>'idempotency_key')) "
        "WHERE action = 'same_report'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ux_incident_events_same_report_key")
    op.drop_index("ux_visits_recorder_idempotency_key", table_name="visits")
    op.drop_column("visits", "idempotency_key")
