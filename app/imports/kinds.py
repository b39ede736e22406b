"""One importer per kind of record. Each validates rows, reports what it rejects or repairs, and
writes the good rows idempotently (matched by code), in the caller's transaction."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point, Polygon
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.areas.models import AREA_LEVELS, Area
from app.barriers.models import BARRIER_CLASSES, Barrier
from app.buildings.models import SPECIAL_GROUPS
from app.errors import database_error_to_domain
from app.grids.models import Grid
from app.imports.report import ImportReport
from app.locate.registry import today
from app.staff.models import STAFF_ROLES
from gis.codes import BadAreaCode, level_of
from gis.projection import same_shape
from gis.repair import in_china, polygonal

SRID = 4490
_DIGITS = re.compile(r"^[0-9]+$")


def _text(row: pd.Series, *names: str) -> str:
    for name in names:
        if name in row.index:
            value = row[name]
            if value is None or (isinstance(value, float) and pd.isna(value)):
                continue
            s = str(value).strip()
            if s.endswith(".0") and _DIGITS.match(s[:-2]):  # codes read as floats by GDAL
                s = s[:-2]
            if s and s.lower() != "nan":
                return s
    return ""


def _checked_polygon(report: ImportReport, i: int, code: str, raw: Any) -> Any:
    """The row's polygon in China, repaired if it had to be (and reported), or None if rejected."""
    geom, note, reason = polygonal(raw)
    if reason or geom is None:
        report.reject(i, code, reason or "几何无效")
        return None
    if not in_china(geom):
        report.reject(i, code, "坐标不在中国范围内：请检查坐标系（--crs）或经纬度是否颠倒")
        return None
    if note:
        report.repair(i, code, note)
    return geom


# --------------------------------------------------------------------------- areas
_LEVEL_WORDS = {
    "县": "county",
    "区": "county",
    "乡镇": "township",
    "街道": "township",
    "社区": "community",
    "村": "community",
}


def _area_kind(level: str, code: str) -> str:
    if level == "county":
        return "county"
    serial = int(code[-3:])
    if level == "township":
        return "street" if serial < 100 else "town" if serial < 200 else "township"
    return "residents" if serial < 200 else "villagers"


def import_areas(session: Session, frame: gpd.GeoDataFrame, report: ImportReport) -> None:
    day = today()
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        r = pd.Series(row._asdict())
        code = _text(r, "code", "编码", "区划代码")
        name = _text(r, "name", "名称", "Name")
        try:
            level: str | None = level_of(code)
        except BadAreaCode:
            level = None
        if level not in AREA_LEVELS:  # a grid's 15 digits are a code, but not an area's
            report.reject(
                i, code or None, "区划编码应为6位（县）、9位（乡镇/街道）或12位（村/社区）数字"
            )
            continue
        if not name:
            report.reject(i, code, "缺少名称")
            continue
        declared = _text(r, "level", "层级")
        if declared and _LEVEL_WORDS.get(declared, declared) != level:
            report.reject(i, code, f"层级 {declared} 与编码位数（{len(code)}位）不符")
            continue
        geom = _checked_polygon(report, i, code, r.get("geometry"))
        if geom is None:
            continue
        parent = _text(r, "parent_code", "上级编码") or (code[:-3] if level != "county" else "")
        kind = _text(r, "kind") or _area_kind(level, code)
        current = session.scalar(select(Area).where(Area.code == code, Area.valid_to.is_(None)))
        if current is not None:
            if current.name == name and same_shape(to_shape(current.geom), geom):
                report.unchanged += 1
                continue
            if current.valid_from < day:
                current.valid_to = day  # history is kept: the old row stays, closed
                session.flush()
            else:  # a same-day correction replaces the row it corrects
                current.name, current.geom, current.kind, current.parent_code = (
                    name,
                    from_shape(geom, srid=SRID),
                    kind,
                    parent or None,
                )
                report.updated += 1
                continue
            report.updated += 1
        else:
            report.inserted += 1
        session.add(
            Area(
                code=code,
                name=name,
                level=level,
                kind=kind,
                parent_code=parent or None,
                geom=from_shape(geom, srid=SRID),
                valid_from=day,
            )
        )
    session.flush()


# --------------------------------------------------------------------------- grids
_GRID_TYPES = {"comprehensive": "comprehensive", "综合网格": "comprehensive", "综合": "comprehensive",
               "dedicated": "dedicated", "专属网格": "dedicated", "专属": "dedicated",
               "micro": "micro", "微网格": "micro"}  # fmt: skip


