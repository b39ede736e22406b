"""Standard addresses: units and rooms kept in step with the households that name them, and the
edits of roads and door numbers made through the API (docs/addresses.md)."""

from __future__ import annotations

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import LineString, Point
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.addresses.models import DoorBuilding, DoorNumber, Road
from app.addresses.rules import door_label, parse_door, place_door, road_line
from app.addresses.schemas import DoorIn, DoorOut, DoorPatch, RoadIn, RoadOut, RoadPatch
from app.auth.scope import AreaScope
from app.buildings.models import Building
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from gis.repair import in_china

SRID = 4490

_UNITS_FROM_HOUSEHOLDS = text(
    "INSERT INTO building_units (building_id, number) "
    "SELECT DISTINCT building_id, unit FROM households ON CONFLICT DO NOTHING"
)
_ROOMS_FROM_HOUSEHOLDS = text(
    """
    INSERT INTO rooms (unit_id, number, floor)
    SELECT DISTINCT u.id, h.room, CASE WHEN h.room ~ '^[0-9]{3,4}$' THEN h.room::int / 100 END
      FROM households h
      JOIN building_units u ON u.building_id = h.building_id AND u.number = h.unit
     WHERE h.room <> ''
    ON CONFLICT DO NOTHING
    """
)


def sync_rooms(session: Session) -> int:
    """Give every household's unit and room a row (migration 0024 did it once for the households
    then registered); returns the number of rooms added."""
    session.execute(_UNITS_FROM_HOUSEHOLDS)
    result = session.execute(_ROOMS_FROM_HOUSEHOLDS)
    return int(getattr(result, "rowcount", 0) or 0)


# --------------------------------------------------------------------------- editing (the API)
def _road_out(session: Session, road: Road) -> RoadOut:
    line = to_shape(road.geom) if road.geom is not None else None
    doors = session.scalar(
        select(func.count()).select_from(DoorNumber).where(DoorNumber.road_id == road.id)
    )
    return RoadOut(
        id=road.id,
        county_code=road.county_code,
        name=road.name,
        aliases=list(road.aliases or []),
        first_number=road.first_number,
        last_number=road.last_number,
        odd_side=road.odd_side,
        line=[(x, y) for x, y in line.coords] if line is not None else None,
        doors=int(doors or 0),
    )


def _door_out(session: Session, door: DoorNumber, road: Road) -> DoorOut:
    point = to_shape(door.location)
    codes = session.scalars(
        select(Building.code)
        .join(DoorBuilding, DoorBuilding.building_id == Building.id)
        .where(DoorBuilding.door_number_id == door.id)
        .order_by(Building.code)
    ).all()
    return DoorOut(
        id=door.id,
        road_id=road.id,
        road=road.name,
        number=door.number,
        suffix=door.suffix,
        label=door_label(road.name, door.number, door.suffix),
        community_code=door.community_code,
        located=door.located,
        lng=point.x,
        lat=point.y,
        building_codes=list(codes),
    )


def _county_of(scope: AreaScope, county: str) -> bool:
    """Whether the caller names the roads of ``county``: it is in their jurisdiction, or their
    jurisdiction lies in it (a township's planner names the county's roads)."""
    return scope.covers(county) or (len(scope.prefix) >= 6 and scope.prefix[:6] == county)


def _road(session: Session, scope: AreaScope, road_id: int) -> Road:
    road = session.get(Road, road_id)
    if road is None or not _county_of(scope, road.county_code):
        raise NotFound(f"道路 {road_id} 不存在")
    return road


def _checked_line(coords: list[tuple[float, float]] | None) -> LineString | None:
    if coords is None:
        return None
    line, reason = road_line(LineString(coords))
    if reason:
        raise InvalidInput(f"line: {reason}", field="line")
    return line


def _numbering(first: int | None, last: int | None) -> None:
    if (first is None) != (last is None) or (
        first is not None and last is not None and last <= first
    ):
        raise InvalidInput(
            "last_number: 起止门牌号须同时给出，且终止号大于起始号", field="last_number"
        )


def list_roads(session: Session, scope: AreaScope) -> list[RoadOut]:
    """The roads of the counties the caller's jurisdiction lies in or covers."""
    roads = session.scalars(select(Road).order_by(Road.county_code, Road.name)).all()
    return [_road_out(session, r) for r in roads if _county_of(scope, r.county_code)]


