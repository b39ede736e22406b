"""The in-memory grid registry behind locate: active grids, their areas and staff, and a PolygonIndex.

Routing must not cost a database round trip per point, so each process keeps a snapshot and
reloads it when the database says the registry changed (``registry_revision``, bumped by triggers on
grids, areas, staff and assignments) or the date changed (assignments have date ranges). The check
is one tiny query at most every ``locate_refresh_seconds``.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis.pointindex import PolygonIndex

CHINA_TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class AreaRef:
    code: str
    name: str


@dataclass(frozen=True)
class StaffRef:
    name: str
    phone: str | None
    employment: str
    role: str


@dataclass(frozen=True)
class GridRecord:
    code: str
    name: str
    type: str
    community: AreaRef
    township: AreaRef | None
    county: AreaRef | None
    leader: StaffRef | None
    workers: tuple[StaffRef, ...]


@dataclass
class RegistrySnapshot:
    revision: int
    day: dt.date
    grids: list[GridRecord]
    index: PolygonIndex | None
    by_code: dict[str, int] = field(default_factory=dict)
    # Built on first use by the geocoder (app.geocode.service), then shared by every request.
    gazetteer: Any = None
    # Per-grid response fragments built once by app.locate.service (see _fragments there).
    fragments: list[Any] | None = None

    def __post_init__(self) -> None:
        self.by_code = {g.code: i for i, g in enumerate(self.grids)}


def today() -> dt.date:
    return dt.datetime.now(CHINA_TZ).date()


def current_revision(session: Session) -> int:
    return int(
        session.execute(text("SELECT revision FROM registry_revision WHERE id = 1")).scalar_one()
    )


_GRIDS_SQL = text(
    """
    SELECT g.code, g.name, g.type, ST_AsBinary(g.geom) AS wkb,
           c.code AS c_code, c.name AS c_name,
           t.code AS t_code, t.name AS t_name,
           k.code AS k_code, k.name AS k_name
      FROM grids g
      JOIN areas c ON c.code = g.community_code AND c.valid_to IS NULL
      LEFT JOIN areas t ON t.code = c.parent_code AND t.valid_to IS NULL
      LEFT JOIN areas k ON k.code = t.parent_code AND k.valid_to IS NULL
     WHERE g.status = 'active'
     ORDER BY g.code
    """
)

_STAFF_SQL = text(
    """
    SELECT a.grid_code, a.role, s.name, s.phone, s.employment
      FROM staff_assignments a JOIN staff s ON s.id = a.staff_id
     WHERE a.role IN ('leader', 'worker')
       AND a.start_date <= :day AND (a.end_date IS NULL OR a.end_date >= :day)
     ORDER BY a.grid_code, a.role, s.name
    """
)


def load_snapshot(session: Session, *, edge_distance_m: float) -> RegistrySnapshot:
    revision = current_revision(session)
    day = today()
    staff: dict[str, list[StaffRef]] = {}
    for row in session.execute(_STAFF_SQL, {"day": day}):
        staff.setdefault(row.grid_code, []).append(
            StaffRef(name=row.name, phone=row.phone, employment=row.employment, role=row.role)
        )
    grids: list[GridRecord] = []
    shapes = []
    for row in session.execute(_GRIDS_SQL):
        people = staff.get(row.code, [])
        grids.append(
            GridRecord(
                code=row.code,
                name=row.name,
                type=row.type,
                community=AreaRef(row.c_code, row.c_name),
                township=AreaRef(row.t_code, row.t_name) if row.t_code else None,
                county=AreaRef(row.k_code, row.k_name) if row.k_code else None,
                leader=next((p for p in people if p.role == "leader"), None),
                workers=tuple(p for p in people if p.role == "worker"),
            )
        )
        shapes.append(shapely.from_wkb(bytes(row.wkb)))
    index = PolygonIndex(shapes, edge_distance_m=edge_distance_m) if shapes else None
    return RegistrySnapshot(revision=revision, day=day, grids=grids, index=index)


class GridRegistry:
    """Process-wide holder of the current snapshot; thread-safe, reloads lazily."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        refresh_seconds: float,
        edge_distance_m: float,
    ) -> None:
        self._session_factory = session_factory
        self._refresh_seconds = refresh_seconds
        self._edge_distance_m = edge_distance_m
        self._lock = threading.Lock()
        self._snapshot: RegistrySnapshot | None = None
        self._checked_at = 0.0

    def invalidate(self) -> None:
        self._checked_at = 0.0

    def fresh(self) -> RegistrySnapshot | None:
        """The current snapshot if it needs no check against the database, else None."""
        if time.monotonic() - self._checked_at < self._refresh_seconds:
            return self._snapshot
        return None

    def snapshot(self) -> RegistrySnapshot:
        snap = self._snapshot
        now = time.monotonic()
        if snap is not None and now - self._checked_at < self._refresh_seconds:
            return snap
        with self._lock:
            if (
                self._snapshot is not None
                and time.monotonic() - self._checked_at < self._refresh_seconds
            ):
                return self._snapshot
            with self._session_factory() as session:
                stale = (
                    self._snapshot is None
                    or self._snapshot.day != today()
                    or self._snapshot.revision != current_revision(session)
                )
                if stale:
                    self._snapshot = load_snapshot(session, edge_distance_m=self._edge_distance_m)
            self._checked_at = time.monotonic()
            assert self._snapshot is not None
            return self._snapshot
