"""Locate: point → grid → leader, community, township, county, prefecture, province (single points
and batches); a point in no grid still gets the areas that hold it."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from app.areas.lookup import ref
from app.auth.policy import Field, Principal, mask_phone
from app.errors import InvalidInput
from app.locate.registry import AreaRef, RegistrySnapshot, StaffRef
from app.locate.schemas import LocatePublic
from gis.crs import parse_coord_system, to_wgs84
from gis.pointindex import PolygonIndex


def coord_system(crs: str) -> str:
    try:
        return parse_coord_system(crs).value
    except ValueError as exc:
        raise InvalidInput(
            f"crs: 不支持的坐标系 {crs!r}；可选 wgs84、cgcs2000、gcj02（高德/腾讯）、bd09（百度）",
            field="crs",
        ) from exc


def check_coordinates(lng: float, lat: float) -> None:
    for name, value, limit in (("lng", lng, 180.0), ("lat", lat, 90.0)):
        if not math.isfinite(value) or abs(value) > limit:
            raise InvalidInput(f"{name}: 坐标值 {value} 无效，应在 ±{limit:g} 之间", field=name)


def to_storage(lng: float, lat: float, crs: str) -> tuple[float, float]:
    """Input coordinates → CGCS2000 lon/lat (identity for wgs84/cgcs2000)."""
    if crs in ("wgs84", "cgcs2000"):
        return lng, lat
    x, y = to_wgs84(lng, lat, crs)
    return float(x[0] if np.ndim(x) else x), float(y[0] if np.ndim(y) else y)


def _person(staff: StaffRef, show_phone: bool) -> dict[str, Any]:
    return {
        "name": staff.name,
        "phone": staff.phone if show_phone else mask_phone(staff.phone),
        "employment": staff.employment,
    }


def _area(ref: AreaRef | None) -> dict[str, str] | None:
    return {"code": ref.code, "name": ref.name} if ref is not None else None


@dataclass(frozen=True)
class _Fragments:
    """The parts of a locate answer that depend only on the grid (and on masking), built once per
    snapshot so the hot path only assembles them. Shared between answers: never mutated."""

    grid: dict[str, str]
    areas: dict[str, dict[str, str] | None]
    leader: tuple[dict[str, Any] | None, dict[str, Any] | None]  # (masked, full)
    workers: tuple[list[dict[str, Any]], list[dict[str, Any]]]
    message: str


def _fragment(snapshot: RegistrySnapshot, i: int) -> _Fragments:
    """Grid ``i``'s fragments, built on first use: a patched snapshot (app/locate/registry.py)
    rebuilds only those of the grids it changed."""
    cache = snapshot.fragments
    if cache is None:
        cache = snapshot.fragments = [None] * len(snapshot.grids)
    frag = cache[i]
    if frag is None:
        g = snapshot.grids[i]
        frag = cache[i] = _Fragments(
            grid={"code": g.code, "name": g.name, "type": g.type},
            areas={
                **_areas_above(snapshot, g.community.code),
                "community": _area(g.community),
                "township": _area(g.township),
                "county": _area(g.county),
            },
            leader=(
                (_person(g.leader, False), _person(g.leader, True)) if g.leader else (None, None)
            ),
            workers=(
                [_person(w, False) for w in g.workers],
                [_person(w, True) for w in g.workers],
            ),
            message=f"{g.name}：网格长{g.leader.name}" if g.leader else f"{g.name}：暂无网格长",
        )
    return frag  # type: ignore[no-any-return]


def _areas_above(snapshot: RegistrySnapshot, code: str) -> dict[str, dict[str, str] | None]:
    """The province and prefecture above area ``code`` (codes nest by prefix)."""
    above = snapshot.areas.above(code) if snapshot.areas is not None else {}
    return {"province": ref(above.get("province")), "prefecture": ref(above.get("prefecture"))}


def _areas_at(snapshot: RegistrySnapshot, x: float, y: float) -> dict[str, dict[str, str] | None]:
    """Every level's area holding a point that is in no grid (docs/domain.md#hierarchy-and-codes)."""
    if snapshot.areas is None:
        return {}
    return {level: ref(entry) for level, entry in snapshot.areas.at(x, y).items()}