def import_grids(session: Session, frame: gpd.GeoDataFrame, report: ImportReport) -> None:
    day = today()
    pending: list[tuple[int, str, dict[str, Any]]] = []
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        r = pd.Series(row._asdict())
        code = _text(r, "code", "网格编码")
        if not _DIGITS.match(code) or len(code) != 15:
            report.reject(i, code or None, "网格编码应为15位数字（12位社区/村编码 + 3位序号）")
            continue
        community = _text(r, "community_code", "社区编码") or code[:12]
        if community != code[:12]:
            report.reject(i, code, f"网格编码前12位 {code[:12]} 与所属社区 {community} 不符")
            continue
        gtype = _GRID_TYPES.get(_text(r, "type", "类型") or "comprehensive")
        if gtype is None:
            report.reject(
                i, code, "网格类型应为 comprehensive（综合）、dedicated（专属）或 micro（微网格）"
            )
            continue
        geom = _checked_polygon(report, i, code, r.get("geometry"))
        if geom is None:
            continue
        name = _text(r, "name", "网格名称", "Name") or f"网格{code[-3:]}"
        pending.append(
            (i, code, {"name": name, "type": gtype, "community_code": community, "geom": geom})
        )

    # Retire every changed grid first, then activate the new versions, so the database's overlap
    # rule judges the final state rather than a half-moved one.
    to_insert: list[tuple[int, str, dict[str, Any], int]] = []
    for i, code, data in pending:
        current = session.scalar(select(Grid).where(Grid.code == code, Grid.status == "active"))
        if current is None:
            version = (
                session.scalar(
                    select(Grid.version)
                    .where(Grid.code == code)
                    .order_by(Grid.version.desc())
                    .limit(1)
                )
                or 0
            ) + 1
            to_insert.append((i, code, data, version))
            continue
        if (current.name, current.type) == (data["name"], data["type"]) and same_shape(
            to_shape(current.geom), data["geom"]
        ):
            report.unchanged += 1
            continue
        current.status, current.valid_to = "retired", day
        to_insert.append((i, code, data, current.version + 1))
    session.flush()
    for i, code, data, version in to_insert:
        try:
            with session.begin_nested():
                session.add(
                    Grid(
                        code=code,
                        name=data["name"],
                        type=data["type"],
                        community_code=data["community_code"],
                        geom=from_shape(data["geom"], srid=SRID),
                        status="active",
                        version=version,
                        valid_from=day,
                        reason="导入",
                    )
                )
                session.flush()
        except DBAPIError as exc:
            domain = database_error_to_domain(exc)
            if domain is None:
                raise
            report.reject(i, code, domain.message)
            continue
        if version == 1:
            report.inserted += 1
        else:
            report.updated += 1


