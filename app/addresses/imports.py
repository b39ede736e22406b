"""Import roads (街路巷) and door numbers (门牌号) through the one import core (docs/imports.md,
docs/addresses.md#import): every bad row is a rejection with its number and reason, never a crash;
good rows are written idempotently (roads by county and name, door numbers by road, number and
suffix)."""

from __future__ import annotations

import re

import geopandas as gpd
import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from app.addresses.models import DoorBuilding, DoorNumber, Road
from app.addresses.rules import (
    MAX_NUMBER,
    door_label,
    odd_side_of,
    parse_door,
    place_door,
    road_line,
)
from app.addresses.service import community_at
from app.imports.kinds import feature_rows, field_text
from app.imports.report import ImportReport
from gis.repair import in_china

SRID = 4490
_LIST = re.compile(r"[|;；,，、]")
_COUNTY = re.compile(r"^[0-9]{6}$")
_COMMUNITY = re.compile(r"^[0-9]{12}$")


def _whole(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 6 else None


def _counties(session: Session) -> set[str]:
    return set(
        session.scalars(text("SELECT code FROM areas WHERE level = 'county' AND valid_to IS NULL"))
    )


def import_roads(session: Session, frame: gpd.GeoDataFrame, report: ImportReport) -> None:
    counties = _counties(session)
    seen: set[tuple[str, str]] = set()
    for i, r, geom in feature_rows(frame):
        name = field_text(r, "name")
        county = field_text(r, "county_code")
        if not name:
            report.reject(i, None, "缺少道路名称（字段 name）")
            continue
        if len(name) > 60:
            report.reject(i, name[:40], "道路名称过长：最多 60 个字符")
            continue
        if not _COUNTY.match(county) or county not in counties:
            report.reject(i, name, f"县级编码 {county[:20]!r} 不是已导入的县（6位编码）")
            continue
        if (county, name) in seen:
            report.reject(i, name, "文件中道路名称重复（同一县内道路名称唯一）")
            continue
        first_raw, last_raw = field_text(r, "first_number"), field_text(r, "last_number")
        first, last = _whole(first_raw), _whole(last_raw)
        if (first_raw and first is None) or (last_raw and last is None):
            report.reject(i, name, "起止门牌号应为非负整数")
            continue
        if (first is None) != (last is None) or (
            first is not None and last is not None and not (last > first and last <= MAX_NUMBER)
        ):
            report.reject(i, name, "起止门牌号须同时给出，且终止号大于起始号（不超过99999）")
            continue
        odd_side = odd_side_of(field_text(r, "odd_side"))
        if odd_side is None:
            report.reject(i, name, "单号一侧应为 left/right（左/右）")
            continue
        line, reason = road_line(geom)
        if reason:
            report.reject(i, name, reason)
            continue
        aliases = [a for a in _LIST.split(field_text(r, "aliases")) if a.strip()]
        seen.add((county, name))
        values = {
            "aliases": aliases,
            "first_number": first,
            "last_number": last,
            "odd_side": odd_side,
        }
        road = session.scalar(select(Road).where(Road.county_code == county, Road.name == name))
        if road is None:
            session.add(
                Road(
                    county_code=county,
                    name=name,
                    geom=from_shape(line, srid=SRID) if line else None,
                    **values,
                )
            )
            report.inserted += 1
            continue
        same_line = (road.geom is None and line is None) or (
            road.geom is not None and line is not None and to_shape(road.geom).equals(line)
        )
        if same_line and all(getattr(road, k) == v for k, v in values.items()):
            report.unchanged += 1
            continue
        for k, v in values.items():
            setattr(road, k, v)
        road.geom = from_shape(line, srid=SRID) if line else None
        report.updated += 1
    session.flush()


def import_door_numbers(session: Session, frame: gpd.GeoDataFrame, report: ImportReport) -> None:
    roads: dict[tuple[str, str], Road] = {}
    by_name: dict[str, list[Road]] = {}
    for road in session.scalars(select(Road)):
        roads[(road.county_code, road.name)] = road
        by_name.setdefault(road.name, []).append(road)
    communities = set(
        session.scalars(
            text("SELECT code FROM areas WHERE level = 'community' AND valid_to IS NULL")
        )
    )
    buildings = {code: id_ for code, id_ in session.execute(text("SELECT code, id FROM buildings"))}
    seen: set[tuple[int, int, str]] = set()
    for i, r, geom in feature_rows(frame):
        road_name, county = field_text(r, "road"), field_text(r, "county_code")
        written = field_text(r, "number")
        label = f"{road_name}{written}"[:40] or None
        if not road_name:
            report.reject(i, label, "缺少道路名称（字段 road）")
            continue
        if county:
            named = roads.get((county, road_name))
            candidates = [named] if named else []
        else:
            candidates = by_name.get(road_name, [])
        if not candidates:
            report.reject(
                i, label, f"道路“{road_name[:30]}”不存在：请先导入道路（gridgov import roads）"
            )
            continue
        if len(candidates) > 1:
            report.reject(i, label, f"多个县都有“{road_name}”：请给出县级编码（字段 county_code）")
            continue
        road = candidates[0]
        parsed = parse_door(written, field_text(r, "suffix"))
        if parsed is None:
            report.reject(
                i,
                label,
                f"门牌号 {written[:20]!r} 无效：应为 1–99999 的号数，可带支号，如 15、15-1",
            )
            continue
        number, suffix = parsed
        label = door_label(road.name, number, suffix)
        if (road.id, number, suffix) in seen:
            report.reject(i, label, "文件中门牌重复")
            continue
        if geom is not None and not isinstance(geom, Point):
            report.reject(i, label, "门牌位置需为点（lng/lat）")
            continue
        located = "surveyed"
        point = shapely.force_2d(geom) if geom is not None else None
        if point is None:
            line = to_shape(road.geom) if road.geom is not None else None
            point = place_door(line, number, road.first_number, road.last_number, road.odd_side)
            located = "interpolated"
            if point is None:
                report.reject(
                    i, label, f"没有坐标，且道路“{road.name}”没有中心线或起止门牌号，无法插值定位"
                )
                continue
        if not in_china(point):
            report.reject(i, label, "坐标不在中国范围内：请检查坐标系（--crs）或经纬度是否颠倒")
            continue
        community = field_text(r, "community_code")
        if community and (not _COMMUNITY.match(community) or community not in communities):
            report.reject(i, label, f"社区编码 {community[:20]!r} 不存在")
            continue
        if not community:
            community = community_at(session, point) or ""
            if not community:
                report.reject(i, label, "门牌位置不在任何社区/村内：请检查坐标或给出社区编码")
                continue
        codes = [c.strip() for c in _LIST.split(field_text(r, "building_codes")) if c.strip()]
        unknown = [c for c in codes if c not in buildings]
        if unknown:
            report.reject(i, label, f"楼栋编码 {'、'.join(unknown[:3])} 不存在：请先导入楼栋")
            continue
        seen.add((road.id, number, suffix))
        door = session.scalar(
            select(DoorNumber).where(
                DoorNumber.road_id == road.id,
                DoorNumber.number == number,
                DoorNumber.suffix == suffix,
            )
        )
        wanted = {buildings[c] for c in codes}
        if door is None:
            door = DoorNumber(
                road_id=road.id,
                number=number,
                suffix=suffix,
                community_code=community,
                location=from_shape(point, srid=SRID),
                located=located,
            )
            session.add(door)
            session.flush()
            session.add_all(DoorBuilding(door_number_id=door.id, building_id=b) for b in wanted)
            report.inserted += 1
            continue
        linked = set(
            session.scalars(
                select(DoorBuilding.building_id).where(DoorBuilding.door_number_id == door.id)
            )
        )
        if (
            door.community_code == community
            and door.located == located
            and to_shape(door.location).equals(point)
            and linked == wanted
        ):
            report.unchanged += 1
            continue
        door.community_code, door.located = community, located
        door.location = from_shape(point, srid=SRID)
        session.execute(delete(DoorBuilding).where(DoorBuilding.door_number_id == door.id))
        session.add_all(DoorBuilding(door_number_id=door.id, building_id=b) for b in wanted)
        report.updated += 1
    session.flush()


IMPORTERS = {"roads": import_roads, "door_numbers": import_door_numbers}
