"""One importer per kind of record. Each validates rows, reports what it rejects or repairs, and
writes the good rows idempotently (matched by code), in the caller's transaction."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point, Polygon
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.areas.models import AREA_KINDS, AREA_LEVELS, Area
from app.barriers.models import BARRIER_CLASSES, Barrier
from app.buildings.models import SPECIAL_GROUPS, Building, Household
from app.errors import GridgovError, database_error_to_domain
from app.grids.models import Grid
from app.imports.fields import field_label
from app.imports.report import ImportReport
from app.locate.registry import today
from app.microgrids.models import MicroGrid
from app.microgrids.service import import_micro_grid
from app.staff.models import STAFF_ROLES, Staff
from gis.codes import MICRO_GRID_LENGTH, BadAreaCode, ancestors, canonical, level_of, parent_of
from gis.projection import same_shape
from gis.repair import in_china, polygonal

SRID = 4490
_DIGITS = re.compile(r"^[0-9]+$")


def feature_rows(frame: gpd.GeoDataFrame) -> Iterator[tuple[int, dict[str, Any], Any]]:
    """(feature number, attributes, geometry or None) per row; the number is the row's position in
    the file (1-based), kept when rows the reader could not read were taken out before."""
    name = frame.geometry.name
    columns = [c for c in frame.columns if c != name]
    geoms = frame.geometry.to_numpy()
    values = frame[columns].itertuples(index=False, name=None)
    for pos, row, geom in zip(frame.index, values, geoms, strict=True):
        yield int(pos) + 1, dict(zip(columns, row, strict=True)), geom if geom is not None else None


def field_text(row: dict[str, Any], name: str) -> str:
    """The field ``name`` (our name: app/imports/fields.py) as trimmed text, "" when absent."""
    value = row.get(name)
    if value is None or isinstance(value, bool) or (isinstance(value, float) and pd.isna(value)):
        return ""
    s = str(value).strip()
    if s.endswith(".0") and _DIGITS.match(s[:-2]):  # codes read as floats by GDAL
        s = s[:-2]
    return s if s.lower() != "nan" else ""


def _count(value: str, limit: int) -> int | None:
    """A non-negative whole number of at most ``limit`` written in ASCII digits, else None."""
    if not (_DIGITS.match(value) and value.isascii()) or len(value) > 9:
        return None
    number = int(value)
    return number if number <= limit else None


def _overlong(model: Any, values: dict[str, str | None]) -> str | None:
    """Why a value would not fit its column (the column's declared length), or None."""
    for column, value in values.items():
        length = getattr(model.__table__.c[column].type, "length", None)
        if value and length and len(value) > length:
            return f"字段 {column} 过长：{len(value)} 个字符，最多 {length} 个"
    return None


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
# Level words of our files, of DataV/Aliyun (province, city, district, street) and in Chinese.
_LEVEL_WORDS = {
    "province": "province", "省": "province", "省级": "province",
    "prefecture": "prefecture", "city": "prefecture", "地级": "prefecture", "地级市": "prefecture",
    "市": "prefecture", "county": "county", "district": "county", "县": "county", "区": "county",
    "县级": "county", "township": "township", "street": "township", "乡镇": "township",
    "街道": "township", "乡": "township", "镇": "township", "community": "community",
    "社区": "community", "村": "community",
}  # fmt: skip
# 城乡分类代码 (statistical area codes): 1xx urban (居委会 mostly), 2xx rural (村委会).
URBAN_RURAL = {"111": "主城区", "112": "城乡结合区", "121": "镇中心区", "122": "镇乡结合区",
               "123": "特殊区域", "210": "乡中心区", "220": "村庄"}  # fmt: skip


def _area_kind(level: str, code: str, urban_rural: str = "") -> str:
    if level in ("province", "prefecture", "county"):
        return level
    serial = int(code[-3:])
    if level == "township":
        return "street" if serial < 100 else "town" if serial < 200 else "township"
    if urban_rural:
        return "residents" if urban_rural.startswith("1") else "villagers"
    return "residents" if serial < 200 else "villagers"


@dataclass
class _AreaRow:
    i: int
    code: str
    name: str
    level: str
    kind: str
    parent: str | None
    urban_rural: str | None
    geom: Any  # a checked multipolygon, or None: a code-table row (no boundary in the file)


def _area_row(report: ImportReport, i: int, r: dict[str, Any], geom: Any) -> _AreaRow | None:
    raw = field_text(r, "code")
    if not raw:
        report.reject(i, None, f"缺少{field_label('areas', 'code')}")
        return None
    try:
        code = canonical(raw)
        level = level_of(code)
    except BadAreaCode:
        level = None
    if level not in AREA_LEVELS:  # a grid's 15 digits are a code, but not an area's
        report.reject(
            i, raw, f"{field_label('areas', 'code')}的值 {raw[:30]} 不是区划编码：应为2位（省）、"
            "4位（地级）、6位（县）、9位（乡镇/街道）或12位（村/社区）数字，或补零的6位、12位写法",
        )  # fmt: skip
        return None
    name = field_text(r, "name")
    if not name:
        report.reject(i, code, f"缺少{field_label('areas', 'name')}")
        return None
    declared = field_text(r, "level")
    if declared:
        meant = _LEVEL_WORDS.get(declared.lower(), declared)
        if declared.lower() == "country":
            report.reject(i, code, "全国（level=country）不作为区划导入")
            return None
        if meant == "prefecture" and level == "county" and declared.lower() == "city":
            report.repair(i, code, "DataV 层级 city 的6位县级编码（省直辖县级市），按县级导入")
        elif meant != level:
            report.reject(
                i,
                code,
                f"{field_label('areas', 'level')}为 {declared}，与编码 {code} 的层级 {level} 不符",
            )
            return None
    urban_rural = field_text(r, "urban_rural")
    if urban_rural and urban_rural not in URBAN_RURAL:
        report.reject(
            i, code, f"{field_label('areas', 'urban_rural')} {urban_rural[:10]} 无效；可选："
            + "、".join(f"{k} {v}" for k, v in URBAN_RURAL.items()),
        )  # fmt: skip
        return None
    parent = parent_of(code)
    declared_parent = field_text(r, "parent_code")
    if declared_parent and level != "province":  # DataV gives provinces the country, 100000
        try:
            parent = canonical(declared_parent)
        except BadAreaCode:
            parent = None
        if parent not in ancestors(code):
            report.reject(
                i, code, f"{field_label('areas', 'parent_code')} {declared_parent[:30]} 不是 {code} "
                "的上级：编码按前缀嵌套，下级编码以上级编码开头",
            )  # fmt: skip
            return None
    kind = field_text(r, "kind") or _area_kind(level, code, urban_rural)
    if kind not in AREA_KINDS:
        report.reject(
            i,
            code,
            f"{field_label('areas', 'kind')} {kind[:20]} 无效；可选：{'、'.join(AREA_KINDS)}",
        )
        return None
    too_long = _overlong(Area, {"name": name})
    if too_long:
        report.reject(i, code, too_long)
        return None
    if geom is not None:
        geom = _checked_polygon(report, i, code, geom)
        if geom is None:
            return None
    return _AreaRow(
        i=i,
        code=code,
        name=name,
        level=level,
        kind=kind,
        parent=parent,
        urban_rural=urban_rural if level == "community" and urban_rural else None,
        geom=geom,
    )


_CHILDREN_OUTLINE = text(
    """
    WITH d AS (SELECT geom, length(code) AS n FROM areas
                WHERE valid_to IS NULL AND starts_with(code, :code) AND code <> :code)
    SELECT ST_AsBinary(ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Union(geom)), 3)))
      FROM d WHERE n = (SELECT min(n) FROM d)
    """
)


def import_areas(session: Session, frame: gpd.GeoDataFrame, report: ImportReport) -> None:
    """Areas at every level from our files, DataV/Aliyun GeoJSON or a statistical code table.

    A row without a boundary (a code table) updates the area it names; an area the database does
    not have yet takes the union of its children's outlines, coarsest level of children first
    (docs/imports.md#the-area-tree)."""
    day = today()
    seen: dict[str, int] = {}
    rows: list[_AreaRow] = []
    for i, r, geom in feature_rows(frame):
        row = _area_row(report, i, r, geom)
        if row is None:
            continue
        if row.code in seen:
            report.reject(i, row.code, f"文件中编码 {row.code} 重复（第{seen[row.code]}条已有）")
            continue
        seen[row.code] = i
        rows.append(row)
    outlined = [row for row in rows if row.geom is not None]
    # Finest first, so a code table's township can take its villages' union, then its county.
    bare = sorted((row for row in rows if row.geom is None), key=lambda row: -len(row.code))
    # One query for the areas the rows name, and no flush per row: a province file is thousands.
    codes = [row.code for row in outlined]
    current = {
        a.code: a
        for a in session.scalars(select(Area).where(Area.code.in_(codes), Area.valid_to.is_(None)))
    }
    with session.no_autoflush:
        for row in outlined:
            _write_area(session, report, row, day, current.get(row.code))
    session.flush()
    for row in bare:
        existing = _current_area(session, row.code)
        if existing is not None:
            row.geom = to_shape(existing.geom)
        else:
            wkb = session.scalar(_CHILDREN_OUTLINE, {"code": row.code})
            if wkb is None:
                report.reject(
                    row.i, row.code, f"{row.name}：这一行没有边界，库中也没有该区划或其下级区划可合成"
                    "边界（区划代码表只带编码和名称）；请先导入边界文件（如 DataV GeoJSON、Shapefile）",
                )  # fmt: skip
                continue
            row.geom = shapely.from_wkb(bytes(wkb))
            report.repair(row.i, row.code, "文件中没有边界：按库中下级区划的合并范围生成")
        _write_area(session, report, row, day, existing)
        session.flush()
    session.flush()


def _same_outline(a: Any, b: Any) -> bool:
    """``same_shape``, answered without measuring where that is plain: the same vertices (a
    re-import, a code-table row), or bounds apart by more than the tolerance. Measuring a province
    outline vertex by vertex takes minutes."""
    if shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=1e-9):
        return True
    if max(abs(p - q) for p, q in zip(a.bounds, b.bounds, strict=True)) > 1e-6:
        return False  # 1e-6 degrees is about 0.1 m, ten times same_shape's tolerance
    return same_shape(a, b)


