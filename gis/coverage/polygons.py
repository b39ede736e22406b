"""Polygon checks, all in metres: gaps, overlaps, slivers and grids crossing their community."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely
from shapely.errors import GEOSException

from gis.coverage.findings import (
    Findings,
    Geoms,
    area_text,
    group_polygons,
    names,
    polygon_parts,
    thinness,
)
from gis.coverage.layers import Layers
from gis.coverage.tolerances import CoverageTolerances

# Overlays snap to a 1 mm grid: far below digitising precision, far above the 1e-9 m wobble that
# the lon/lat round trip leaves on shared edges. Without it a real gap grows hairline arms along
# nearly collinear edges, which wreck its perimeter (hence thinness) and list far-away neighbours.
_SNAP_M = 0.001
# Gap pieces come out of an overlay with the grids, so their neighbours touch them up to snapping.
_TOUCH_M = 0.002


def is_sliver(geoms: Geoms, tol: CoverageTolerances) -> npt.NDArray[np.bool_]:
    """Small or thin, per the tolerances (either criterion suffices)."""
    return np.asarray(
        (shapely.area(geoms) <= tol.sliver_max_area_m2)
        | (thinness(geoms) <= tol.sliver_max_thinness)
    )


def flag_unmatched(grid_m: Geoms) -> npt.NDArray[np.bool_]:
    """Grids with an edge that GEOS's coverage validator finds not shared exactly with a neighbour.

    Two grids can only overlap if one of them has such an edge (identical twins are flagged too),
    and grids without one form an exact coverage among themselves, which ``coverage_union`` merges
    several times faster than a general union.
    """
    if not len(grid_m):
        return np.zeros(0, dtype=bool)
    return np.asarray(~shapely.is_empty(shapely.coverage_invalid_edges(grid_m)))


def find_gaps(
    layers: Layers, tree: shapely.STRtree, flagged: npt.NDArray[np.bool_], tol: CoverageTolerances
) -> Findings:
    """Each connected piece of a community that no grid (of any community) covers."""
    out = Findings(layers.metric_crs)
    pieces: list[Geoms] = []
    owner: list[npt.NDArray[np.intp]] = []
    # One overlay per community against the grids near it: ~100 iterations a county, not per grid.
    for i, community in enumerate(layers.community_m):
        near = tree.query(community, predicate="intersects")
        rest = community
        if len(near):
            rest = shapely.difference(
                community, _union(layers.grid_m[near], flagged[near]), grid_size=_SNAP_M
            )
        parts, _ = polygon_parts(np.array([rest], dtype=object))
        parts = parts[shapely.area(parts) >= tol.gap_min_m2]
        pieces.append(parts)
        owner.append(np.full(len(parts), i))
    if not pieces or not sum(len(p) for p in pieces):
        return out
    gaps = np.concatenate(pieces)
    community = np.concatenate(owner)
    piece_idx, grid_idx = tree.query(gaps, predicate="dwithin", distance=_TOUCH_M)
    neighbours = _codes_by(piece_idx, layers.grid_codes[grid_idx], len(gaps))
    sliver = is_sliver(gaps, tol)
    for k, gap in enumerate(gaps):
        code = layers.community_codes[community[k]]
        area = float(gap.area)
        near_text = f"（相邻网格：{names(neighbours[k])}）" if neighbours[k] else ""
        if sliver[k]:
            message = (
                f"社区 {code} 内有一条 {area_text(area)}的细缝未被任何网格覆盖{near_text}，"
                "疑似边界未对齐"
            )
            kind = "sliver"
        else:
            message = f"社区 {code} 内有 {area_text(area)}未被任何网格覆盖{near_text}"
            kind = "gap"
        out.add(kind, "error", [code, *neighbours[k]], gap, area, message)
    return out


def find_overlaps(
    layers: Layers, tree: shapely.STRtree, flagged: npt.NDArray[np.bool_], tol: CoverageTolerances
) -> Findings:
    """Overlap of each pair of grids, one finding per pair, pieces below the noise floor dropped."""
    out = Findings(layers.metric_crs)
    # Only pairs involving a flagged grid can overlap (see flag_unmatched).
    if not flagged.any():
        return out
    left, right = tree.query(layers.grid_m, predicate="intersects")
    keep = (left < right) & (flagged[left] | flagged[right])
    left, right = left[keep], right[keep]
    shared = shapely.intersection(layers.grid_m[left], layers.grid_m[right], grid_size=_SNAP_M)
    parts, pair = polygon_parts(shared)
    big = shapely.area(parts) >= tol.overlap_min_m2
    parts, pair = parts[big], pair[big]
    if not len(parts):
        return out
    all_sliver = np.bincount(pair, weights=~is_sliver(parts, tol), minlength=len(left)) == 0
    pairs, geoms = group_polygons(parts, pair)
    for p, geom in zip(pairs, geoms, strict=True):
        a, b = layers.grid_codes[left[p]], layers.grid_codes[right[p]]
        area = float(geom.area)
        if all_sliver[p]:
            message = f"网格 {a} 与 {b} 之间有 {area_text(area)}的细长重叠，疑似边界未对齐"
            out.add("sliver", "error", [a, b], geom, area, message)
        else:
            out.add(
                "overlap", "error", [a, b], geom, area, f"网格 {a} 与 {b} 重叠 {area_text(area)}"
            )
    return out


def find_thin_grids(layers: Layers, tol: CoverageTolerances) -> Findings:
    """Grids that are themselves slivers: tiny or strip-shaped."""
    out = Findings(layers.storage_crs)
    areas = shapely.area(layers.grid_m)
    ratio = thinness(layers.grid_m)
    for i in np.flatnonzero(is_sliver(layers.grid_m, tol)):
        code = layers.grid_codes[i]
        message = (
            f"网格 {code} 面积只有 {area_text(areas[i])}，形状细长或过小（紧凑度 {ratio[i]:.3f}），"
            "疑似绘制错误"
        )
        out.add("sliver", "warning", [code], layers.grid_ll[i], areas[i], message)
    return out


def find_crossings(layers: Layers, tol: CoverageTolerances) -> Findings:
    """Grids reaching outside their own community by more than the tolerance."""
    out = Findings(layers.metric_crs)
    position = {code: i for i, code in enumerate(layers.community_codes)}
    home = np.array([position.get(c, -1) for c in layers.grid_community], dtype=np.intp)
    for i in np.flatnonzero(home < 0):
        code, community = layers.grid_codes[i], layers.grid_community[i]
        area = float(layers.grid_m[i].area)
        message = f"网格 {code} 所属社区 {community} 不在本次审计的社区中，无法核对其边界"
        out.add("crosses_community", "error", [code, community], layers.grid_m[i], area, message)
    known = np.flatnonzero(home >= 0)
    if not len(known):
        return out
    shapely.prepare(layers.community_m)
    inside = shapely.covers(layers.community_m[home[known]], layers.grid_m[known])
    stray = known[~inside]
    outside = shapely.difference(
        layers.grid_m[stray], layers.community_m[home[stray]], grid_size=_SNAP_M
    )
    parts, index = polygon_parts(outside)
    if not len(parts):
        return out
    rows, geoms = group_polygons(parts, index)
    for r, geom in zip(rows, geoms, strict=True):
        area = float(geom.area)
        if area <= tol.crossing_min_m2:
            continue
        i = stray[r]
        code, community = layers.grid_codes[i], layers.grid_community[i]
        message = f"网格 {code} 超出所属社区 {community} 的边界 {area_text(area)}"
        out.add("crosses_community", "error", [code, community], geom, area, message)
    return out


def _union(grids: Geoms, flagged: npt.NDArray[np.bool_]) -> shapely.Geometry:
    exact = None
    if (~flagged).any():
        try:
            exact = shapely.coverage_union_all(grids[~flagged])
        except GEOSException:  # not expected for unflagged grids; stay correct
            flagged = np.ones(len(grids), dtype=bool)
    rest = grids[flagged]
    if not len(rest):
        return exact
    return shapely.union_all(rest if exact is None else np.append(rest, exact))


def _codes_by(
    index: npt.NDArray[np.intp], codes: npt.NDArray[np.object_], n: int
) -> list[list[str]]:
    """Sorted distinct codes per index value 0..n-1."""
    grouped: list[set[str]] = [set() for _ in range(n)]
    for k, code in zip(index.tolist(), codes.tolist(), strict=True):
        grouped[k].add(code)
    return [sorted(g) for g in grouped]
