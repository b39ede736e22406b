"""standard addresses (一标): roads, door numbers, the buildings behind them, units and rooms

- ``roads``: a county's roads, streets and lanes (街路巷) with their line and numbering;
- ``door_numbers``: door numbers (门牌号) on a road, each with a point (surveyed or interpolated
  along the road line) and the community it stands in;
- ``door_buildings``: which buildings a door number leads to;
- ``building_units`` and ``rooms``: units (单元) and rooms (室), filled here from the households
  already registered (their unit and room text), so every household's flat has a row.

The address tables are the county's public gazetteer, read by every geocode (as buildings are):
every role reads them; the app role writes only inside its jurisdiction (roads by county code, door
numbers by community code, units and rooms by their building's community). Writes to them tell the
registry change feed ('building'), so each process rebuilds its geocoder's gazetteer.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01 20:20:00
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SRID = 4490
_LO = "(SELECT current_setting('gridgov.scope', true))"
_HI = "(SELECT current_setting('gridgov.scope', true) || '~')"


def _in_scope(column: str) -> str:
    return f"({_LO} <> '' AND {column} >= {_LO} AND {column} < {_HI})"


_BUILDING_IN_SCOPE = (
    "building_id IN (SELECT id FROM buildings WHERE " + _in_scope("community_code") + ")"
)
# table -> the app role's write condition (reads are open, see the docstring)
WRITE_SCOPE: dict[str, str] = {
    # A county's roads: the caller's scope covers the county, or lies inside it (a township
    # planner names the roads of the county their township is in).
    "roads": f"({_in_scope('county_code')} OR left({_LO}, 6) = county_code)",
    "door_numbers": _in_scope("community_code"),
    "door_buildings": "door_number_id IN (SELECT id FROM door_numbers WHERE "
    + _in_scope("community_code")
    + ")",
    "building_units": _BUILDING_IN_SCOPE,
    "rooms": "unit_id IN (SELECT id FROM building_units WHERE " + _BUILDING_IN_SCOPE + ")",
}


def upgrade() -> None:
    op.create_table(
        "roads",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("aliases", sa.ARRAY(sa.String()), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("first_number", sa.Integer(), nullable=True),
        sa.Column("last_number", sa.Integer(), nullable=True),
        sa.Column("odd_side", sa.String(5), server_default="left", nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.Geometry("LINESTRING", srid=SRID, spatial_index=False),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name="pk_roads"),
        sa.UniqueConstraint("county_code", "name", name="uq_roads_county_name"),
        sa.CheckConstraint("county_code ~ '^[0-9]{6}$'", name="ck_roads_county_code"),
        sa.CheckConstraint("odd_side IN ('left', 'right')", name="ck_roads_odd_side"),
        sa.CheckConstraint(
            "first_number IS NULL OR last_number IS NULL OR "
            "(first_number >= 0 AND last_number > first_number)",
            name="ck_roads_numbering",
        ),
        sa.CheckConstraint(
            "geom IS NULL OR (ST_IsValid(geom) AND NOT ST_IsEmpty(geom))", name="ck_roads_geom"
        ),
    )
    op.create_index("ix_roads_county_code", "roads", ["county_code"])
    op.create_index("ix_roads_geom", "roads", ["geom"], postgresql_using="gist")

    op.create_table(
        "door_numbers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("road_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("suffix", sa.String(8), server_default="", nullable=False),
        sa.Column("community_code", sa.String(12), nullable=False),
        sa.Column(
            "location",
            geoalchemy2.Geometry("POINT", srid=SRID, spatial_index=False),
            nullable=False,
        ),
        sa.Column("located", sa.String(12), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_door_numbers"),
        sa.ForeignKeyConstraint(
            ["road_id"], ["roads.id"], name="fk_door_numbers_road_id_roads", ondelete="RESTRICT"
        ),
        sa.UniqueConstraint("road_id", "number", "suffix", name="uq_door_numbers_road_number"),
        sa.CheckConstraint("number > 0", name="ck_door_numbers_number"),
        sa.CheckConstraint("community_code ~ '^[0-9]{12}$'", name="ck_door_numbers_community_code"),
        sa.CheckConstraint(
            "located IN ('surveyed', 'interpolated')", name="ck_door_numbers_located"
        ),
    )
    op.create_index("ix_door_numbers_road_id", "door_numbers", ["road_id"])
    op.create_index("ix_door_numbers_community_code", "door_numbers", ["community_code"])
    op.create_index(
        "ix_door_numbers_location", "door_numbers", ["location"], postgresql_using="gist"
    )

    op.create_table(
        "door_buildings",
        sa.Column("door_number_id", sa.Integer(), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("door_number_id", "building_id", name="pk_door_buildings"),
        sa.ForeignKeyConstraint(
            ["door_number_id"],
            ["door_numbers.id"],
            name="fk_door_buildings_door_number_id_door_numbers",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["buildings.id"],
            name="fk_door_buildings_building_id_buildings",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_door_buildings_building_id", "door_buildings", ["building_id"])

    op.create_table(
        "building_units",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("building_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(16), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_building_units"),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["buildings.id"],
            name="fk_building_units_building_id_buildings",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("building_id", "number", name="uq_building_units_number"),
    )
    op.create_table(
        "rooms",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("floor", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_rooms"),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["building_units.id"],
            name="fk_rooms_unit_id_building_units",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("unit_id", "number", name="uq_rooms_unit_number"),
    )

    # The flats households already name get their unit and room rows.
    op.execute(
        "INSERT INTO building_units (building_id, number) "
        "SELECT DISTINCT building_id, unit FROM households ON CONFLICT DO NOTHING"
    )
    op.execute(
        """
        INSERT INTO rooms (unit_id, number, floor)
        SELECT DISTINCT u.id, h.room,
               CASE WHEN h.room ~ '^[0-9]{3,4}$' THEN h.room::int / 100 END
          FROM households h
          JOIN building_units u ON u.building_id = h.building_id AND u.number = h.unit
         WHERE h.room <> ''
        ON CONFLICT DO NOTHING
        """
    )

    op.execute(
        """
        CREATE FUNCTION note_address_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO registry_changes (kind, key) VALUES ('building', NULL);
            RETURN NULL;
        END;
        $$
        """
    )
    for table, condition in WRITE_SCOPE.items():
        op.execute(
            f"CREATE TRIGGER {table}_note_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION note_address_change()"
        )
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY read_all ON {table} FOR SELECT USING (true)")
        op.execute(
            f"CREATE POLICY app_insert ON {table} FOR INSERT TO gridgov_app "
            f"WITH CHECK ({condition})"
        )
        op.execute(
            f"CREATE POLICY app_update ON {table} FOR UPDATE TO gridgov_app "
            f"USING ({condition}) WITH CHECK ({condition})"
        )
        op.execute(
            f"CREATE POLICY app_delete ON {table} FOR DELETE TO gridgov_app USING ({condition})"
        )
        op.execute(
            f"CREATE POLICY system_all ON {table} TO gridgov_system USING (true) WITH CHECK (true)"
        )


def downgrade() -> None:
    for table in reversed(list(WRITE_SCOPE)):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_note_change ON {table}")
    op.execute("DROP FUNCTION IF EXISTS note_address_change()")
    op.drop_table("rooms")
    op.drop_table("building_units")
    op.drop_table("door_buildings")
    op.drop_table("door_numbers")
    op.drop_table("roads")
