"""Geocode: a Chinese address → a building of the gazetteer → the locate answer for its point."""

from __future__ import annotations

import threading

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.auth.policy import Principal
from app.errors import InvalidInput, NotFound
from app.geocode.gazetteer import Candidate, Gazetteer, GazetteerEntry
from app.geocode.schemas import BuildingOut, CandidateOut, GeocodePublic
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


def gazetteer_for(snapshot: RegistrySnapshot, session: Session) -> Gazetteer:
    """The snapshot's gazetteer, built once per registry revision (buildings bump it too)."""
    if snapshot.gazetteer is None:
        with _BUILD_LOCK:
            if snapshot.gazetteer is None:
                snapshot.gazetteer = Gazetteer(
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
                )
    gazetteer: Gazetteer = snapshot.gazetteer
    return gazetteer


def _building(entry: GazetteerEntry) -> BuildingOut:
    return BuildingOut(
        code=entry.code, name=entry.building, compound=entry.compound, address=entry.address
    )


def _candidate(c: Candidate) -> CandidateOut:
    e = c.entry
    return CandidateOut(
        building=_building(e),
        community=e.community,
        township=e.township,
        level=c.level,
        score=round(c.score, 1),
        matched_on=c.matched_on,
        lng=e.lng,
        lat=e.lat,
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
            f"未找到地址“{address}”；请核对小区名和楼号，或参考最接近的候选", candidates=closest
        )
    location = locate_point(
        snapshot, lng=best.entry.lng, lat=best.entry.lat, crs="cgcs2000", principal=principal
    )
    return GeocodePublic(
        address=address,
        match_level=best.level,
        score=round(best.score, 1),
        matched_on=best.matched_on,
        ambiguous=result.ambiguous,
        unit=result.unit,
        room=result.room,
        building=_building(best.entry),
        location=location,
        candidates=[_candidate(c) for c in result.candidates],
    )