def create_road(session: Session, scope: AreaScope, data: RoadIn) -> RoadOut:
    if not _county_of(scope, data.county_code):
        raise Forbidden("county_code: 该县不在您的辖区内")
    _numbering(data.first_number, data.last_number)
    name = data.name.strip()
    taken = session.scalar(
        select(Road.id).where(Road.county_code == data.county_code, Road.name == name)
    )
    if taken is not None:
        raise Conflict(f"name: 本县已有道路“{name}”（编号 {taken}）；请修改它而不是新建")
    line = _checked_line(data.line)
    road = Road(
        county_code=data.county_code,
        name=name,
        aliases=[a.strip() for a in data.aliases if a.strip()],
        first_number=data.first_number,
        last_number=data.last_number,
        odd_side=data.odd_side,
        geom=from_shape(line, srid=SRID) if line is not None else None,
    )
    session.add(road)
    session.flush()
    return _road_out(session, road)


def update_road(session: Session, scope: AreaScope, road_id: int, data: RoadPatch) -> RoadOut:
    """Change a road; when its line, numbering or odd side changes, its interpolated door numbers
    move with it (surveyed ones stay where they were surveyed)."""
    road = _road(session, scope, road_id)
    given = data.model_dump(exclude_unset=True)
    if "name" in given and data.name is not None:
        name = data.name.strip()
        taken = session.scalar(
            select(Road.id).where(
                Road.county_code == road.county_code, Road.name == name, Road.id != road.id
            )
        )
        if taken is not None:
            raise Conflict(f"name: 本县已有道路“{name}”（编号 {taken}）")
        road.name = name
    if "aliases" in given:
        road.aliases = [a.strip() for a in data.aliases or [] if a.strip()]
    first = given.get("first_number", road.first_number)
    last = given.get("last_number", road.last_number)
    _numbering(first, last)
    road.first_number, road.last_number = first, last
    if data.odd_side is not None:
        road.odd_side = data.odd_side
    if "line" in given:
        line = _checked_line(data.line)
        road.geom = from_shape(line, srid=SRID) if line is not None else None
    session.flush()
    if given.keys() & {"line", "first_number", "last_number", "odd_side"}:
        _replace_interpolated(session, road)
    return _road_out(session, road)


def _replace_interpolated(session: Session, road: Road) -> None:
    line = to_shape(road.geom) if road.geom is not None else None
    doors = session.scalars(
        select(DoorNumber).where(
            DoorNumber.road_id == road.id, DoorNumber.located == "interpolated"
        )
    ).all()
    for door in doors:
        point = place_door(line, door.number, road.first_number, road.last_number, road.odd_side)
        if point is None:
            raise InvalidInput(
                f"道路“{road.name}”有 {len(doors)} 个插值定位的门牌：不能去掉中心线或起止门牌号",
                field="line",
            )
        door.location = from_shape(point, srid=SRID)
    session.flush()


_COMMUNITY_AT = text(
    "SELECT code FROM areas WHERE level = 'community' AND valid_to IS NULL "
    "AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(:lng, :lat), 4490)) ORDER BY code LIMIT 1"
)


def community_at(session: Session, point: Point) -> str | None:
    """The current community (or village) a point stands in; the smallest code on a shared edge."""
    code: str | None = session.scalar(_COMMUNITY_AT, {"lng": point.x, "lat": point.y})
    return code


def _place(
    session: Session,
    scope: AreaScope,
    road: Road,
    number: int,
    lng: float | None,
    lat: float | None,
) -> tuple[Point, str, str]:
    """(point, located, community) of a door: the surveyed point, else interpolated."""
    if (lng is None) != (lat is None):
        raise InvalidInput("lng: 经度和纬度须同时给出，或都不给（沿道路插值）", field="lng")
    if lng is not None and lat is not None:
        point, located = Point(lng, lat), "surveyed"
        if not in_china(point):
            raise InvalidInput("lng: 坐标不在中国范围内", field="lng")
    else:
        line = to_shape(road.geom) if road.geom is not None else None
        placed = place_door(line, number, road.first_number, road.last_number, road.odd_side)
        if placed is None:
            raise InvalidInput(
                f"lng: 道路“{road.name}”没有中心线或起止门牌号，无法插值定位：请给出坐标",
                field="lng",
            )
        point, located = placed, "interpolated"
    community = community_at(session, point)
    if not community:
        raise InvalidInput("lng: 门牌位置不在任何社区/村内", field="lng")
    if not scope.covers(community):
        raise Forbidden("门牌位置不在您的辖区内")
    return point, located, community


