"""security audit trail (安全审计), hash-chained and append-only; worker heartbeats

The chain lives in the database so that every insert, whoever makes it, is chained the same way:
a BEFORE INSERT trigger serialises appends with an advisory transaction lock, numbers the row
(gapless ``id`` = chain position), stamps ``at`` and computes
``hash = sha256(prev_hash || canonical row)``. Canonical row: the JSON array
``[id, at (UTC, ISO 8601, microseconds, "Z"), actor, address, action, object, outcome, detail as text]``
as PostgreSQL renders ``jsonb`` (``app/audittrail/chain.py`` recomputes it independently).
UPDATE, DELETE and TRUNCATE are refused, except DELETE by the retention function
``audit_events_purge(cutoff, actor)``, which runs as the role ``gridgov_audit_retention`` and first
appends an anchor row (action ``audit.purge``) holding the id and hash of the last row it deletes.
The application appends through ``audit_append(...)`` (owner's rights), so no request role needs
write access to the table.

``worker_heartbeats`` (one row per background worker, upserted each loop) and ``ops_health(...)``
(counts and ages only, for the anonymous ``/healthz``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RETENTION_ROLE = "gridgov_audit_retention"
LOCK = "pg_advisory_xact_lock(hashtext('gridgov.audit_events'))"


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object", sa.String(length=300), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('success', 'failure', 'refused', 'error')",
            name=op.f("ck_audit_events_outcome_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_actor_at", "audit_events", ["actor", "at"])
    op.create_index("ix_audit_events_action_at", "audit_events", ["action", "at"])

    op.execute(
        f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{RETENTION_ROLE}') THEN
                CREATE ROLE {RETENTION_ROLE} NOLOGIN;
            END IF;
        END $$
        """
    )
    op.execute(f"GRANT SELECT, INSERT, DELETE ON audit_events TO {RETENTION_ROLE}")
    # The migrating role runs the retention job (``gridgov audit-log purge``) by SET ROLE.
    op.execute(f"GRANT {RETENTION_ROLE} TO CURRENT_USER")

    op.execute(
        f"""
        CREATE FUNCTION audit_events_chain() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            last_id bigint;
            last_hash text;
        BEGIN
            IF NEW.action = 'audit.purge' AND current_user <> '{RETENTION_ROLE}' THEN
                RAISE EXCEPTION '清理锚点只能由审计保留期清理程序写入' USING ERRCODE = 'GG004';
            END IF;
            PERFORM {LOCK};
            SELECT id, hash INTO last_id, last_hash FROM audit_events ORDER BY id DESC LIMIT 1;
            NEW.id := coalesce(last_id, 0) + 1;
            NEW.at := clock_timestamp();
            NEW.prev_hash := coalesce(last_hash, repeat('0', 64));
            NEW.hash := encode(sha256(convert_to(NEW.prev_hash || jsonb_build_array(
                NEW.id,
                to_char(NEW.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                NEW.actor, NEW.address, NEW.action, NEW.object, NEW.outcome, NEW.detail::text
            )::text, 'UTF8')), 'hex');
            RETURN NEW;
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_events_chain BEFORE INSERT ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_chain()"
    )
    op.execute(
        f"""
        CREATE FUNCTION audit_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' AND current_user = '{RETENTION_ROLE}' THEN
                RETURN OLD;
            END IF;
            RAISE EXCEPTION '安全审计记录只能追加，不能修改或删除' USING ERRCODE = 'GG004';
        END;
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_events_guard BEFORE UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_events_guard()"
    )
    op.execute(
        "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_guard()"
    )
    op.execute(
        f"""
        CREATE FUNCTION audit_events_purge(cutoff timestamptz, purged_by text) RETURNS bigint
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE
            through_id bigint;
            through_hash text;
            n bigint;
        BEGIN
            PERFORM {LOCK};
            SELECT id, hash INTO through_id, through_hash FROM audit_events
                WHERE at < cutoff ORDER BY id DESC LIMIT 1;
            IF through_id IS NULL THEN
                RETURN 0;
            END IF;
            SELECT count(*) INTO n FROM audit_events WHERE id <= through_id;
            INSERT INTO audit_events (actor, address, action, object, outcome, detail)
            VALUES (purged_by, NULL, 'audit.purge', 'audit_events', 'success',
                    jsonb_build_object('through_id', through_id, 'through_hash', through_hash,
                                       'deleted', n, 'cutoff', cutoff));
            DELETE FROM audit_events WHERE id <= through_id;
            RETURN n;
        END;
        $$
        """
    )
    op.execute(f"ALTER FUNCTION audit_events_purge(timestamptz, text) OWNER TO {RETENTION_ROLE}")
    op.execute("REVOKE EXECUTE ON FUNCTION audit_events_purge(timestamptz, text) FROM PUBLIC")
    # Appending goes through this function, owned by the table owner, so whichever database role a
    # transaction works as (the web app's, intake's, the system's) can append and nothing else.
    op.execute(
        """
        CREATE FUNCTION audit_append(
            p_actor text, p_address text, p_action text, p_object text, p_outcome text,
            p_detail jsonb
        ) RETURNS bigint
        LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
            INSERT INTO audit_events (actor, address, action, object, outcome, detail)
            VALUES (p_actor, p_address, p_action, p_object, p_outcome, p_detail)
            RETURNING id
        $$
        """
    )

    op.create_table(
        "worker_heartbeats",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_heartbeats")),
    )
    # /healthz is anonymous (load balancers): it may learn counts and ages, never rows, whatever
    # row-level security hides from its role; hence a function with the owner's rights.
    op.execute(
        """
        CREATE FUNCTION ops_health(stale_after_seconds double precision)
        RETURNS TABLE (undelivered bigint, oldest_undelivered_age_s double precision,
                       last_beat_age_s double precision, live_workers bigint)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT (SELECT count(*) FROM incident_outbox
                     WHERE delivered_at IS NULL AND failed = false),
                   (SELECT extract(epoch FROM now() - min(created_at))::double precision
                      FROM incident_outbox WHERE delivered_at IS NULL AND failed = false),
                   (SELECT extract(epoch FROM now() - max(beat_at))::double precision
                      FROM worker_heartbeats),
                   (SELECT count(*) FROM worker_heartbeats
                     WHERE beat_at > now() - make_interval(secs => stale_after_seconds))
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS ops_health(double precision)")
    op.drop_table("worker_heartbeats")
    op.execute("DROP FUNCTION IF EXISTS audit_append(text, text, text, text, text, jsonb)")
    op.execute("DROP FUNCTION IF EXISTS audit_events_purge(timestamptz, text)")
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
    op.execute("DROP TRIGGER IF EXISTS audit_events_guard ON audit_events")
    op.execute("DROP TRIGGER IF EXISTS audit_events_chain ON audit_events")
    op.execute("DROP FUNCTION IF EXISTS audit_events_guard()")
    op.execute("DROP FUNCTION IF EXISTS audit_events_chain()")
    op.drop_table("audit_events")
    # The role is cluster-wide (other databases may use it): left in place.
