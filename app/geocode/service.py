"""Geocode: a Chinese address → a building of the gazetteer → the locate answer for its point."""

from __future__ import annotations

import threading

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.auth.policy import Principal
from app.errors import InvalidInput, NotFound
from app.geocode.gazetteer import (
    AreaEntry,
    Candidate,
    DoorEntry,
    Gazetteer,
    GazetteerEntry,
    RoadEntry,
)
from app.geocode.schemas import AreaOut, BuildingOut, CandidateOut, DoorOut, GeocodePublic
from app.locate.registry import RegistrySnapshot
from app.locate.service import locate_point

_BUILD_LOCK = threading.Lock()

_ENTRIES_SQL = text(
    """
    SELECT b.id, b.code, b.name, COALESCE(b.compound, '') AS compound, COALESCE(b.address, '') AS address,
           b.aliases, ST_X(b.location) AS lng, ST_Y(b.location) AS lat,
           COALESCE(c.name, '') AS community, COALESCE(t.name, '') AS township
      FROM buildings b
      LEFT JOIN areas c ON c.code = b.community_code AND c.valid_to IS NULL
      LEFT JOIN areas t ON t.code = c.parent_code AND t.valid_to IS NULL
    """
)


_ROADS_SQL = text("SELECT id, county_code, name, aliases FROM roads")
_DOORS_SQL = text(
    """
    SELECT d.id, d.road_id, r.name AS road, d.number, d.suffix, d.located,
           ST_X(d.location) AS lng, ST_Y(d.location) AS lat,
           COALESCE(c.name, '') AS community, COALESCE(t.name, '') AS township,
           ARRAY(SELECT b.building_id FROM door_buildings b WHERE b.door_number_id = d.id
                 ORDER BY b.building_id) AS buildings
      FROM door_numbers d
      JOIN roads r ON r.id = d.road_id
      LEFT JOIN areas c ON c.code = d.community_code AND c.valid_to IS NULL
      LEFT JOIN areas t ON t.code = c.parent_code AND t.valid_to IS NULL
    """
)
_AREAS_SQL = text(
    """
    SELECT a.code, a.name, a.level, COALESCE(t.name, '') AS township,
           ST_X(ST_PointOnSurface(a.geom)) AS lng, ST_Y(ST_PointOnSurface(a.geom)) AS lat,
           ARRAY(SELECT g.code FROM grids g WHERE g.status = 'active'
                   AND (g.community_code = a.code OR g.community_code IN (
                        SELECT c.code FROM areas c WHERE c.parent_code = a.code
                           AND c.valid_to IS NULL))
                 ORDER BY g.code) AS grids
      FROM areas a
      LEFT JOIN areas t ON t.code = a.parent_code AND t.valid_to IS NULL AND a.level = 'community'
     WHERE a.valid_to IS NULL AND a.level IN ('township', 'community')
    """
)


def load_gazetteer(session: Session) -> Gazetteer:
    """The gazetteer of every building, road, door number, township and community."""
    return Gazetteer(
        (
            GazetteerEntry(
                building_id=r.id,
                code=r.code,
                township=r.township,
                community=r.community,
                compound=r.compound,
                building=r.name,
                address=r.address,
                aliases=tuple(r.aliases or ()),
                lng=r.lng,
                lat=r.lat,
            )
            for r in session.execute(_ENTRIES_SQL)
        ),
        roads=(
            RoadEntry(road_id=r.id, county=r.county_code, name=r.name, aliases=tuple(r.aliases))
            for r in session.execute(_ROADS_SQL)
        ),
        doors=(
            DoorEntry(
                door_id=r.id,
                road_id=r.road_id,
                road=r.road,
                number=r.number,
                suffix=r.suffix,
                township=r.township,
                community=r.community,
                lng=r.lng,
                lat=r.lat,
                building_ids=tuple(r.buildings),
                located=r.located,
            )
            for r in session.execute(_DOORS_SQL)
        ),
        areas=(
            AreaEntry(
                code=r.code,
                name=r.name,
                level=r.level,
                township=r.township,
                lng=r.lng,
                lat=r.lat,
                grids=tuple(r.grids),
            )
            for r in session.execute(_AREAS_SQL)
        ),
    )


def gazetteer_for(snapshot: RegistrySnapshot, session: Session) -> Gazetteer:
    """The snapshot's gazetteer, built once per registry revision (buildings, roads and door
    numbers bump it too)."""
    if snapshot.gazetteer is None:
        with _BUILD_LOCK:
            if snapshot.gazetteer is None:
                snapshot.gazetteer = load_gazetteer(session)
    gazetteer: Gazetteer = snapshot.gazetteer
    return gazetteer


def _building(entry: GazetteerEntry | None) -> BuildingOut | None:
    if entry is None:
        return None
    return BuildingOut(
        code=entry.code, name=entry.building, compound=entry.compound, address=entry.address
    )


def _door(door: DoorEntry | None) -> DoorOut | None:
    if door is None:
        return None
    return DoorOut(
        id=door.door_id,
        label=door.label,
        road=door.road,
        number=door.number,
        suffix=door.suffix,
        located=door.located,
    )


def _area(area: AreaEntry | None) -> AreaOut | None:
    if area is None:
        return None
    return AreaOut(code=area.code, name=area.name, level=area.level, grids=list(area.grids))


def _places(c: Candidate) -> tuple[str, str]:
    """(community, township) names of a candidate."""
    if c.entry is not None:
        return c.entry.community, c.entry.township
    if c.door is not None:
        return c.door.community, c.door.township
    assert c.area is not None
    if c.area.level == "township":
        return "", c.area.name
    return c.area.name, c.area.township


def _candidate(c: Candidate) -> CandidateOut:
    community, township = _places(c)
    shown = c.entry if c.level in ("room", "building", "compound") else None
    return CandidateOut(
        building=_building(shown),
        door=_door(c.door),
        area=_area(c.area),
        community=community,
        township=township,
        level=c.level,
        score=round(c.score, 1),
        matched_on=c.matched_on,
        lng=c.lng,
        lat=c.lat,
    )


def geocode(
    snapshot: RegistrySnapshot,
    session: Session,
    *,
    address: str,
    principal: Principal,
    limit: int = 5,
) -> GeocodePublic:
    address = address.strip()
    if not address:
        raise InvalidInput("address: 地址不能为空", field="address")
    gazetteer = gazetteer_for(snapshot, session)
    result = gazetteer.match(address, limit=limit)
    best = result.best
    if best is None:
        closest = [_candidate(c).model_dump() for c in gazetteer.closest(address, limit=limit)]
        raise NotFound(
            f"未找到地址“{address}”；请核对道路名和门牌号、小区名和楼号，或参考最接近的候选",
            candidates=closest,
        )
    location = None
    if best.level not in ("community", "township") or best.area is None:
        location = locate_point(
            snapshot, lng=best.lng, lat=best.lat, crs="cgcs2000", principal=principal
        )
    return GeocodePublic(
        address=address,
        match_level=best.level,
        score=round(best.score, 1),
        matched_on=best.matched_on,
        ambiguous=result.ambiguous,
        certain=result.certain,
        unit=result.unit,
        room=result.room,
        building=_building(best.entry if best.level in ("room", "building", "compound") else None),
        door=_door(best.door),
        area=_area(best.area),
        location=location,
        candidates=[_candidate(c) for c in result.candidates],
    )