def _current_area(session: Session, code: str) -> Area | None:
    return session.scalar(select(Area).where(Area.code == code, Area.valid_to.is_(None)))


def _write_area(
    session: Session, report: ImportReport, row: _AreaRow, day: dt.date, current: Area | None
) -> None:
    attrs = {"kind": row.kind, "parent_code": row.parent, "urban_rural": row.urban_rural}
    if current is not None:
        same_outline = _same_outline(to_shape(current.geom), row.geom)
        if current.name == row.name and same_outline:
            if all(getattr(current, k) == v for k, v in attrs.items()):
                report.unchanged += 1
            else:  # kind, parent, urban-rural class: facts about the area, not a new version
                for k, v in attrs.items():
                    setattr(current, k, v)
                report.updated += 1
            return
        report.updated += 1
        if current.valid_from < day:
            current.valid_to = day  # history is kept: the old row stays, closed
            session.flush()
        else:  # a same-day correction replaces the row it corrects
            current.name, current.geom = row.name, from_shape(row.geom, srid=SRID)
            for k, v in attrs.items():
                setattr(current, k, v)
            return
    else:
        report.inserted += 1
    session.add(
        Area(
            code=row.code,
            name=row.name,
            level=row.level,
            geom=from_shape(row.geom, srid=SRID),
            valid_from=day,
            **attrs,
        )
    )


