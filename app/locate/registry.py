"""The in-memory grid registry behind locate: active grids, their areas and staff, and a PolygonIndex.

Routing must not cost a database round trip per point, so each process keeps a snapshot. Writes to
grids, areas, staff, assignments and buildings append what they touched to ``registry_changes``
(migration 0021); the registry reads that feed at most every ``locate_refresh_seconds`` and applies
only what changed (docs/architecture.md#the-locate-registry):

- staff or assignments changed: the staff of the grids concerned are re-read and those grids
  patched into a new snapshot that shares the index (milliseconds, whatever the size);
- buildings changed: the same snapshot without its gazetteer (the geocoder rebuilds it);
- a grid renamed or retyped: those grids patched, the index shared;
- a grid's shape changed, a grid came or went, an area changed, or the day changed: a whole new
  snapshot is loaded (off to the side, see below).

Requests never wait for any of it: a new snapshot is built off to the side and swapped in with one
assignment, and until then requests keep the one they have. Only the very first load is waited for.
The index itself is not the process's: it is mapped from the machine's store (app/locate/shared.py),
built there by whichever process needs it first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import shapely
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from app.areas.lookup import load_area_index
from app.locate.shared import IndexStore, touch
from app.microgrids.index import load_micro_index
from gis.pointindex import PolygonIndex

CHINA_TZ = ZoneInfo("Asia/Shanghai")
logger = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class FeedPosition:
    """How far a snapshot has read ``registry_changes``.

    Every change of a transaction below ``xmin`` has been read (those transactions have ended, so
    no such row can still appear); of the later ones, ``seen`` holds those already applied. A change
    committed out of order is therefore never skipped, and none is applied twice.
    """

    xmin: int
    seen: frozenset[int] = frozenset()


@dataclass
class RegistrySnapshot:
    position: FeedPosition
    day: dt.date
    grids: list[GridRecord]
    index: PolygonIndex | None
    by_code: dict[str, int] = field(default_factory=dict)
    # Built on first use by the geocoder (app.geocode.service), then shared by every request.
    gazetteer: Any = None
    # Per-grid response fragments, built on first use by app.locate.service (see _fragment there);
    # a patched snapshot keeps those of the grids it did not touch.
    fragments: list[Any] | None = None
    # Batch answers' column values, built on first use by app.locate.service (batch_columns).
    batch_columns: Any = None
    # Today's areas at every level (gis.areaindex.AreaIndex): the province … community of a point
    # in no grid, and the province and prefecture of a grid. Loaded with the grids: an area change
    # loads everything again.
    areas: Any = None
    # The active micro-grids (app.microgrids.index.MicroIndex, None when there are none); loaded
    # with the grids: a micro-grid change loads everything again.
    micro: Any = None

    def __post_init__(self) -> None:
        self.by_code = {g.code: i for i, g in enumerate(self.grids)}


def today() -> dt.date:
    return dt.datetime.now(CHINA_TZ).date()


@dataclass(frozen=True)
class Change:
    seq: int
    txid: int
    kind: str  # grid | area | staff | assignment | building | micro_grid
    key: str | None


_XMIN_SQL = text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
_CHANGES_SQL = text(
    """
    SELECT seq, txid::text::bigint AS txid, kind, key
      FROM registry_changes
     WHERE txid >= CAST(CAST(:xmin AS text) AS xid8)
     ORDER BY txid, seq
     LIMIT :limit
    """
)
# More changes than this since the last look: loading everything is cheaper than patching.
_PATCH_LIMIT = 5000
_KEEP_CHANGES = "2 days"


def feed_position(session: Session) -> FeedPosition:
    """Where the feed stands now: a snapshot loaded after this call reflects every change in it."""
    xmin = int(session.execute(_XMIN_SQL).scalar_one())
    seen = session.execute(
        text("SELECT seq FROM registry_changes WHERE txid >= CAST(CAST(:x AS text) AS xid8)"),
        {"x": xmin},
    ).scalars()
    return FeedPosition(xmin=xmin, seen=frozenset(int(s) for s in seen))


def read_changes(session: Session, since: FeedPosition) -> tuple[list[Change], FeedPosition] | None:
    """The changes after ``since`` and the position after them; None when there are too many to
    patch (load everything instead)."""
    xmin = int(session.execute(_XMIN_SQL).scalar_one())  # first: see the class comment
    rows = session.execute(_CHANGES_SQL, {"xmin": since.xmin, "limit": _PATCH_LIMIT + 1}).all()
    if len(rows) > _PATCH_LIMIT:
        return None
    changes = [Change(r.seq, r.txid, r.kind, r.key) for r in rows if r.seq not in since.seen]
    seen = frozenset(r.seq for r in rows if r.txid >= xmin)
    return changes, FeedPosition(xmin=max(xmin, since.xmin), seen=seen)


def prune_changes(session: Session) -> None:
    session.execute(
        text(f"DELETE FROM registry_changes WHERE at < now() - interval '{_KEEP_CHANGES}'")
    )


_GRIDS_SELECT = """
    SELECT g.code, g.name, g.type, ST_AsBinary(g.geom) AS wkb,
           c.code AS c_code, c.name AS c_name,
           t.code AS t_code, t.name AS t_name,
           k.code AS k_code, k.name AS k_name
      FROM grids g
      JOIN areas c ON c.code = g.community_code AND c.valid_to IS NULL
      LEFT JOIN areas t ON t.code = c.parent_code AND t.valid_to IS NULL
      LEFT JOIN areas k ON k.code = t.parent_code AND k.valid_to IS NULL
     WHERE g.status = 'active'
