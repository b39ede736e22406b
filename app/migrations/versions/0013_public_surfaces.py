"""public surfaces: sensitive categories, idempotency keys scoped to their caller, the public_incidents view

- ``incident_categories.sensitive``: cases of a sensitive class never reach a public surface. The
  default is true (a class nobody has judged is not published); the shipped classes are set from
  app/incidents/data/categories.csv (docs/public.md#sensitive-categories).
- ``incidents.idempotency_scope``: an Idempotency-Key is unique per (scope, key), so one caller's key
  can never fetch another caller's case (docs/public.md#idempotency). Keys stored before this
  revision get the scope 'legacy': a retry of one of them files a new case instead of answering
  with a case whose caller is unknown.
- ``public_incidents``: the only way public surfaces read cases (app/incidents/public.py). It runs
  with its owner's rights (a view's default: security_invoker is off), so it keeps serving the
  public when row-level security hides ``incidents`` from the app role, and it exposes only what a
  resident may see: no names, phones, address, description, grid or exact point; the point is
  snapped to the centre of its 0.001° cell (docs/public.md#coarse-location).
- ``incident_id_for_token(token)``: the one case a follow-up token names (Open311 GET tokens), with
  its owner's rights for the same reason; it answers one token at a time and lists nothing.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# security_barrier: filters written against the view are never evaluated before the view's own
# WHERE, so no function can see a row of a sensitive class.
PUBLIC_INCIDENTS = """
CREATE VIEW public_incidents WITH (security_barrier = true) AS
SELECT i.id,
       i.case_no,
       i.category_code,
       i.state,
       i.reported_at,
       i.updated_at,
       CAST((floor(ST_X(i.location) * 1000) + 0.5) / 1000 AS numeric(10, 4)) AS lng,
       CAST((floor(ST_Y(i.location) * 1000) + 0.5) / 1000 AS numeric(10, 4)) AS lat
  FROM incidents i
  JOIN incident_categories c ON c.code = i.category_code
 WHERE NOT c.sensitive
"""

TOKEN_LOOKUP = """
CREATE FUNCTION incident_id_for_token(p_token text) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$ SELECT id FROM incidents WHERE token = p_token $$
"""


def upgrade() -> None:
    op.add_column(
        "incident_categories",
        sa.Column("sensitive", sa.Boolean(), server_default=sa.text("true"), nullable=False),
    )
    from app.incidents.categories import DEFAULT_FILE, read_category_file

    for row in read_category_file(DEFAULT_FILE):
        op.get_bind().execute(
            sa.text("UPDATE incident_categories SET sensitive = :sensitive WHERE code = :code"),
            {"sensitive": row["sensitive"], "code": row["code"]},
        )

    op.add_column("incidents", sa.Column("idempotency_scope", sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE incidents SET idempotency_scope = 'legacy' WHERE idempotency_key IS NOT NULL"
    )
    op.drop_index(
        "uq_incidents_idempotency_key",
        table_name="incidents",
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.create_index(
        "uq_incidents_idempotency",
        "incidents",
        ["idempotency_scope", "idempotency_key"],
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.create_check_constraint(
        op.f("ck_incidents_idempotency_scoped"),
        "incidents",
        "idempotency_key IS NULL OR idempotency_scope IS NOT NULL",
    )
    op.execute(PUBLIC_INCIDENTS)
    op.execute(TOKEN_LOOKUP)
    # Least privilege: only the application's roles (migration 0012) may call it, not every login.
    op.execute("REVOKE ALL ON FUNCTION incident_id_for_token(text) FROM PUBLIC")
    op.execute(
        "GRANT EXECUTE ON FUNCTION incident_id_for_token(text) "
        "TO gridgov_app, gridgov_intake, gridgov_system"
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS incident_id_for_token(text)")
    op.execute("DROP VIEW IF EXISTS public_incidents")
    op.drop_constraint(op.f("ck_incidents_idempotency_scoped"), "incidents", type_="check")
    op.drop_index(
        "uq_incidents_idempotency",
        table_name="incidents",
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    # Keys were unique per caller; keep only the first case of each key so the old index fits.
    op.execute(
        "UPDATE incidents i SET idempotency_key = NULL WHERE idempotency_key IS NOT NULL "
        "AND EXISTS (SELECT 1 FROM incidents o WHERE o.idempotency_key = i.idempotency_key "
        "AND o.id < i.id)"
    )
    op.create_index(
        "uq_incidents_idempotency_key",
        "incidents",
        ["idempotency_key"],
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.drop_column("incidents", "idempotency_scope")
    op.drop_column("incident_categories", "sensitive")
