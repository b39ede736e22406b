"""case events announced: NOTIFY incident_events after every statement that adds history rows

The console's live stream (app/incidents/stream.py) is fed by PostgreSQL itself: a statement-level
trigger on ``incident_events`` sends one notification per statement on the channel
``incident_events`` with the range of event ids it inserted (``{"lo": id, "hi": id, "n": count}``).
One listener per web process reads the events of that range (with their case's grid code) and
hands each to the connected consoles whose area covers the case (docs/architecture.md#live-case-stream).

Per statement rather than per row: the escalation sweep adds tens of thousands of events in one
statement, which then cost one notification instead of one each, and the payload stays far below
NOTIFY's 8,000-byte limit whatever the count. Notifications are delivered at commit and dropped on
rollback, so a listener never hears of an event it cannot read. The payload names ids only, nothing
of the case: what the listener reads, it reads from the table.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 17:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "incident_events"

NOTIFY_FUNCTION = f"""
CREATE FUNCTION incident_events_notify() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public
AS $$
DECLARE
    lo bigint;
    hi bigint;
    n bigint;
BEGIN
    SELECT min(id), max(id), count(*) INTO lo, hi, n FROM new_events;
    IF n > 0 THEN
        PERFORM pg_notify('{CHANNEL}', json_build_object('lo', lo, 'hi', hi, 'n', n)::text);
    END IF;
    RETURN NULL;
END
$$
"""

NOTIFY_TRIGGER = """
CREATE TRIGGER incident_events_notify
AFTER INSERT ON incident_events
REFERENCING NEW TABLE AS new_events
FOR EACH STATEMENT EXECUTE FUNCTION incident_events_notify()
"""


def upgrade() -> None:
    op.execute(NOTIFY_FUNCTION)
    op.execute(NOTIFY_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS incident_events_notify ON incident_events")
    op.execute("DROP FUNCTION IF EXISTS incident_events_notify()")
