"""Compact building blocks of visit coverage: households per grid, visits per household and worker.

A year of visits for a county is millions of rows and a county's households a million: fetching
either row by row (or joining them spatially in SQL) costs tens of seconds. So the database keeps
rollups at write time (app/visits/rollup_sql.py) and numpy finishes:

- households come as one packed binary value (id, x, y, cadence) and are located in memory with the
  raster point index (gis.pointindex), cached per exact set of grid geometries; the few points on a
  grid edge are re-tested against every grid and counted once, in the grid routing sends them to
  (the smallest code: docs/domain.md, households per grid). Invalid or overlapping grids take the
  exact STRtree path instead.
  The located households are cached too, keyed on the grids and ``households_revision`` (a fresh
  sequence value on every write to households), so steady-state requests fetch no household.
- whether a household was visited in a period comes from its first and last visit
  (``household_visit_stats``); its visits are looked up only when the first is before the period
  and the last after it (never for a period ending today). The answer is a bitmap of households.
- exact visit counts are fetched for special-group households only, and visits and field days per
  worker and month come from ``worker_visit_days`` (one row per grid, worker and Beijing day).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.auth.scope import AreaScope
from app.visits.cadence import CadenceRule, interval_sql
from gis.pointindex import PolygonIndex, first_per_point

IntArray = npt.NDArray[np.int64]
_HOUSEHOLD = np.dtype(
    [("id", ">i4"), ("x", ">f8"), ("y", ">f8"), ("interval", ">i2"), ("special", "i1")]
)


@dataclass(frozen=True)
class Households:
    """Households lying in the grids, one row per (household, grid) pair."""

    grid: IntArray  # index into the grid list
    id: IntArray
    interval_days: IntArray
    special: npt.NDArray[np.bool_]


def grid_households(
    session: Session, *, scope: AreaScope, rules: tuple[CadenceRule, ...]
) -> tuple[list[str], Households]:
    """Active grid codes in ``scope`` and every (household, grid) pair where they intersect.

    Cached per exact grid set (codes and geometries), households revision, cadence rules and the
    caller's jurisdiction, so a repeated request fetches only the grids; the arrays returned are
    read-only.
    """
    rows = session.execute(
        text(
            "SELECT code, ST_AsBinary(geom) FROM grids WHERE status = 'active' "
            f"AND {scope.sql('code')} ORDER BY code"
        ),
        scope.params(),
    ).all()
    codes = [r[0] for r in rows]
    if not rows:
        empty = np.empty(0, dtype=np.int64)
        return codes, Households(empty, empty, empty, np.empty(0, dtype=bool))
    wkb = [bytes(r[1]) for r in rows]
    revision = session.scalar(text("SELECT revision FROM households_revision WHERE id = 1"))
    # Row-level security decides which households the session sees (by the caller's jurisdiction,
    # not the area asked for), so the same grids read by two jurisdictions are two entries.
    key = (
        _digest([c.encode() for c in codes] + wkb),
        revision,
        rules,
        scope.principal.scope_prefix,
    )
    with _CACHE_LOCK:
        if key in _HOUSEHOLDS:
            _HOUSEHOLDS.move_to_end(key)
            return codes, _HOUSEHOLDS[key]
    found = _fetch_households(session, wkb, rules)
    with _CACHE_LOCK:
        _HOUSEHOLDS[key] = found
        while len(_HOUSEHOLDS) > _HOUSEHOLDS_SIZE:
            _HOUSEHOLDS.popitem(last=False)
    return codes, found


def _fetch_households(
    session: Session, wkb: list[bytes], rules: tuple[CadenceRule, ...]
) -> Households:
    geoms = shapely.from_wkb(wkb)
    case, params = interval_sql(rules)
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    packed = session.scalar(
        text(
            "SELECT string_agg(int4send(h.id) || float8send(ST_X(h.location)) "
            f"  || float8send(ST_Y(h.location)) || int2send({case}::int2) "
            "  || substring(int2send((cardinality(h.special_groups) > 0)::int::int2) FROM 2), "
            "  ''::bytea) "
            "FROM households h WHERE h.location && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490)"
        ),
        {"x0": minx, "y0": miny, "x1": maxx, "y1": maxy, **params},
    )
    hh = np.frombuffer(packed or b"", dtype=_HOUSEHOLD)
    x, y = hh["x"].astype(np.float64), hh["y"].astype(np.float64)
    point, grid = _locate(geoms, wkb, x, y)
    found = Households(
        grid=grid.astype(np.int64),
        id=hh["id"][point].astype(np.int64),
        interval_days=hh["interval"][point].astype(np.int64),
        special=hh["special"][point] > 0,
    )
    for array in (found.grid, found.id, found.interval_days, found.special):
        array.flags.writeable = False  # shared by every request that hits the cache
    return found


# ----------------------------------------------------------------------------- locating
_CACHE: OrderedDict[bytes, PolygonIndex | None] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 8
# A county's located households are ~25 MB: a few areas' worth.
_HOUSEHOLDS: OrderedDict[tuple[bytes, int | None, tuple[CadenceRule, ...], str], Households] = (
    OrderedDict()
)
_HOUSEHOLDS_SIZE = 4


def clear_caches() -> None:
    """Forget located households and grid indexes (benchmarks time the cold path with it)."""
    with _CACHE_LOCK:
        _CACHE.clear()
        _HOUSEHOLDS.clear()


def _digest(parts: list[bytes]) -> bytes:
    h = hashlib.blake2b(digest_size=20)
    for part in parts:  # length-prefixed: no two part lists hash alike by concatenation
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.digest()


def _locate(
    geoms: npt.NDArray[Any],
    wkb: list[bytes],
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
) -> tuple[IntArray, IntArray]:
    """(point, grid) pairs: each point in the grid routing sends it to (of the grids it lies in or
    on, the first, and grids come in code order: gis.pointindex.first_per_point)."""
    index = _index_for(geoms, wkb)
    if index is None:
        return _owners(*_locate_exact(geoms, x, y))
    grid = index.locate(x, y).astype(np.int64)
    point = np.flatnonzero(grid >= 0)
    grid = grid[point]
    # A point strictly inside its grid lies in no other (the grids do not overlap); one on the
    # grid's edge may lie on its neighbours' too, so those few are re-tested against every grid.
    shapely.prepare(geoms)
    edge = ~shapely.contains_xy(geoms[grid], x[point], y[point])
    if edge.any():
        sub_point, sub_grid = _locate_exact(geoms, x[point[edge]], y[point[edge]])
        point = np.concatenate([point[~edge], point[edge][sub_point]])
        grid = np.concatenate([grid[~edge], sub_grid])
    return _owners(point, grid)


def _owners(point: IntArray, grid: IntArray) -> tuple[IntArray, IntArray]:
    owner_point, owner_grid = first_per_point(point, grid)
    return owner_point.astype(np.int64), owner_grid.astype(np.int64)


def _locate_exact(
    geoms: npt.NDArray[Any], x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> tuple[IntArray, IntArray]:
    tree = shapely.STRtree(geoms)
    shapely.prepare(geoms)
    point, grid = tree.query(shapely.points(x, y))
    hit = shapely.intersects_xy(geoms[grid], x[point], y[point])
    return point[hit].astype(np.int64), grid[hit].astype(np.int64)


def _index_for(geoms: npt.NDArray[Any], wkb: list[bytes]) -> PolygonIndex | None:
    """The raster index of these exact grids, or None where it would not be exact."""
    digest = _digest(wkb)
    with _CACHE_LOCK:
        if digest in _CACHE:
            _CACHE.move_to_end(digest)
            return _CACHE[digest]
    index = PolygonIndex(list(geoms)) if _disjoint_interiors(geoms) else None
    with _CACHE_LOCK:
        _CACHE[digest] = index
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return index


def _disjoint_interiors(geoms: npt.NDArray[Any]) -> bool:
    """Valid grids whose interiors never meet (what the raster index assumes)."""
    if not shapely.is_valid(geoms).all():
        return False
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pair = a < b
    return not shapely.relate_pattern(geoms[a[pair]], geoms[b[pair]], "T********").any()


# ----------------------------------------------------------------------------- visits
def visited_households(
    session: Session, *, start: dt.datetime, end: dt.datetime, ids: IntArray
) -> npt.NDArray[np.bool_]:
    """For each id in ``ids``, whether it has a visit in [start, end).

    From each household's first and last visit: one of them in the period answers yes, both on
    one side of it answers no; only a household first visited before the period and last after it
    needs its visits looked up. The database answers 64 households
    per row (a bitmap), so a million households are ~16,000 small rows.
    """
    if not len(ids):
        return np.zeros(0, dtype=bool)
    rows = session.execute(
        text(
            "SELECT h >> 6 AS word, bit_or(1::bigint << (h & 63)) FROM ("
            "  SELECT s.household_id AS h FROM household_visit_stats s "
            "  WHERE s.first_visit_at < :end AND s.last_visit_at >= :start "
            "  AND (s.first_visit_at >= :start OR s.last_visit_at < :end) "
            "  AND s.household_id BETWEEN :lo AND :hi "
            # A separate branch so the planner may look up a few households by index or hash-join
            # many against the period's visits (never an OR it must evaluate row by row).
            "  UNION ALL SELECT s.household_id FROM household_visit_stats s "
            "  WHERE s.first_visit_at < :start AND s.last_visit_at >= :end "
            "  AND s.household_id BETWEEN :lo AND :hi AND EXISTS ("
            "    SELECT 1 FROM visits v WHERE v.household_id = s.household_id "
            "    AND v.visited_at >= :start AND v.visited_at < :end)"
            ") x GROUP BY 1"
        ),
        {"start": start, "end": end, "lo": int(ids.min()), "hi": int(ids.max())},
    ).all()
    if not rows:
        return np.zeros(len(ids), dtype=bool)
    words = np.array([r[0] for r in rows], dtype=np.int64)
    bits = np.array([r[1] for r in rows], dtype=np.int64).view(np.uint64)
    lookup = np.zeros(int(words.max()) + 1, dtype=np.uint64)
    lookup[words] = bits
    word = ids >> 6
    known = word < len(lookup)
    out = np.zeros(len(ids), dtype=bool)
    out[known] = (lookup[word[known]] >> (ids[known] & 63).astype(np.uint64)) & np.uint64(1) == 1
    return out


def visit_counts(
    session: Session, *, start: dt.datetime, end: dt.datetime, ids: IntArray
) -> IntArray:
    """Visits in [start, end) for each id in ``ids`` (meant for the few special-group ones)."""
    if not len(ids):
        return np.zeros(0, dtype=np.int64)
    unique = np.unique(ids)
    rows = session.execute(
        text(
            "SELECT v.household_id, count(*) FROM visits v WHERE v.household_id = ANY(:ids) "
            "AND v.visited_at >= :start AND v.visited_at < :end GROUP BY 1"
        ),
        {"ids": unique.tolist(), "start": start, "end": end},
    ).all()
    counts = np.zeros(len(unique), dtype=np.int64)
    if rows:
        found = np.array([r[0] for r in rows], dtype=np.int64)
        counts[np.searchsorted(unique, found)] = [r[1] for r in rows]
    return counts[np.searchsorted(unique, ids)]


def worker_months(
    session: Session, *, scope: AreaScope, start: dt.date, end: dt.date
) -> list[tuple[int, str, list[tuple[str, int, int]]]]:
    """Per worker: id, name and ("YYYY-MM", visits, field days) for [start, end) in Beijing time.

    Read from ``worker_visit_days`` (visits per grid, worker and Beijing day). Months are found by
    a bound list of month starts (day numbers), field days as a bitmap of the days of the month (a
    worker in two grids on one day has one field day); one row per worker, months as arrays.
    """
    months, first = _months(start, end)
    day = "(w.day - date '1970-01-01')"
    month = f"width_bucket({day}, CAST(:first AS int[]))"
    rows = session.execute(
        text(
            "SELECT d.worker_id, s.name, array_agg(d.m ORDER BY d.m), "
            "  array_agg(d.n ORDER BY d.m), array_agg(d.days ORDER BY d.m) FROM ("
            f"  SELECT w.worker_id, {month} AS m, sum(w.visits)::bigint AS n, "
            f"    bit_or(1::bigint << ({day} - (CAST(:first AS int[]))[{month}])) AS days "
            "  FROM worker_visit_days w "
            f"  WHERE w.day >= :start AND w.day < :end AND {scope.sql('w.grid_code')} "
            "  GROUP BY 1, 2) d "
            "JOIN staff s ON s.id = d.worker_id GROUP BY 1, 2 ORDER BY 1"
        ),
        {"start": start, "end": end, "first": first, **scope.params()},
    ).all()
    return [
        (
            worker_id,
            name,
            [
                (months[m - 1], int(n), int(bits).bit_count())
                for m, n, bits in zip(ms, ns, bitmaps, strict=True)
            ],
        )
        for worker_id, name, ms, ns, bitmaps in rows
    ]


def _months(start: dt.date, end: dt.date) -> tuple[list[str], list[int]]:
    """Labels and first day numbers (days since 1970-01-01) of the months [start, end) touches."""
    labels, first = [], []
    day = start
    epoch = dt.date(1970, 1, 1)
    while day < end:
        labels.append(f"{day:%Y-%m}")
        first.append((day - epoch).days)
        day = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return labels, first