def _building_ids(session: Session, codes: list[str]) -> set[int]:
    wanted = {c.strip() for c in codes if c.strip()}
    found = dict(
        session.execute(select(Building.code, Building.id).where(Building.code.in_(wanted))).all()
    )
    unknown = sorted(wanted - found.keys())
    if unknown:
        raise InvalidInput(
            f"building_codes: 楼栋编码 {'、'.join(unknown[:5])} 不存在", field="building_codes"
        )
    return set(found.values())


def _link(session: Session, door: DoorNumber, building_ids: set[int]) -> None:
    session.execute(delete(DoorBuilding).where(DoorBuilding.door_number_id == door.id))
    session.add_all(DoorBuilding(door_number_id=door.id, building_id=b) for b in building_ids)
    session.flush()


def list_doors(session: Session, scope: AreaScope, road_id: int | None) -> list[DoorOut]:
    query = select(DoorNumber, Road).join(Road, Road.id == DoorNumber.road_id)
    query = query.where(scope.clause(DoorNumber.community_code))
    if road_id is not None:
        query = query.where(DoorNumber.road_id == road_id)
    rows = session.execute(query.order_by(Road.name, DoorNumber.number, DoorNumber.suffix)).all()
    return [_door_out(session, door, road) for door, road in rows]


def create_door(session: Session, scope: AreaScope, data: DoorIn) -> DoorOut:
    road = _road(session, scope, data.road_id)
    parsed = parse_door(data.number)
    if parsed is None:
        raise InvalidInput(
            f"number: 门牌号 {data.number!r} 无效：应为 1–99999 的号数，可带支号，如 15、15-1",
            field="number",
        )
    number, suffix = parsed
    label = door_label(road.name, number, suffix)
    taken = session.scalar(
        select(DoorNumber.id).where(
            DoorNumber.road_id == road.id, DoorNumber.number == number, DoorNumber.suffix == suffix
        )
    )
    if taken is not None:
        raise Conflict(f"number: 门牌“{label}”已存在（编号 {taken}）；请修改它而不是新建")
    point, located, community = _place(session, scope, road, number, data.lng, data.lat)
    buildings = _building_ids(session, data.building_codes)
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
    _link(session, door, buildings)
    return _door_out(session, door, road)


def _door(session: Session, scope: AreaScope, door_id: int) -> tuple[DoorNumber, Road]:
    door = session.get(DoorNumber, door_id)
    if door is None or not scope.covers(door.community_code):
        raise NotFound(f"门牌 {door_id} 不存在")
    road = session.get(Road, door.road_id)
    assert road is not None  # a foreign key
    return door, road


def update_door(session: Session, scope: AreaScope, door_id: int, data: DoorPatch) -> DoorOut:
    door, road = _door(session, scope, door_id)
    if data.interpolate and (data.lng is not None or data.lat is not None):
        raise InvalidInput("interpolate: 插值定位时不能同时给出坐标", field="interpolate")
    if data.interpolate or data.lng is not None or data.lat is not None:
        lng, lat = (None, None) if data.interpolate else (data.lng, data.lat)
        point, located, community = _place(session, scope, road, door.number, lng, lat)
        door.location = from_shape(point, srid=SRID)
        door.located, door.community_code = located, community
    try:
        session.flush()  # row-level security may hide the row from the update: not the caller's
        if data.building_codes is not None:
            _link(session, door, _building_ids(session, data.building_codes))
    except StaleDataError as exc:
        raise NotFound(f"门牌 {door_id} 不存在") from exc
    return _door_out(session, door, road)


def delete_door(session: Session, scope: AreaScope, door_id: int) -> None:
    door, _road_row = _door(session, scope, door_id)
    gone = session.execute(delete(DoorNumber).where(DoorNumber.id == door.id))
    if not getattr(gone, "rowcount", 0):  # row-level security kept it: not the caller's
        raise NotFound(f"门牌 {door_id} 不存在")
    session.expunge(door)