def locate_point(
    snapshot: RegistrySnapshot, *, lng: float, lat: float, crs: str, principal: Principal
) -> LocatePublic:
    """Which grid a point is in and who answers for it (see :func:`locate_point_dict`)."""
    return LocatePublic.model_validate(
        locate_point_dict(snapshot, lng=lng, lat=lat, crs=crs, principal=principal)
    )


def locate_point_dict(
    snapshot: RegistrySnapshot,
    *,
    lng: float,
    lat: float,
    crs: str,
    principal: Principal,
) -> dict[str, Any]:
    """The locate answer as a plain dict shaped exactly like :class:`LocatePublic`.

    A dict rather than the model because this is the hot path of ``GET /locate`` (tens of
    thousands a second); :func:`locate_point` wraps it for everyone else.
    """
    check_coordinates(lng, lat)
    system = coord_system(crs)
    x, y = to_storage(lng, lat, system)
    answer: dict[str, Any] = {
        "point": {"lng": round(x, 7), "lat": round(y, 7), "crs": "cgcs2000", "input_lng": lng,
                  "input_lat": lat, "input_crs": system},
        "found": False, "grid": None, "leader": None, "workers": [], "community": None,
        "township": None, "county": None, "prefecture": None, "province": None,
        "near_edge": False, "edge_distance_m": None, "nearest": None, "micro_grid": None,
    }  # fmt: skip
    index = snapshot.index
    if index is None:
        answer.update(_areas_at(snapshot, x, y))
        answer["message"] = "尚未导入任何在用网格"
        return answer
    i = index.locate_one(x, y)
    if i < 0:
        answer.update(_areas_at(snapshot, x, y))
        near_i, distance = index.nearest(x, y)
        nearest = snapshot.grids[near_i]
        answer["nearest"] = {
            "grid": _fragment(snapshot, near_i).grid,
            "distance_m": round(distance, 1),
        }
        where = "".join(
            answer[level]["name"]
            for level in ("province", "prefecture", "county", "township", "community")
            if answer[level]
        )
        answer["message"] = (
            f"该点{'位于' + where + '，' if where else ''}不在任何网格内；"
            f"最近的网格是{nearest.name}（{nearest.code}），相距{distance:.0f}米"
        )
        return answer
    frag = _fragment(snapshot, i)
    edge_m: float | None = None
    if index.is_near_edge_cell(x, y):
        d = index.edge_distance_m(i, x, y)
        if d <= index.edge_distance_threshold_m:
            edge_m = round(d, 1)
    show = int(principal.sees(Field.STAFF_PHONE, frag.grid["code"]))
    if snapshot.micro is not None:
        answer["micro_grid"] = snapshot.micro.at(x, y, frag.grid["code"])
    answer.update(frag.areas)
    answer.update(
        found=True, grid=frag.grid, leader=frag.leader[show], workers=frag.workers[show],
        near_edge=edge_m is not None, edge_distance_m=edge_m,
        message=frag.message if edge_m is None else f"{frag.message}；该点距网格边界仅{edge_m:.0f}米，请核实",
    )  # fmt: skip
    return answer


BATCH_COLUMNS = [
    "id", "lng", "lat", "grid_code", "grid_name", "community_code", "township_code",
    "leader_name", "near_edge", "edge_distance_m", "nearest_grid_code", "nearest_distance_m", "error",
]  # fmt: skip


BAD_POINT = "坐标缺失或超出范围"


@dataclass(frozen=True)
class BatchColumns:
    """Per answer column: its distinct values, and for each grid (plus a last entry for "no
    grid", -1) the position of its value among them; built once per snapshot. ``token`` names
    it, so the batch process (app/locate/batch.py) receives it once per snapshot."""

    token: str
    columns: dict[str, tuple[pd.CategoricalDtype, np.ndarray]]


