"""Household and building checks: points outside every grid, split footprints, households per grid.

Points are located in storage coordinates, as the platform's routing does (PostGIS ST_Intersects on
EPSG:4490), so "outside" here means exactly "routing would find no grid". Only footprint shares are
areas, and those are measured in metres.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

from gis.coverage.findings import Findings, Geoms, area_text, names
from gis.coverage.layers import Layers, project
from gis.coverage.tolerances import CoverageTolerances
from gis.pointindex import first_per_point
from gis.repair import repair

Index = npt.NDArray[np.intp]


def locate(tree: shapely.STRtree, grid_ll: Geoms, points: Geoms) -> tuple[Index, Index]:
    """(point, grid) index pairs for every grid that each point lies in or on.

    Envelope candidates from the tree, then one vectorised point-in-polygon test on the prepared
    grids: cheaper than ``sjoin`` for a million points.
    """
    point_idx, grid_idx = tree.query(points)
    hit = shapely.intersects_xy(
        grid_ll[grid_idx], shapely.get_x(points[point_idx]), shapely.get_y(points[point_idx])
    )
    return point_idx[hit], grid_idx[hit]


def anchor_points(geoms: Geoms) -> Geoms:
    """Points stand for themselves; a footprint stands at its representative point (inside it)."""
    anchors = geoms.copy()
    shaped = ~shapely.is_missing(geoms) & (shapely.get_type_id(geoms) != 0)
    if shaped.any():
        anchors[shaped] = shapely.point_on_surface(geoms[shaped])
    return anchors


def find_households_outside(
    layers: Layers,
    tree: shapely.STRtree,
    households: gpd.GeoDataFrame,
    counts: npt.NDArray[np.float64],
) -> Findings:
    """Households in no grid; adds each grid's household count into ``counts`` on the way."""
    out = Findings(layers.storage_crs)
    geoms = np.asarray(households.geometry.array, dtype=object)
    points = anchor_points(geoms)
    located = _has_location(points)
    point_idx, grid_idx = locate(tree, layers.grid_ll, points[located])
    # A household on a shared edge counts once, in the grid routing sends it to (the smallest code).
    order = np.argsort(layers.grid_codes.astype(str), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    _, owner_rank = first_per_point(point_idx, rank[grid_idx])
    counts += np.bincount(order[owner_rank], minlength=len(layers.grid_ll))
    inside = np.zeros(len(points), dtype=bool)
    inside[np.flatnonzero(located)[point_idx]] = True
    ids = households["id"].to_numpy()
    _report_outside(out, layers, "household_outside", "户", ids, geoms, points, located, inside)
    return out


def find_buildings_outside(
    layers: Layers, tree: shapely.STRtree, buildings: gpd.GeoDataFrame
) -> Findings:
    """Buildings whose location, or footprint's representative point, is in no grid."""
    out = Findings(layers.storage_crs)
    geoms = np.asarray(buildings.geometry.array, dtype=object)
    footprint, shapes = _footprints(geoms)
    repaired = geoms.copy()
    repaired[footprint] = shapes
    points = anchor_points(repaired)
    located = _has_location(points)
    point_idx, _ = locate(tree, layers.grid_ll, points[located])
    inside = np.zeros(len(points), dtype=bool)
    inside[np.flatnonzero(located)[point_idx]] = True
    codes = buildings["code"].to_numpy()
    _report_outside(out, layers, "building_outside", "楼栋", codes, geoms, points, located, inside)
    return out


def find_building_splits(
    layers: Layers,
    tree: shapely.STRtree,
    tree_m: shapely.STRtree,
    buildings: gpd.GeoDataFrame,
    tol: CoverageTolerances,
) -> Findings:
    """Footprints whose runner-up grid holds more than the tolerated share of their area."""
    out = Findings(layers.storage_crs)
    geoms = np.asarray(buildings.geometry.array, dtype=object)
    footprint, shapes = _footprints(geoms)
    if not len(footprint) or not len(layers.grid_m):
        return out
    # Most footprints lie wholly in the grid holding their representative point; one prepared
    # ``covers`` per footprint settles those, and only the rest need areas of intersections.
    point_idx, grid_idx = locate(tree, layers.grid_ll, shapely.point_on_surface(shapes))
    home = np.full(len(shapes), -1)
    home[point_idx] = grid_idx
    whole = np.zeros(len(shapes), dtype=bool)
    placed = home >= 0
    whole[placed] = shapely.covers(layers.grid_ll[home[placed]], shapes[placed])
    rest = np.flatnonzero(~whole)
    if not len(rest):
        return out
    shapes_m = project(shapes[rest], layers.storage_crs, layers.metric_crs)
    codes = buildings["code"].to_numpy()[footprint[rest]]
    _report_splits(out, layers, tree_m, shapes_m, codes, geoms[footprint[rest]], tol)
    return out


def _footprints(geoms: Geoms) -> tuple[Index, Geoms]:
    """Rows holding a footprint polygon, and valid copies of those polygons."""
    footprint = np.flatnonzero(
        np.isin(shapely.get_type_id(geoms), (3, 6)) & ~shapely.is_empty(geoms)
    )
    # Footprints are not audited for validity, but a broken one must not stop the audit.
    shapes = geoms[footprint].copy()
    broken = ~shapely.is_valid(shapes)
    shapes[broken] = repair(shapes[broken])
    return footprint, shapes


def _report_splits(
    out: Findings,
    layers: Layers,
    tree_m: shapely.STRtree,
    shapes_m: Geoms,
    codes: npt.NDArray[np.object_],
    geoms: Geoms,
    tol: CoverageTolerances,
) -> None:
    b_idx, g_idx = tree_m.query(shapes_m, predicate="intersects")
    several = (np.bincount(b_idx, minlength=len(shapes_m)) >= 2)[b_idx]
    b_idx, g_idx = b_idx[several], g_idx[several]
    if not len(b_idx):
        return
    total = shapely.area(shapes_m)
    share = shapely.area(shapely.intersection(shapes_m[b_idx], layers.grid_m[g_idx]))
    share /= total[b_idx]
    # Rows by building, largest share first; the second row of a building is its runner-up grid.
    order = np.lexsort((-share, b_idx))
    b_idx, g_idx, share = b_idx[order], g_idx[order], share[order]
    start = np.flatnonzero(np.r_[True, b_idx[1:] != b_idx[:-1]])
    stop = np.r_[start[1:], len(b_idx)]
    split = (stop - start >= 2) & (
        share[np.minimum(start + 1, len(share) - 1)] > tol.split_min_share
    )
    for first, last in zip(start[split], stop[split], strict=True):
        b = b_idx[first]
        held = np.arange(first, last)[share[first:last] > 0]
        grid_codes = [str(layers.grid_codes[g]) for g in g_idx[held]]
        moved = float(total[b] * share[held[1:]].sum())
        parts = "，".join(
            f"网格 {c} 占 {s:.1%}" for c, s in zip(grid_codes, share[held], strict=True)
        )
        message = (
            f"楼栋 {codes[b]} 的占地被分在 {len(grid_codes)} 个网格：{parts}"
            f"（主网格之外 {area_text(moved)}）"
        )
        out.add("building_split", "warning", [str(codes[b]), *grid_codes], geoms[b], moved, message)


def find_band(layers: Layers, counts: npt.NDArray[np.float64], tol: CoverageTolerances) -> Findings:
    """Comprehensive grids whose household count lies outside the band (NaN counts are unknown)."""
    out = Findings(layers.storage_crs)
    low, high = tol.band
    bad = layers.grid_comprehensive & np.isfinite(counts) & ((counts < low) | (counts > high))
    for i in np.flatnonzero(bad):
        code, n = layers.grid_codes[i], int(counts[i])
        side = "少于" if n < low else "多于"
        message = f"网格 {code} 有 {n} 户，{side}规定的 {low}–{high} 户"
        out.add("household_band", "warning", [code], layers.grid_ll[i], np.nan, message)
    return out


def _has_location(points: Geoms) -> npt.NDArray[np.bool_]:
    return np.asarray(~shapely.is_missing(points) & ~shapely.is_empty(points))


def _report_outside(
    out: Findings,
    layers: Layers,
    kind: str,
    noun: str,
    ids: npt.NDArray[np.object_],
    geoms: Geoms,
    points: Geoms,
    located: npt.NDArray[np.bool_],
    inside: npt.NDArray[np.bool_],
) -> None:
    for i in np.flatnonzero(~located):
        ref = str(ids[i])
        message = f"{noun} {ref} 没有位置坐标，无法确定所属网格"
        out.add(kind, "error", [ref], None, np.nan, message)
    lost = np.flatnonzero(located & ~inside)
    if not len(lost):
        return
    # Name the community the point falls in, so the finding reaches the planner who can fix it.
    community: list[list[str]] = [[] for _ in lost]
    if len(layers.community_ll):
        p_idx, c_idx = shapely.STRtree(layers.community_ll).query(
            points[lost], predicate="intersects"
        )
        for p, c in zip(p_idx.tolist(), c_idx.tolist(), strict=True):
            community[p].append(str(layers.community_codes[c]))
    for k, i in enumerate(lost):
        ref = str(ids[i])
        where = f"位于社区 {names(community[k])}，但" if community[k] else ""
        message = f"{noun} {ref} {where}不在任何网格内"
        out.add(kind, "error", [ref, *community[k]], geoms[i], np.nan, message)
