"""foundation: areas, grids, buildings, households, staff, users

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 06:23:40.030397

The database itself refuses bad grid states (docs/domain.md#grids): invalid geometry (CHECK
constraints), duplicate active codes (partial unique index), two leaders at once (exclusion
constraint), and, in a trigger, an active grid overlapping another active grid or reaching outside
its community by more than the tolerance in registry_config. The trigger's message names the grids
and the area in square metres.
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.migrations.sql import foundation_triggers

revision: str = '0001'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table('areas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('parent_code', sa.String(length=12), nullable=True),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('valid_from', sa.Date(), server_default=sa.text('CURRENT_DATE'), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('replaced_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(level = 'county' AND code ~ '^[0-9]{6}$') OR (level = 'township' AND code ~ '^[0-9]{9}$') OR (level = 'community' AND code ~ '^[0-9]{12}$')", name=op.f('ck_areas_code_matches_level')),
    sa.CheckConstraint("level IN ('county', 'township', 'community')", name=op.f('ck_areas_level')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_areas_geom_valid')),
    sa.CheckConstraint('valid_to IS NULL OR valid_to > valid_from', name=op.f('ck_areas_validity')),
    sa.ForeignKeyConstraint(['replaced_by_id'], ['areas.id'], name=op.f('fk_areas_replaced_by_id_areas')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_areas'))
    )
    op.create_index(op.f('ix_areas_code'), 'areas', ['code'], unique=False)
    op.create_index('ix_areas_geom', 'areas', ['geom'], unique=False, postgresql_using='gist')
    op.create_index(op.f('ix_areas_parent_code'), 'areas', ['parent_code'], unique=False)
    op.create_index('uq_areas_current_code', 'areas', ['code'], unique=True, postgresql_where=sa.text('valid_to IS NULL'))
    op.create_table('buildings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('compound', sa.String(length=100), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('aliases', sa.ARRAY(sa.String()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('community_code', sa.String(length=12), nullable=True),
    sa.Column('household_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('location', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('footprint', geoalchemy2.types.Geometry(geometry_type='POLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.CheckConstraint('footprint IS NULL OR ST_IsValid(footprint)', name=op.f('ck_buildings_footprint_valid')),
    sa.CheckConstraint('household_count >= 0', name=op.f('ck_buildings_household_count')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_buildings')),
    sa.UniqueConstraint('code', name=op.f('uq_buildings_code'))
    )
    op.create_index(op.f('ix_buildings_community_code'), 'buildings', ['community_code'], unique=False)
    op.create_index('ix_buildings_footprint', 'buildings', ['footprint'], unique=False, postgresql_using='gist')
    op.create_index('ix_buildings_location', 'buildings', ['location'], unique=False, postgresql_using='gist')
    op.create_table('grids',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=15), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('type', sa.String(length=16), server_default='comprehensive', nullable=False),
    sa.Column('community_code', sa.String(length=12), nullable=False),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='draft', nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("code ~ '^[0-9]{15}$'", name=op.f('ck_grids_code_15_digits')),
    sa.CheckConstraint("status IN ('draft', 'active', 'retired')", name=op.f('ck_grids_status')),
    sa.CheckConstraint("type IN ('comprehensive', 'dedicated', 'micro')", name=op.f('ck_grids_type')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_grids_geom_valid')),
    sa.CheckConstraint('left(code, 12) = community_code', name=op.f('ck_grids_code_in_community')),
    sa.CheckConstraint('valid_to IS NULL OR valid_to >= valid_from', name=op.f('ck_grids_validity')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grids'))
    )
    op.create_index(op.f('ix_grids_community_code'), 'grids', ['community_code'], unique=False)
    op.create_index('ix_grids_geom', 'grids', ['geom'], unique=False, postgresql_using='gist')
    op.create_index('ix_grids_status', 'grids', ['status'], unique=False)
    op.create_index('uq_grids_active_code', 'grids', ['code'], unique=True, postgresql_where=sa.text("status = 'active'"))
    op.create_index('uq_grids_code_version', 'grids', ['code', 'version'], unique=True)
    op.create_table('registry_config',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_registry_config'))
    )
    op.create_table('registry_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.BigInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registry_revision'))
    )
    op.create_table('staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('employment', sa.String(length=16), server_default='full_time', nullable=False),
    sa.CheckConstraint("employment IN ('full_time', 'part_time')", name=op.f('ck_staff_employment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff')),
    sa.UniqueConstraint('code', name=op.f('uq_staff_code'))
    )
    op.create_table('households',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=16), server_default='', nullable=False),
    sa.Column('room', sa.String(length=16), server_default='', nullable=False),
    sa.Column('size', sa.Integer(), server_default='1', nullable=False),
    sa.Column('head_name', sa.String(length=50), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('special_groups', sa.ARRAY(sa.String()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('location', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint('size >= 0', name=op.f('ck_households_size')),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'], name=op.f('fk_households_building_id_buildings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_households')),
    sa.UniqueConstraint('building_id', 'unit', 'room', name='uq_households_address')
    )
    op.create_index(op.f('ix_households_building_id'), 'households', ['building_id'], unique=False)
    op.create_index('ix_households_location', 'households', ['location'], unique=False, postgresql_using='gist')
    op.create_table('staff_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('grid_code', sa.String(length=15), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    postgresql.ExcludeConstraint((sa.column('grid_code'), '='), (sa.text("daterange(start_date, end_date, '[]')"), '&&'), where=sa.text("role = 'leader'"), using='gist', name='ex_staff_assignments_one_leader'),
    sa.CheckConstraint("role IN ('leader', 'worker', 'building_leader', 'unit_steward')", name=op.f('ck_staff_assignments_role')),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name=op.f('ck_staff_assignments_dates')),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'], name=op.f('fk_staff_assignments_building_id_buildings')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_staff_assignments_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_assignments'))
    )
    op.create_index('ix_staff_assignments_grid_code', 'staff_assignments', ['grid_code'], unique=False)
    op.create_index(op.f('ix_staff_assignments_staff_id'), 'staff_assignments', ['staff_id'], unique=False)
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('full_name', sa.String(length=64), server_default='', nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('jurisdiction_code', sa.String(length=12), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('is_active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("role IN ('county_admin', 'planner', 'dispatcher', 'grid_worker', 'auditor', 'public')", name=op.f('ck_users_role')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_users_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.execute("INSERT INTO registry_revision (id, revision) VALUES (1, 0)")
    op.execute(
        "INSERT INTO registry_config (key, value) VALUES "
        "('overlap_tolerance_m2', 1.0), ('containment_tolerance_m2', 1.0)"
    )
    for statement in foundation_triggers.UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in foundation_triggers.DOWNGRADE:
        op.execute(statement)
    op.drop_table('users')
    op.drop_index(op.f('ix_staff_assignments_staff_id'), table_name='staff_assignments')
    op.drop_index('ix_staff_assignments_grid_code', table_name='staff_assignments')
    op.drop_table('staff_assignments')
    op.drop_index('ix_households_location', table_name='households', postgresql_using='gist')
    op.drop_index(op.f('ix_households_building_id'), table_name='households')
    op.drop_table('households')
    op.drop_table('staff')
    op.drop_table('registry_revision')
    op.drop_table('registry_config')
    op.drop_index('uq_grids_code_version', table_name='grids')
    op.drop_index('uq_grids_active_code', table_name='grids', postgresql_where=sa.text("status = 'active'"))
    op.drop_index('ix_grids_status', table_name='grids')
    op.drop_index('ix_grids_geom', table_name='grids', postgresql_using='gist')
    op.drop_index(op.f('ix_grids_community_code'), table_name='grids')
    op.drop_table('grids')
    op.drop_index('ix_buildings_location', table_name='buildings', postgresql_using='gist')
    op.drop_index('ix_buildings_footprint', table_name='buildings', postgresql_using='gist')
    op.drop_index(op.f('ix_buildings_community_code'), table_name='buildings')
    op.drop_table('buildings')
    op.drop_index('uq_areas_current_code', table_name='areas', postgresql_where=sa.text('valid_to IS NULL'))
    op.drop_index(op.f('ix_areas_parent_code'), table_name='areas')
    op.drop_index('ix_areas_geom', table_name='areas', postgresql_using='gist')
    op.drop_index(op.f('ix_areas_code'), table_name='areas')
    op.drop_table('areas')
