"""Compact building blocks of visit coverage: households per grid, visits per household and worker.

A year of visits for a county is millions of rows and a county's households a million: fetching
either row by row (or joining them spatially in SQL) costs tens of seconds. So the database only
scans and packs, and numpy finishes:

- households come as one packed binary value (id, x, y, cadence) and are located in memory with the
  raster point index (gis.pointindex), cached per exact set of grid geometries; the few points on a
  grid edge are re-tested against every grid, so a household counts in each grid it intersects, as
  PostGIS ``ST_Intersects`` did. Invalid or overlapping grids take the exact STRtree path instead.
- visits come aggregated to a bitmap of visited households, exact counts for special-group
  households only, and a per worker and month bitmap of field days.
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

from app.visits.cadence import CadenceRule, interval_sql
from gis.pointindex import PolygonIndex

IntArray = npt.NDArray[np.int64]
# Beijing has kept UTC+8 all year since 1991: a visit's local day is plain integer arithmetic.
_OFFSET_S = 8 * 3600
_DAY = "floor((date_part('epoch', v.visited_at) + 28800) / 86400)::int"
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
    session: Session, *, prefix: str, rules: tuple[CadenceRule, ...]
) -> tuple[list[str], Households]:
    """Active grid codes under ``prefix`` and every (household, grid) pair where they intersect."""
    rows = session.execute(
        text(
            "SELECT code, ST_AsBinary(geom) FROM grids WHERE status = 'active' AND code LIKE :p "
            "ORDER BY code"
        ),
        {"p": prefix + "%"},
    ).all()
    codes = [r[0] for r in rows]
    if not rows:
        empty = np.empty(0, dtype=np.int64)
        return codes, Households(empty, empty, empty, np.empty(0, dtype=bool))
    wkb = [bytes(r[1]) for r in rows]
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
    return codes, Households(
        grid=grid.astype(np.int64),
        id=hh["id"][point].astype(np.int64),
        interval_days=hh["interval"][point].astype(np.int64),
        special=hh["special"][point] > 0,
    )


# ----------------------------------------------------------------------------- locating
_CACHE: OrderedDict[bytes, PolygonIndex | None] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 8


def _locate(
    geoms: npt.NDArray[Any],
    wkb: list[bytes],
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
) -> tuple[IntArray, IntArray]:
    """(point, grid) pairs for every grid each point intersects (interior or boundary)."""
    index = _index_for(geoms, wkb)
    if index is None:
        return _locate_exact(geoms, x, y)
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
    return point, grid


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
    digest = hashlib.blake2b(b"\0".join(wkb), digest_size=20).digest()
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

    The database answers 64 households per row (a bitmap), so a million households are ~16,000
    small rows.
    """
    if not len(ids):
        return np.zeros(0, dtype=bool)
    rows = session.execute(
        text(
            "SELECT v.household_id >> 6 AS word, bit_or(1::bigint << (v.household_id & 63)) "
            "FROM visits v WHERE v.visited_at >= :start AND v.visited_at < :end "
            "AND v.household_id BETWEEN :lo AND :hi GROUP BY 1"
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
    session: Session, *, prefix: str, start: dt.date, end: dt.date
) -> list[tuple[int, str, str, int, int]]:
    """(worker id, name, "YYYY-MM", visits, field days) for visits in [start, end) in Beijing time.

    Months are found by a bound list of month starts (day numbers), field days as a bitmap of the
    days of the month, so the database groups ~12 rows per worker instead of one per worker-day.
    """
    months, first = _months(start, end)
    rows = session.execute(
        text(
            "SELECT d.worker_id, s.name, d.m, d.n, d.days FROM ("
            "  SELECT v.worker_id, b.m, count(*) AS n, "
            "    bit_or(1::bigint << (v.day - (CAST(:first AS int[]))[b.m])) AS days "
            f"  FROM (SELECT v.worker_id, {_DAY} AS day FROM visits v "
            "    WHERE v.visited_at >= :start AND v.visited_at < :end AND v.grid_code LIKE :p) v "
            "  CROSS JOIN LATERAL (SELECT width_bucket(v.day, CAST(:first AS int[])) AS m) b "
            "  GROUP BY 1, 2) d JOIN staff s ON s.id = d.worker_id ORDER BY d.worker_id, d.m"
        ),
        {
            "start": _beijing(start),
            "end": _beijing(end),
            "p": prefix + "%",
            "first": first,
        },
    ).all()
    return [(r.worker_id, r.name, months[r.m - 1], int(r.n), int(r.days).bit_count()) for r in rows]


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


def _beijing(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone(dt.timedelta(seconds=_OFFSET_S)))
