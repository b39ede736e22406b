"""Standard addresses (一标, docs/addresses.md): roads, streets and lanes (街路巷) with their door
numbers (门牌号), the buildings behind a door number, and the units (单元) and rooms (室) of a
building. The register's houses point at a room (a flat) or a door number (a house of its own)."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.base import SRID, Base

ODD_SIDES = ("left", "right")
LOCATED = ("surveyed", "interpolated")


class Road(Base):
    """A road, street or lane of one county (街路巷), with the line its door numbers run along.

    Door numbers increase from the line's first point to its last, from ``first_number`` to
    ``last_number``; odd numbers stand on ``odd_side`` (seen walking that way), even numbers on
    the other side (docs/addresses.md#locating-a-door-number).
    """

    __tablename__ = "roads"
    __table_args__ = (
        UniqueConstraint("county_code", "name", name="uq_roads_county_name"),
        CheckConstraint("county_code ~ '^[0-9]{6}$'", name="county_code"),
        CheckConstraint("odd_side IN ('left', 'right')", name="odd_side"),
        CheckConstraint(
            "first_number IS NULL OR last_number IS NULL OR "
            "(first_number >= 0 AND last_number > first_number)",
            name="numbering",
        ),
        CheckConstraint("geom IS NULL OR (ST_IsValid(geom) AND NOT ST_IsEmpty(geom))", name="geom"),
        Index("ix_roads_geom", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    name: Mapped[str] = mapped_column(String(60))
    aliases: Mapped[list[str]] = mapped_column(ARRAY(String), server_default=text("'{}'"))
    first_number: Mapped[int | None] = mapped_column(Integer)
    last_number: Mapped[int | None] = mapped_column(Integer)
    odd_side: Mapped[str] = mapped_column(String(5), server_default="left")
    geom = mapped_column(Geometry("LINESTRING", srid=SRID, spatial_index=False))


class DoorNumber(Base):
    """A door number (门牌号) on a road: "人民路15号", "人民路15-1号" (suffix "-1")."""

    __tablename__ = "door_numbers"
    __table_args__ = (
        UniqueConstraint("road_id", "number", "suffix", name="uq_door_numbers_road_number"),
        CheckConstraint("number > 0", name="number"),
        CheckConstraint("community_code ~ '^[0-9]{12}$'", name="community_code"),
        CheckConstraint("located IN ('surveyed', 'interpolated')", name="located"),
        Index("ix_door_numbers_location", "location", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    road_id: Mapped[int] = mapped_column(ForeignKey("roads.id", ondelete="RESTRICT"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    suffix: Mapped[str] = mapped_column(String(8), server_default="")
    # The community or village the door stands in (from its point), for scope and answers.
    community_code: Mapped[str] = mapped_column(String(12), index=True)
    location = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False), nullable=False)
    located: Mapped[str] = mapped_column(String(12))


class DoorBuilding(Base):
    """A building reached through a door number (a compound gate serves many buildings)."""

    __tablename__ = "door_buildings"

    door_number_id: Mapped[int] = mapped_column(
        ForeignKey("door_numbers.id", ondelete="CASCADE"), primary_key=True
    )
    building_id: Mapped[int] = mapped_column(
        ForeignKey("buildings.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class BuildingUnit(Base):
    """A unit (单元, a stairwell) of a building; number "" is a building without units."""

    __tablename__ = "building_units"
    __table_args__ = (UniqueConstraint("building_id", "number", name="uq_building_units_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(16), server_default="")


class Room(Base):
    """A room (室, a flat) of a unit: "2单元501" is unit "2", room "501"."""

    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("unit_id", "number", name="uq_rooms_unit_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("building_units.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(16))
    floor: Mapped[int | None] = mapped_column(Integer)