# --------------------------------------------------------------------------- buildings
def import_buildings(session: Session, frame: gpd.GeoDataFrame, report: ImportReport) -> None:
    rows: dict[str, list[Any]] = {k: [] for k in
        ("code", "name", "compound", "address", "aliases", "community", "households", "loc", "fp")}  # fmt: skip
    seen: set[str] = set()
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        r = pd.Series(row._asdict())
        code = _text(r, "code", "楼栋编码")
        if not code:
            report.reject(i, None, "缺少楼栋编码 code")
            continue
        if code in seen:
            report.reject(i, code, "文件中楼栋编码重复")
            continue
        geom = r.get("geometry")
        footprint = None
        if geom is None or geom.is_empty:
            report.reject(i, code, "缺少位置：需要点坐标（lng/lat）或楼栋轮廓")
            continue
        if isinstance(geom, Point):
            location = geom
        else:
            multi, note, reason = polygonal(geom)
            if reason or multi is None:
                report.reject(i, code, reason or "几何无效")
                continue
            if note:
                report.repair(i, code, note)
            footprint = (
                max(multi.geoms, key=lambda p: p.area) if len(multi.geoms) > 1 else multi.geoms[0]
            )
            location = footprint.representative_point()
        if not in_china(location):
            report.reject(i, code, "坐标不在中国范围内：请检查坐标系（--crs）或经纬度是否颠倒")
            continue
        households = _text(r, "households", "household_count", "户数") or "0"
        if not households.isdigit():
            report.reject(i, code, f"户数 {households!r} 不是非负整数")
            continue
        seen.add(code)
        aliases = [a for a in re.split(r"[|;；]", _text(r, "aliases", "别名")) if a]
        rows["code"].append(code)
        rows["name"].append(_text(r, "name", "名称", "Name") or code)
        rows["compound"].append(_text(r, "compound", "小区") or None)
        rows["address"].append(_text(r, "address", "地址") or None)
        rows["aliases"].append("|".join(aliases))
        rows["community"].append(_text(r, "community_code", "社区编码") or None)
        rows["households"].append(int(households))
        rows["loc"].append(shapely.to_wkb(location, hex=True))
        rows["fp"].append(
            shapely.to_wkb(footprint, hex=True) if isinstance(footprint, Polygon) else None
        )
    if not rows["code"]:
        return
    result = session.execute(
        text(
            """
            INSERT INTO buildings (code, name, compound, address, aliases, community_code,
                                   household_count, location, footprint)
            SELECT u.code, u.name, u.compound, u.address,
                   CASE WHEN u.aliases = '' THEN '{}'::varchar[] ELSE string_to_array(u.aliases, '|')::varchar[] END,
                   COALESCE(u.community, (SELECT a.code FROM areas a WHERE a.level = 'community'
                       AND a.valid_to IS NULL AND ST_Intersects(a.geom, ST_GeomFromWKB(decode(u.loc, 'hex'), 4490)) LIMIT 1)),
                   u.households, ST_GeomFromWKB(decode(u.loc, 'hex'), 4490),
                   ST_GeomFromWKB(decode(u.fp, 'hex'), 4490)
              FROM unnest(CAST(:code AS text[]), CAST(:name AS text[]), CAST(:compound AS text[]),
                          CAST(:address AS text[]), CAST(:aliases AS text[]), CAST(:community AS text[]),
                          CAST(:households AS int[]), CAST(:loc AS text[]), CAST(:fp AS text[]))
                   AS u(code, name, compound, address, aliases, community, households, loc, fp)
            ON CONFLICT (code) DO UPDATE SET
                   name = EXCLUDED.name, compound = EXCLUDED.compound, address = EXCLUDED.address,
                   aliases = EXCLUDED.aliases, community_code = EXCLUDED.community_code,
                   household_count = EXCLUDED.household_count, location = EXCLUDED.location,
                   footprint = EXCLUDED.footprint
             WHERE (buildings.name, buildings.compound, buildings.address, buildings.aliases,
                    buildings.community_code, buildings.household_count)
                   IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.compound, EXCLUDED.address, EXCLUDED.aliases,
                    EXCLUDED.community_code, EXCLUDED.household_count)
                OR NOT ST_Equals(buildings.location, EXCLUDED.location)
                OR (buildings.footprint IS NULL) <> (EXCLUDED.footprint IS NULL)
                OR NOT ST_Equals(buildings.footprint, EXCLUDED.footprint)
            RETURNING (xmax = 0) AS inserted
            """
        ),
        rows,
    ).all()
    _count_upserts(report, result, len(rows["code"]))


def _count_upserts(report: ImportReport, result: Sequence[Any], total: int) -> None:
    inserted = sum(1 for r in result if r.inserted)
    report.inserted += inserted
    report.updated += len(result) - inserted
    report.unchanged += total - len(result)


# --------------------------------------------------------------------------- households
_GROUP_WORDS = {"困难家庭": "hardship", "危重病人家庭": "critically_ill", "空巢老人": "empty_nest_elderly",
                "留守儿童": "left_behind_child", "信访户": "petitioner", "残疾人": "disabled",
                "社区矫正": "community_correction"}  # fmt: skip