# --------------------------------------------------------------------------- grids
_GRID_TYPES = {"comprehensive": "comprehensive", "综合网格": "comprehensive", "综合": "comprehensive",
               "dedicated": "dedicated", "专属网格": "dedicated", "专属": "dedicated",
               "micro": "micro", "微网格": "micro"}  # fmt: skip


def import_grids(session: Session, frame: gpd.GeoDataFrame, report: ImportReport) -> None:
    day = today()
    pending: list[tuple[int, str, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    micro: list[tuple[int, str, dict[str, Any], Any]] = []
    for i, r, geom in feature_rows(frame):
        code = field_text(r, "code")
        if len(code) == MICRO_GRID_LENGTH and _DIGITS.match(code) and code.isascii():
            micro.append((i, code, r, geom))  # a micro-grid: written after the grids
            continue
        if not _DIGITS.match(code) or len(code) != 15 or not code.isascii():
            report.reject(
                i,
                code[:30] or None,
                f"{field_label('grids', 'code')}应为15位数字（12位社区/村编码 + 3位序号），"
                "微网格为17位（网格编码 + 2位序号）",
            )
            continue
        if code in seen:
            report.reject(i, code, f"文件中网格编码 {code} 重复（第{seen[code]}条已有）")
            continue
        seen[code] = i
        community = field_text(r, "community_code") or code[:12]
        if community != code[:12]:
            report.reject(i, code, f"网格编码前12位 {code[:12]} 与所属社区 {community} 不符")
            continue
        gtype = _GRID_TYPES.get(field_text(r, "type") or "comprehensive")
        if gtype is None:
            report.reject(
                i, code, "网格类型应为 comprehensive（综合）、dedicated（专属）或 micro（微网格）"
            )
            continue
        geom = _checked_polygon(report, i, code, geom)
        if geom is None:
            continue
        name = field_text(r, "name") or f"网格{code[-3:]}"
        too_long = _overlong(Grid, {"name": name})
        if too_long:
            report.reject(i, code, too_long)
            continue
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
        if (current.name, current.type) == (data["name"], data["type"]) and _same_outline(
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
    _import_micro_grids(session, micro, seen, report)


def _import_micro_grids(
    session: Session,
    rows: list[tuple[int, str, dict[str, Any], Any]],
    seen: dict[str, int],
    report: ImportReport,
) -> None:
    """The 17-digit rows of a grids file: micro-grids inside the grids just written or already
    active (docs/domain.md#micro-grids), each checked like one drawn by hand."""
    for i, code, r, raw in rows:
        if code in seen:
            report.reject(i, code, f"文件中微网格编码 {code} 重复（第{seen[code]}条已有）")
            continue
        seen[code] = i
        geom = _checked_polygon(report, i, code, raw)
        if geom is None:
            continue
        name = field_text(r, "name") or f"微网格{code[-2:]}"
        too_long = _overlong(MicroGrid, {"name": name})
        if too_long:
            report.reject(i, code, too_long)
            continue
        try:
            with session.begin_nested():
                done = import_micro_grid(session, code=code, name=name, geom=geom)
        except GridgovError as exc:
            report.reject(i, code, exc.message)
            continue
        if done == "inserted":
            report.inserted += 1
        elif done == "updated":
            report.updated += 1
        else:
            report.unchanged += 1


# --------------------------------------------------------------------------- buildings
def import_buildings(session: Session, frame: gpd.GeoDataFrame, report: ImportReport) -> None:
    rows: dict[str, list[Any]] = {k: [] for k in
        ("code", "name", "compound", "address", "aliases", "community", "households", "loc", "fp")}  # fmt: skip
    seen: set[str] = set()
    for i, r, geom in feature_rows(frame):
        code = field_text(r, "code")
        if not code:
            report.reject(i, None, f"缺少{field_label('buildings', 'code')}")
            continue
        if code in seen:
            report.reject(i, code, "文件中楼栋编码重复")
            continue
        name = field_text(r, "name") or code
        aliases = [a for a in re.split(r"[|;；]", field_text(r, "aliases")) if a]
        too_long = _overlong(
            Building,
            {"code": code, "name": name, "compound": field_text(r, "compound"),
             "address": field_text(r, "address"), "community_code": field_text(r, "community_code")},
        ) or next((f"别名 {a[:20]}… 过长（最多100个字符）" for a in aliases if len(a) > 100), None)  # fmt: skip
        if too_long:
            report.reject(i, code[:32], too_long)
            continue
        footprint = None
        if geom is None or geom.is_empty:
            report.reject(i, code, "缺少位置：需要点坐标（lng/lat）或楼栋轮廓")
            continue
        if isinstance(geom, Point):
            location = shapely.force_2d(geom)
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
        households = field_text(r, "households") or "0"
        count = _count(households, 100_000)
        if count is None:
            report.reject(i, code, f"户数 {households[:20]!r} 不是0到100000之间的整数")
            continue
        seen.add(code)
        rows["code"].append(code)
        rows["name"].append(name)
        rows["compound"].append(field_text(r, "compound") or None)
        rows["address"].append(field_text(r, "address") or None)
        rows["aliases"].append("|".join(aliases))
        rows["community"].append(field_text(r, "community_code") or None)
        rows["households"].append(count)
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
    codes = {field_text(r, "building_code") for _i, r, _g in feature_rows(frame)}
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
    for i, r, geom in feature_rows(frame):
        building = field_text(r, "building_code")
        unit, room = field_text(r, "unit"), field_text(r, "room")
        key = (building, unit, room)
        label = "-".join(k for k in key if k)
        if building not in known:
            report.reject(i, label, f"楼栋编码 {building or '（空）'} 不存在：请先导入楼栋")
            continue
        if key in seen:
            report.reject(i, label, "文件中同一楼栋、单元、房号重复")
            continue
        size = field_text(r, "size") or "1"
        people = _count(size, 1000)
        if people is None:
            report.reject(i, label, f"人数 {size[:20]!r} 不是0到1000之间的整数")
            continue
        head, phone = field_text(r, "head_name"), field_text(r, "phone")
        too_long = _overlong(
            Household, {"unit": unit, "room": room, "head_name": head, "phone": phone}
        )
        if too_long:
            report.reject(i, label[:40], too_long)
            continue
        point = shapely.force_2d(geom) if isinstance(geom, Point) else None
        if point is not None and not in_china(point):
            report.reject(i, label, "坐标不在中国范围内：请检查坐标系（--crs）或经纬度是否颠倒")
            continue
        groups = [
            _GROUP_WORDS.get(g, g)
            for g in re.split(r"[;；|,，]", field_text(r, "special_groups"))
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
        rows["building"].append(building)
        rows["unit"].append(unit)
        rows["room"].append(room)
        rows["size"].append(people)
        rows["head"].append(head or None)
        rows["phone"].append(phone or None)
        rows["groups"].append("|".join(groups))
        rows["loc"].append(shapely.to_wkb(point, hex=True) if point is not None else None)
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
    for i, r, _geom in feature_rows(frame):
        code = field_text(r, "staff_code")
        name = field_text(r, "name")
        role = _ROLE_WORDS.get(field_text(r, "role"), field_text(r, "role"))
        grid = field_text(r, "grid_code")
        employment = _EMPLOYMENT_WORDS.get(
            field_text(r, "employment"), field_text(r, "employment") or "full_time"
        )
        if not code or not name:
            report.reject(i, code or None, "缺少人员编号或姓名")
            continue
        too_long = _overlong(Staff, {"code": code, "name": name, "phone": field_text(r, "phone")})
        if too_long:
            report.reject(i, code[:32], too_long)
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
            start = _date(field_text(r, "start_date")) or today()
            end = _date(field_text(r, "end_date"))
        except ValueError:
            report.reject(i, code, "日期格式应为 YYYY-MM-DD")
            continue
        building = field_text(r, "building_code")
        try:
            with session.begin_nested():
                outcome = _upsert_assignment(
                    session,
                    code,
                    name,
                    field_text(r, "phone"),
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
    for i, r, geom in feature_rows(frame):
        raw_class = field_text(r, "class") or "local"
        klass = _BARRIER_WORDS.get(raw_class, raw_class)
        name = field_text(r, "name") or f"未命名{i}"
        if klass not in BARRIER_CLASSES:
            report.reject(i, name, f"类型 {raw_class!r} 无效；可选：{'、'.join(BARRIER_CLASSES)}")
            continue
        too_long = _overlong(Barrier, {"name": name})
        if too_long:
            report.reject(i, name[:40], too_long)
            continue
        lines = (
            [
                shapely.force_2d(g)
                for g in shapely.get_parts(geom)
                if g.geom_type == "LineString" and g.is_valid and g.length > 0
            ]
            if geom is not None
            else []
        )
        if not lines:
            report.reject(i, name, "需要线状几何（道路、河流、围墙的中心线）")
            continue
        if not in_china(shapely.MultiLineString(lines)):
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
        elif _same_outline(to_shape(current.geom), merged):
            report.unchanged += 1
        else:
            current.geom = from_shape(merged, srid=SRID)
            report.updated += 1
    session.flush()


IMPORTERS: dict[str, Callable[[Session, gpd.GeoDataFrame, ImportReport], None]] = {
    "areas": import_areas,
    "grids": import_grids,
    "buildings": import_buildings,
    "households": import_households,
    "staff": import_staff,
    "barriers": import_barriers,
}