"""
_GRIDS_SQL = text(_GRIDS_SELECT + " ORDER BY g.code")
_GRIDS_NAMED_SQL = text(_GRIDS_SELECT + " AND g.code IN :codes").bindparams(
    bindparam("codes", expanding=True)
)


_STAFF_SELECT = """
    SELECT a.grid_code, a.role, s.name, s.phone, s.employment
      FROM staff_assignments a JOIN staff s ON s.id = a.staff_id
     WHERE a.role IN ('leader', 'worker')
       AND a.start_date <= :day AND (a.end_date IS NULL OR a.end_date >= :day)
"""
_STAFF_SQL = text(_STAFF_SELECT + " ORDER BY a.grid_code, a.role, s.name")
_STAFF_OF_GRIDS_SQL = text(
    _STAFF_SELECT + " AND a.grid_code IN :codes ORDER BY a.grid_code, a.role, s.name"
).bindparams(bindparam("codes", expanding=True))
_GRIDS_OF_STAFF_SQL = text(
    "SELECT DISTINCT grid_code FROM staff_assignments WHERE staff_id IN :ids"
).bindparams(bindparam("ids", expanding=True))


def _staff_by_grid(
    session: Session, day: dt.date, codes: list[str] | None
) -> dict[str, list[StaffRef]]:
    if codes is None:
        rows = session.execute(_STAFF_SQL, {"day": day})
    else:
        rows = session.execute(_STAFF_OF_GRIDS_SQL, {"day": day, "codes": codes})
    staff: dict[str, list[StaffRef]] = {}
    for row in rows:
        staff.setdefault(row.grid_code, []).append(
            StaffRef(name=row.name, phone=row.phone, employment=row.employment, role=row.role)
        )
    return staff


def _with_staff(grid: GridRecord, people: list[StaffRef]) -> GridRecord:
    return dataclasses.replace(
        grid,
        leader=next((p for p in people if p.role == "leader"), None),
        workers=tuple(p for p in people if p.role == "worker"),
    )


def _grid_record(row: Any) -> GridRecord:
    return GridRecord(
        code=row.code,
        name=row.name,
        type=row.type,
        community=AreaRef(row.c_code, row.c_name),
        township=AreaRef(row.t_code, row.t_name) if row.t_code else None,
        county=AreaRef(row.k_code, row.k_name) if row.k_code else None,
        leader=None,
        workers=(),
    )


def load_snapshot(
    session: Session, *, edge_distance_m: float, store: IndexStore | None = None
) -> RegistrySnapshot:
    """Everything, from scratch (start-up, a new shape, an area change, a new day). The index is
    mapped from the machine's ``store`` (built there first if no process has yet)."""
    position = feed_position(session)
    day = today()
    staff = _staff_by_grid(session, day, None)
    grids: list[GridRecord] = []
    shapes: list[bytes] = []
    for row in session.execute(_GRIDS_SQL):
        grids.append(_with_staff(_grid_record(row), staff.get(row.code, [])))
        shapes.append(bytes(row.wkb))
    store = store or IndexStore()
    index = store.index(shapes, edge_distance_m=edge_distance_m) if shapes else None
    if index is not None:
        index.prepare_nearest()  # here, so no request for a point outside every grid waits
    return RegistrySnapshot(
        position=position,
        day=day,
        grids=grids,
        index=index,
        areas=load_area_index(session),
        micro=load_micro_index(session),
    )