def import_households(session: Session, frame: gpd.GeoDataFrame, report: ImportReport) -> None:
    codes = {
        _text(pd.Series(r._asdict()), "building_code", "楼栋编码")
        for r in frame.itertuples(index=False)
    }
    known = set(
        session.scalars(
            select(text("code")).select_from(text("buildings")).where(text("code = ANY(:c)")),
            {"c": list(codes)},
        )
    )
    rows: dict[str, list[Any]] = {
        k: [] for k in ("building", "unit", "room", "size", "head", "phone", "groups", "loc")
    }
    seen: set[tuple[str, str, str]] = set()
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        r = pd.Series(row._asdict())
        building = _text(r, "building_code", "楼栋编码")
        unit, room = _text(r, "unit", "单元"), _text(r, "room", "房号")
        key = (building, unit, room)
        label = "-".join(k for k in key if k)
        if building not in known:
            report.reject(i, label, f"楼栋编码 {building or '（空）'} 不存在：请先导入楼栋")
            continue
        if key in seen:
            report.reject(i, label, "文件中同一楼栋、单元、房号重复")
            continue
        size = _text(r, "size", "人数") or "1"
        if not size.isdigit():
            report.reject(i, label, f"人数 {size!r} 不是非负整数")
            continue
        groups = [
            _GROUP_WORDS.get(g, g)
            for g in re.split(r"[;；|,，]", _text(r, "special_groups", "重点人群"))
            if g
        ]
        unknown = [g for g in groups if g not in SPECIAL_GROUPS]
        if unknown:
            report.reject(
                i,
                label,
                f"未知的重点人群类别 {'、'.join(unknown)}；可选：{'、'.join(SPECIAL_GROUPS)}",
            )
            continue
        seen.add(key)
        geom = r.get("geometry")
        rows["building"].append(building)
        rows["unit"].append(unit)
        rows["room"].append(room)
        rows["size"].append(int(size))
        rows["head"].append(_text(r, "head_name", "户主") or None)
        rows["phone"].append(_text(r, "phone", "电话") or None)
        rows["groups"].append("|".join(groups))
        rows["loc"].append(shapely.to_wkb(geom, hex=True) if isinstance(geom, Point) else None)
    if not rows["building"]:
        return
    result = session.execute(
        text(
            """
            INSERT INTO households (building_id, unit, room, size, head_name, phone, special_groups, location)
            SELECT b.id, u.unit, u.room, u.size, u.head, u.phone,
                   CASE WHEN u.groups = '' THEN '{}'::varchar[] ELSE string_to_array(u.groups, '|')::varchar[] END,
                   COALESCE(ST_GeomFromWKB(decode(u.loc, 'hex'), 4490), b.location)
              FROM unnest(CAST(:building AS text[]), CAST(:unit AS text[]), CAST(:room AS text[]),
                          CAST(:size AS int[]), CAST(:head AS text[]), CAST(:phone AS text[]),
                          CAST(:groups AS text[]), CAST(:loc AS text[]))
                   AS u(building, unit, room, size, head, phone, groups, loc)
              JOIN buildings b ON b.code = u.building
            ON CONFLICT (building_id, unit, room) DO UPDATE SET
                   size = EXCLUDED.size, head_name = EXCLUDED.head_name, phone = EXCLUDED.phone,
                   special_groups = EXCLUDED.special_groups, location = EXCLUDED.location
             WHERE (households.size, households.head_name, households.phone, households.special_groups)
                   IS DISTINCT FROM (EXCLUDED.size, EXCLUDED.head_name, EXCLUDED.phone, EXCLUDED.special_groups)
                OR NOT ST_Equals(households.location, EXCLUDED.location)
            RETURNING (xmax = 0) AS inserted
            """
        ),
        rows,
    ).all()
    _count_upserts(report, result, len(rows["building"]))


# --------------------------------------------------------------------------- staff
_ROLE_WORDS = {
    "网格长": "leader",
    "网格员": "worker",
    "楼栋长": "building_leader",
    "联系网格干部": "cadre",
    "包联干部": "cadre",
    "单元管家": "unit_steward",
}
_EMPLOYMENT_WORDS = {"专职": "full_time", "兼职": "part_time"}


def _date(value: str) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def import_staff(session: Session, frame: gpd.GeoDataFrame, report: ImportReport) -> None:
    grid_codes = set(session.scalars(select(Grid.code).distinct()))
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        r = pd.Series(row._asdict())
        code = _text(r, "staff_code", "code", "人员编号")
        name = _text(r, "name", "姓名")
        role = _ROLE_WORDS.get(_text(r, "role", "角色"), _text(r, "role", "角色"))
        grid = _text(r, "grid_code", "网格编码")
        employment = _EMPLOYMENT_WORDS.get(
            _text(r, "employment"), _text(r, "employment") or "full_time"
        )
        if not code or not name:
            report.reject(i, code or None, "缺少人员编号或姓名")
            continue
        if role not in STAFF_ROLES:
            report.reject(
                i,
                code,
                f"角色 {role!r} 无效；可选：网格长 leader、网格员 worker、楼栋长 building_leader、单元管家 unit_steward、联系网格干部 cadre",
            )
            continue
        if employment not in ("full_time", "part_time"):
            report.reject(
                i, code, f"用工方式 {employment!r} 无效：full_time（专职）或 part_time（兼职）"
            )
            continue
        if grid not in grid_codes:
            report.reject(i, code, f"网格编码 {grid or '（空）'} 不存在")
            continue
        try:
            start = _date(_text(r, "start_date", "开始日期")) or today()
            end = _date(_text(r, "end_date", "结束日期"))
        except ValueError:
            report.reject(i, code, "日期格式应为 YYYY-MM-DD")
            continue
        building = _text(r, "building_code", "楼栋编码")
        try:
            with session.begin_nested():
                outcome = _upsert_assignment(
                    session,
                    code,
                    name,
                    _text(r, "phone", "电话"),
                    employment,
                    role,
                    grid,
                    building,
                    start,
                    end,
                )
        except DBAPIError as exc:
            domain = database_error_to_domain(exc)
            if domain is None:
                raise
            report.reject(i, code, domain.message)
            continue
        if outcome == "inserted":
            report.inserted += 1
        elif outcome == "updated":
            report.updated += 1
        else:
            report.unchanged += 1