def batch_columns(snapshot: RegistrySnapshot) -> BatchColumns:
    if snapshot.batch_columns is None:
        grids = snapshot.grids
        values: dict[str, list[str | None]] = {
            "grid_code": [g.code for g in grids],
            "grid_name": [g.name for g in grids],
            "community_code": [g.community.code for g in grids],
            "township_code": [g.township.code if g.township else None for g in grids],
            "leader_name": [g.leader.name if g.leader else None for g in grids],
        }
        columns: dict[str, tuple[pd.CategoricalDtype, np.ndarray]] = {}
        for name, column in values.items():
            present = sorted({v for v in column if v is not None})
            categories = np.array(present, dtype=object)
            where = {v: i for i, v in enumerate(present)}
            positions = [where[v] if v is not None else -1 for v in column]
            of_grid = np.array([*positions, -1], dtype=np.int64)
            # One dtype per snapshot: pandas checks a hundred thousand categories once, not
            # in every chunk of every batch.
            columns[name] = (pd.CategoricalDtype(categories), of_grid)
        snapshot.batch_columns = BatchColumns(uuid.uuid4().hex, columns)
    return snapshot.batch_columns  # type: ignore[no-any-return]


def locate_batch(snapshot: RegistrySnapshot, points: pd.DataFrame, *, crs: str) -> pd.DataFrame:
    """Vectorised locate for a frame with columns id, lng, lat (in ``crs``); one row out per row in.

    Rows with unusable coordinates are answered with an ``error`` instead of failing the batch.
    """
    return locate_frame(snapshot.index, batch_columns(snapshot), points, crs=crs)


def locate_frame(
    index: PolygonIndex | None, columns: BatchColumns, points: pd.DataFrame, *, crs: str
) -> pd.DataFrame:
    """:func:`locate_batch` from its parts: what the batch process has (an index it mapped and
    the snapshot's columns), no snapshot and no database."""
    system = coord_system(crs)
    lng = pd.to_numeric(points["lng"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(points["lat"], errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isfinite(lng) & np.isfinite(lat) & (np.abs(lng) <= 180) & (np.abs(lat) <= 90))
    x, y = lng.copy(), lat.copy()
    good = ~bad
    if system not in ("wgs84", "cgcs2000") and good.any():
        x[good], y[good] = to_wgs84(lng[good], lat[good], system)
    n = len(points)
    out: dict[str, Any] = {"id": points["id"].to_numpy() if "id" in points else np.arange(1, n + 1)}
    out["lng"] = np.round(x, 7)
    out["lat"] = np.round(y, 7)
    grid_idx = np.full(n, -1, dtype=np.int32)
    if index is not None and good.any():
        grid_idx[good] = index.locate(x[good], y[good])
    for name, (dtype, of_grid) in columns.columns.items():
        # Categoricals: a million answers share a few thousand strings instead of copying them.
        out[name] = pd.Categorical.from_codes(of_grid[grid_idx], dtype=dtype)
    edge = np.full(n, np.nan)
    nearest_code = np.full(n, -1, dtype=np.int64)
    nearest_d = np.full(n, np.nan)
    if index is not None:
        found = grid_idx >= 0
        if found.any():
            d = index.edge_distances_m(grid_idx[found], x[found], y[found])
            d[d > index.edge_distance_threshold_m] = np.nan
            edge[found] = np.round(d, 1)
        lost = good & ~found
        if lost.any():
            near_i, near_d = index.nearest_many(x[lost], y[lost])
            nearest_code[lost] = near_i
            nearest_d[lost] = np.round(near_d, 1)
    out["near_edge"] = np.isfinite(edge)
    out["edge_distance_m"] = edge
    codes_of_grid = columns.columns["grid_code"]
    out["nearest_grid_code"] = pd.Categorical.from_codes(
        codes_of_grid[1][nearest_code], dtype=codes_of_grid[0]
    )
    out["nearest_distance_m"] = nearest_d
    out["error"] = pd.Categorical.from_codes(np.where(bad, 0, -1), categories=[BAD_POINT])
    return pd.DataFrame(out, columns=BATCH_COLUMNS, copy=False)
