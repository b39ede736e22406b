"""row-level security: the jurisdiction rule enforced by PostgreSQL itself (docs/security.md#row-level-security)

Three named roles, none of which owns a table:

- ``gridgov_app``: a request's transactions. Scoped tables show only rows whose code lies in
  ``current_setting('gridgov.scope')`` (the caller's jurisdiction prefix, set per transaction by
  app/db.py); an empty or missing scope shows nothing.
- ``gridgov_intake``: filing a case (anyone, anywhere): cases, their history and outbox, nothing else.
- ``gridgov_system``: the worker, the CLI, start-up: every row, visibly under its own name.

Every scoped table has FORCE ROW LEVEL SECURITY, so the owner is bound too unless it is a member of
``gridgov_system`` (granted here to the migrating role) or a superuser. Child tables (a case's
history, a plan's grids, a run's findings) follow their parent through a key lookup on the parent,
which is itself filtered by its own policy.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 14:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("gridgov_app", "gridgov_intake", "gridgov_system")

# The caller's jurisdiction as a half-open text range (codes are digits; '~' sorts after them),
# so the policy is two comparisons a btree index answers (app/auth/policy.py: scope_range).
# Each bound is a scalar subquery, so PostgreSQL computes it once per statement (an InitPlan)
# instead of calling current_setting() for every row: 1M-row KPI scans pay for it otherwise.
_LO = "(SELECT current_setting('gridgov.scope', true))"
_HI = "(SELECT current_setting('gridgov.scope', true) || '~')"


def _in_scope(column: str) -> str:
    return f"({_LO} <> '' AND {column} >= {_LO} AND {column} < {_HI})"


# table -> the app role's condition
SCOPED: dict[str, str] = {
    "incidents": _in_scope("grid_code"),
    "incident_events": "incident_id IN (SELECT id FROM incidents)",
    "incident_outbox": "incident_id IN (SELECT id FROM incidents)",
    "households": (
        "building_id IN (SELECT id FROM buildings WHERE " + _in_scope("community_code") + ")"
    ),
    "access_log": "household_id IN (SELECT id FROM households)",
    "visits": _in_scope("grid_code"),
    "household_visit_stats": "household_id IN (SELECT id FROM households)",
    "worker_visit_days": _in_scope("grid_code"),
    "staff_assignments": _in_scope("grid_code"),
    "plans": _in_scope("community_code"),
    "plan_grids": "plan_id IN (SELECT id FROM plans)",
    "audit_runs": _in_scope("area_code"),
    "audit_findings": "run_id IN (SELECT id FROM audit_runs)",
}

# Intake files cases for anyone, anywhere (docs/domain.md#incident-lifecycle).
INTAKE_TABLES = ("incidents", "incident_events", "incident_outbox")


def upgrade() -> None:
    for role in ROLES:
        op.execute(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') "
            f"THEN CREATE ROLE {role} NOLOGIN; END IF; END $$"
        )
    # The migrating role may act as each of them (SET ROLE), and as the system sees every row.
    op.execute("GRANT gridgov_app, gridgov_intake, gridgov_system TO CURRENT_USER")

    op.execute("GRANT USAGE ON SCHEMA public TO gridgov_app, gridgov_intake, gridgov_system")
    op.execute(
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public "
        "TO gridgov_app, gridgov_system"
    )
    op.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO gridgov_intake")
    op.execute(
        "GRANT INSERT, UPDATE ON incidents, incident_events, incident_outbox TO gridgov_intake"
    )
    op.execute(
        "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public "
        "TO gridgov_app, gridgov_intake, gridgov_system"
    )
    # Tables and sequences added by later migrations get the same grants.
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE "
        "ON TABLES TO gridgov_app, gridgov_system"
    )
    op.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO gridgov_intake")
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES "
        "TO gridgov_app, gridgov_intake, gridgov_system"
    )

    for table, condition in SCOPED.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY app_scope ON {table} TO gridgov_app "
            f"USING ({condition}) WITH CHECK ({condition})"
        )
        op.execute(
            f"CREATE POLICY system_all ON {table} TO gridgov_system USING (true) WITH CHECK (true)"
        )
    for table in INTAKE_TABLES:
        op.execute(
            f"CREATE POLICY intake_all ON {table} TO gridgov_intake USING (true) WITH CHECK (true)"
        )


def downgrade() -> None:
    for table in INTAKE_TABLES:
        op.execute(f"DROP POLICY IF EXISTS intake_all ON {table}")
    for table in SCOPED:
        op.execute(f"DROP POLICY IF EXISTS system_all ON {table}")
        op.execute(f"DROP POLICY IF EXISTS app_scope ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    # The roles are left in place: they are cluster-wide and other databases may use them.