def _upsert_assignment(
    session: Session,
    code: str,
    name: str,
    phone: str,
    employment: str,
    role: str,
    grid: str,
    building: str,
    start: dt.date,
    end: dt.date | None,
) -> str:
    staff_id = session.execute(
        text(
            "INSERT INTO staff (code, name, phone, employment) VALUES (:c, :n, :p, :e) "
            "ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, phone = EXCLUDED.phone, "
            "employment = EXCLUDED.employment RETURNING id"
        ),
        {"c": code, "n": name, "p": phone or None, "e": employment},
    ).scalar_one()
    building_id = (
        session.scalar(text("SELECT id FROM buildings WHERE code = :c"), {"c": building})
        if building
        else None
    )
    existing = session.execute(
        text(
            "SELECT id, end_date FROM staff_assignments WHERE staff_id = :s AND grid_code = :g "
            "AND role = :r AND start_date = :d"
        ),
        {"s": staff_id, "g": grid, "r": role, "d": start},
    ).first()
    if existing is None:
        session.execute(
            text(
                "INSERT INTO staff_assignments (staff_id, grid_code, role, building_id, start_date, end_date) "
                "VALUES (:s, :g, :r, :b, :d, :e)"
            ),
            {"s": staff_id, "g": grid, "r": role, "b": building_id, "d": start, "e": end},
        )
        return "inserted"
    if existing.end_date != end:
        session.execute(
            text("UPDATE staff_assignments SET end_date = :e WHERE id = :id"),
            {"e": end, "id": existing.id},
        )
        return "updated"
    return "unchanged"


# --------------------------------------------------------------------------- barriers
_BARRIER_WORDS = {"主干道": "arterial", "县道": "county_road", "道路": "local", "支路": "local",
                  "河流": "river", "河": "river", "围墙": "wall", "铁路": "railway"}  # fmt: skip


def import_barriers(session: Session, frame: gpd.GeoDataFrame, report: ImportReport) -> None:
    """Roads, rivers, walls, railways. Keyed by (name, class); several features with one key (a road
    drawn in pieces) are merged into one multi-line."""
    pieces: dict[tuple[str, str], list[Any]] = {}
    first_feature: dict[tuple[str, str], int] = {}
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        r = pd.Series(row._asdict())
        raw_class = _text(r, "class", "类型") or "local"
        klass = _BARRIER_WORDS.get(raw_class, raw_class)
        name = _text(r, "name", "名称", "Name") or f"未命名{i}"
        if klass not in BARRIER_CLASSES:
            report.reject(i, name, f"类型 {raw_class!r} 无效；可选：{'、'.join(BARRIER_CLASSES)}")
            continue
        geom = r.get("geometry")
        lines = (
            [g for g in shapely.get_parts(geom) if g.geom_type == "LineString"]
            if geom is not None
            else []
        )
        if not lines:
            report.reject(i, name, "需要线状几何（道路、河流、围墙的中心线）")
            continue
        if not in_china(geom):
            report.reject(i, name, "坐标不在中国范围内：请检查坐标系（--crs）")
            continue
        pieces.setdefault((name, klass), []).extend(lines)
        first_feature.setdefault((name, klass), i)
    for (name, klass), lines in pieces.items():
        merged = shapely.MultiLineString(lines)
        current = session.scalar(
            select(Barrier).where(Barrier.name == name, Barrier.class_ == klass)
        )
        if current is None:
            session.add(Barrier(name=name, class_=klass, geom=from_shape(merged, srid=SRID)))
            report.inserted += 1
        elif same_shape(to_shape(current.geom), merged):
            report.unchanged += 1
        else:
            current.geom = from_shape(merged, srid=SRID)
            report.updated += 1
    report.total = len(frame)
    session.flush()


IMPORTERS: dict[str, Callable[[Session, gpd.GeoDataFrame, ImportReport], None]] = {
    "areas": import_areas,
    "grids": import_grids,
    "buildings": import_buildings,
    "households": import_households,
    "staff": import_staff,
    "barriers": import_barriers,
}