def patch_staff(
    session: Session, snapshot: RegistrySnapshot, codes: Iterable[str], position: FeedPosition
) -> RegistrySnapshot:
    """A new snapshot sharing ``snapshot``'s index, with the staff of grids ``codes`` re-read."""
    wanted = sorted({c for c in codes if c in snapshot.by_code})
    grids = list(snapshot.grids)
    fragments = list(snapshot.fragments) if snapshot.fragments is not None else None
    if wanted:
        staff = _staff_by_grid(session, snapshot.day, wanted)
        for code in wanted:
            i = snapshot.by_code[code]
            grids[i] = _with_staff(grids[i], staff.get(code, []))
            if fragments is not None:
                fragments[i] = None
    return RegistrySnapshot(
        position=position,
        day=snapshot.day,
        grids=grids,
        index=snapshot.index,
        gazetteer=snapshot.gazetteer,
        fragments=fragments,
        areas=snapshot.areas,
        micro=snapshot.micro,
    )


def patch_grids(
    session: Session, snapshot: RegistrySnapshot, codes: set[str], position: FeedPosition
) -> RegistrySnapshot | None:
    """A new snapshot sharing the index when grids ``codes`` changed only in name, type or
    community names; None when a shape changed or a grid came or went (the index must be rebuilt)."""
    index = snapshot.index
    rows = session.execute(_GRIDS_NAMED_SQL, {"codes": sorted(codes)}).all()
    if index is None or {r.code for r in rows} != codes & snapshot.by_code.keys():
        return None
    grids = list(snapshot.grids)
    fragments = list(snapshot.fragments) if snapshot.fragments is not None else None
    for row in rows:
        i = snapshot.by_code[row.code]
        wkb = bytes(row.wkb)
        if wkb != index.wkb(i) and not shapely.equals_exact(
            shapely.from_wkb(wkb), index.geom(i), 0.0
        ):
            return None
        old = grids[i]
        grids[i] = dataclasses.replace(_grid_record(row), leader=old.leader, workers=old.workers)
        if fragments is not None:
            fragments[i] = None
    return dataclasses.replace(
        snapshot, position=position, grids=grids, fragments=fragments, batch_columns=None
    )


