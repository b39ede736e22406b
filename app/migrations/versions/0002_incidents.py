"""incidents: categories, cases, append-only history, outbox, Open311 clients

Revision ID: 0002
Revises: 0001

The history table refuses UPDATE and DELETE in a trigger (nothing is updated in place,
docs/domain.md#incident-lifecycle). The default category table is loaded from
app/incidents/data/categories.csv.
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION incident_events_append_only() RETURNS trigger AS $$
BEGIN
    -- A deliberate purge (retention, test clean-up) sets gridgov.allow_purge; nothing else may.
    IF TG_OP = 'DELETE' AND current_setting('gridgov.allow_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '事件流转记录只能追加，不能修改或删除' USING ERRCODE = 'GG010';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER incident_events_append_only BEFORE UPDATE OR DELETE ON incident_events
    FOR EACH ROW EXECUTE FUNCTION incident_events_append_only();
"""


def upgrade() -> None:
    op.create_table('incident_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('parent_code', sa.String(length=16), nullable=True),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('default_tier', sa.String(length=16), server_default='community', nullable=False),
    sa.Column('limit_value', sa.Double(), nullable=True),
    sa.Column('limit_unit', sa.String(length=16), nullable=True),
    sa.Column('urgent_limit_value', sa.Double(), nullable=True),
    sa.Column('urgent_limit_unit', sa.String(length=16), nullable=True),
    sa.Column('open_condition', sa.Text(), server_default='', nullable=False),
    sa.Column('close_condition', sa.Text(), server_default='', nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.CheckConstraint("default_tier IN ('grid', 'community', 'township', 'county')", name=op.f('ck_incident_categories_tier')),
    sa.CheckConstraint("limit_unit IS NULL OR limit_unit IN ('working_hours', 'working_days')", name=op.f('ck_incident_categories_unit')),
    sa.CheckConstraint("urgent_limit_unit IS NULL OR urgent_limit_unit IN ('working_hours', 'working_days')", name=op.f('ck_incident_categories_urgent_unit')),
    sa.CheckConstraint('parent_code IS NULL OR (limit_value > 0 AND limit_unit IS NOT NULL)', name=op.f('ck_incident_categories_small_class_has_limit')),
    sa.ForeignKeyConstraint(['parent_code'], ['incident_categories.code'], name=op.f('fk_incident_categories_parent_code_incident_categories'), onupdate='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_categories')),
    sa.UniqueConstraint('code', name=op.f('uq_incident_categories_code'))
    )
    op.create_table('open311_clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('key_sha256', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_open311_clients')),
    sa.UniqueConstraint('key_sha256', name=op.f('uq_open311_clients_key_sha256'))
    )
    op.create_table('incidents',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_no', sa.String(length=24), nullable=False),
    sa.Column('token', sa.String(length=36), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=True),
    sa.Column('category_code', sa.String(length=16), nullable=False),
    sa.Column('urgent', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=16), server_default='api', nullable=False),
    sa.Column('reporter_name', sa.String(length=50), nullable=True),
    sa.Column('reporter_phone', sa.String(length=32), nullable=True),
    sa.Column('reporter_username', sa.String(length=64), nullable=True),
    sa.Column('location', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('grid_code', sa.String(length=15), nullable=False),
    sa.Column('community_code', sa.String(length=12), nullable=False),
    sa.Column('township_code', sa.String(length=9), nullable=True),
    sa.Column('leader_name', sa.String(length=50), nullable=True),
    sa.Column('locate', postgresql.JSONB(astext_type=Text()), nullable=False),
    sa.Column('photos', postgresql.JSONB(astext_type=Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('assignee', sa.String(length=64), nullable=True),
    sa.Column('state', sa.String(length=16), server_default='reported', nullable=False),
    sa.Column('tier', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('supervised', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('escalate_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('evaluated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('satisfaction', sa.String(length=16), nullable=True),
    sa.Column('extension_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rework_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('escalation_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('on_spot', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("satisfaction IS NULL OR satisfaction IN ('satisfied', 'basically', 'unsatisfied')", name=op.f('ck_incidents_satisfaction')),
    sa.CheckConstraint('tier BETWEEN 0 AND 3', name=op.f('ck_incidents_tier')),
    sa.ForeignKeyConstraint(['category_code'], ['incident_categories.code'], name=op.f('fk_incidents_category_code_incident_categories'), onupdate='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('case_no', name=op.f('uq_incidents_case_no')),
    sa.UniqueConstraint('token', name=op.f('uq_incidents_token'))
    )
    op.create_index('ix_incidents_deadline_grid', 'incidents', ['deadline', 'grid_code'], unique=False)
    op.create_index('ix_incidents_escalate_at', 'incidents', ['escalate_at'], unique=False, postgresql_where=sa.text("escalate_at IS NOT NULL AND state IN ('reported', 'accepted', 'registered', 'dispatched', 'handling')"))
    op.create_index('ix_incidents_grid_code', 'incidents', ['grid_code'], unique=False, postgresql_ops={'grid_code': 'text_pattern_ops'})
    op.create_index('ix_incidents_location', 'incidents', ['location'], unique=False, postgresql_using='gist')
    op.create_index('uq_incidents_idempotency_key', 'incidents', ['idempotency_key'], unique=True, postgresql_where=sa.text('idempotency_key IS NOT NULL'))
    op.create_table('incident_events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('incident_id', sa.BigInteger(), nullable=False),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('from_state', sa.String(length=16), nullable=True),
    sa.Column('to_state', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_events_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_events'))
    )
    op.create_index(op.f('ix_incident_events_incident_id'), 'incident_events', ['incident_id'], unique=False)
    op.create_table('incident_outbox',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('incident_id', sa.BigInteger(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_outbox_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_outbox'))
    )
    op.create_index('ix_incident_outbox_pending', 'incident_outbox', ['next_attempt_at'], unique=False, postgresql_where=sa.text('delivered_at IS NULL AND failed = false'))
    op.execute(_APPEND_ONLY)
    from app.incidents.categories import DEFAULT_FILE, read_category_file, upsert_categories

    # The sensitive flag has no column yet: migration 0013 adds it and sets it from the same file.
    # Classes on calendar time need the units migration 0015 allows: 0015 loads those.
    known = (None, "working_hours", "working_days")
    rows = [
        {k: v for k, v in r.items() if k != "sensitive"}
        for r in read_category_file(DEFAULT_FILE)
        if r["limit_unit"] in known and r["urgent_limit_unit"] in known
    ]
    upsert_categories(op.get_bind(), rows)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS incident_events_append_only ON incident_events")
    op.execute("DROP FUNCTION IF EXISTS incident_events_append_only()")
    op.drop_index('ix_incident_outbox_pending', table_name='incident_outbox', postgresql_where=sa.text('delivered_at IS NULL AND failed = false'))
    op.drop_table('incident_outbox')
    op.drop_index(op.f('ix_incident_events_incident_id'), table_name='incident_events')
    op.drop_table('incident_events')
    op.drop_index('uq_incidents_idempotency_key', table_name='incidents', postgresql_where=sa.text('idempotency_key IS NOT NULL'))
    op.drop_index('ix_incidents_location', table_name='incidents', postgresql_using='gist')
    op.drop_index('ix_incidents_grid_code', table_name='incidents', postgresql_ops={'grid_code': 'text_pattern_ops'})
    op.drop_index('ix_incidents_escalate_at', table_name='incidents', postgresql_where=sa.text("escalate_at IS NOT NULL AND state IN ('reported', 'accepted', 'registered', 'dispatched', 'handling')"))
    op.drop_index('ix_incidents_deadline_grid', table_name='incidents')
    op.drop_table('incidents')
    op.drop_table('open311_clients')
    op.drop_table('incident_categories')