def apply_changes(
    session: Session,
    snapshot: RegistrySnapshot,
    *,
    edge_distance_m: float,
    store: IndexStore | None = None,
) -> RegistrySnapshot:
    """``snapshot`` brought up to date with the feed, at the least cost (see the module comment)."""
    touch(snapshot.index)
    if snapshot.day != today():
        return load_snapshot(session, edge_distance_m=edge_distance_m, store=store)
    read = read_changes(session, snapshot.position)
    if read is None:
        return load_snapshot(session, edge_distance_m=edge_distance_m, store=store)
    changes, position = read
    if not changes:
        if position == snapshot.position:
            return snapshot
        return dataclasses.replace(snapshot, position=position)
    kinds = {c.kind for c in changes}
    if "area" in kinds or "micro_grid" in kinds:
        return load_snapshot(session, edge_distance_m=edge_distance_m, store=store)
    if "grid" in kinds:
        grid_codes = {c.key for c in changes if c.kind == "grid" and c.key}
        renamed = patch_grids(session, snapshot, grid_codes, snapshot.position)
        if renamed is None:
            return load_snapshot(session, edge_distance_m=edge_distance_m, store=store)
        snapshot = renamed
    codes = {c.key for c in changes if c.kind == "assignment" and c.key}
    staff_ids = [int(c.key) for c in changes if c.kind == "staff" and c.key]
    if staff_ids:
        codes.update(session.execute(_GRIDS_OF_STAFF_SQL, {"ids": staff_ids}).scalars())
    patched = patch_staff(session, snapshot, codes, position)
    if "building" in kinds:
        patched.gazetteer = None
    return patched


class GridRegistry:
    """Process-wide holder of the current snapshot.

    With ``refresh_seconds > 0`` (a served process) a caller finding the snapshot due for a look
    starts one background refresh and goes on with the snapshot it has. With 0 (tests, one-off
    tools) every call brings the snapshot up to date before answering, so a write is seen at once.
    """

    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        refresh_seconds: float,
        edge_distance_m: float,
        index_dir: str | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._store = IndexStore(Path(index_dir) if index_dir else None)
        self._refresh_seconds = refresh_seconds
        self._edge_distance_m = edge_distance_m
        self._first_load = threading.Lock()
        self._refreshing = threading.Lock()
        self._snapshot: RegistrySnapshot | None = None
        self._checked_at = 0.0

    def invalidate(self) -> None:
        """Look at the feed on the next call (a writer in this process calls this after its write)."""
        self._checked_at = 0.0

    def fresh(self) -> RegistrySnapshot | None:
        """The current snapshot if no call of :meth:`snapshot` could block, else None."""
        snap = self._snapshot
        if snap is None or self._refresh_seconds <= 0:
            return None
        if time.monotonic() - self._checked_at >= self._refresh_seconds:
            self._refresh_in_background()
        return snap

    def snapshot(self) -> RegistrySnapshot:
        snap = self._snapshot
        if snap is None:
            return self._load_first()
        if self._refresh_seconds <= 0:
            with self._refreshing:
                self._refresh()
            assert self._snapshot is not None
            return self._snapshot
        if time.monotonic() - self._checked_at >= self._refresh_seconds:
            self._refresh_in_background()
        return snap

    def _load_first(self) -> RegistrySnapshot:
        with self._first_load:  # nothing to serve yet: the only wait there is
            if self._snapshot is None:
                with self._session_factory() as session:
                    self._snapshot = load_snapshot(
                        session, edge_distance_m=self._edge_distance_m, store=self._store
                    )
                    prune_changes(session)
                    session.commit()
                self._checked_at = time.monotonic()
            return self._snapshot

    def _refresh_in_background(self) -> None:
        if not self._refreshing.acquire(blocking=False):
            return  # another thread is already at it
        self._checked_at = time.monotonic()

        def run() -> None:
            try:
                self._refresh()
            except Exception:  # the next look retries; requests keep the snapshot they have
                logger.exception("locate registry refresh failed")
            finally:
                self._refreshing.release()

        threading.Thread(target=run, name="locate-registry-refresh", daemon=True).start()

    def _refresh(self) -> None:
        current = self._snapshot
        assert current is not None
        with self._session_factory() as session:
            updated = apply_changes(
                session, current, edge_distance_m=self._edge_distance_m, store=self._store
            )
            if updated.day != current.day:
                prune_changes(session)
                session.commit()
        self._snapshot = updated  # one assignment: readers see the old or the new, never a mix
        self._checked_at = time.monotonic()
