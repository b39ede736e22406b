"""Automatic grid partition of a community (网格自动划分) for county planners.

Two entry points: :func:`partition_community` divides a whole community from scratch;
:func:`repartition` redivides only the grids that left the household band and their neighbours.
Both return a :class:`PartitionResult`: grids that tile the area exactly (built from one noded planar
subdivision, so shared edges are bit-identical), each grid one piece of land made of whole buildings,
plus a list of :class:`PartitionIssue` saying, in Chinese, whatever could not be met and why.

How (details in the private modules): buildings become nodes of an adjacency graph whose land is the
footprint-aware Voronoi region of each building clipped to the community and cut along barriers;
the graph is divided by balanced recursive bisection (straight sweeps scored by boundary length,
household balance and barrier alignment) and refined by single-building moves.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from . import _types as t
from ._engine import finish, grid_geometry, run
from ._incremental import split_input_grids
from ._inputs import (
    Buildings,
    Frame,
    check_band,
    epsg_of,
    normalise_buildings,
    polygonal,
)
from ._types import PartitionIssue, PartitionResult

__all__ = ["PartitionIssue", "PartitionResult", "partition_community", "repartition"]


def partition_community(
    community: BaseGeometry,
    buildings: gpd.GeoDataFrame,
    *,
    barriers: gpd.GeoSeries | None = None,
    dedicated: gpd.GeoDataFrame | None = None,
    target: int = 300,
    band: tuple[int, int] = (250, 500),
    crs: int = 4490,
) -> PartitionResult:
    """Divide a community into grids of about ``target`` households.

    Dedicated polygons (schools, parks, hospitals ...) are carved out first and become grids of kind
    ``"dedicated"`` holding the buildings inside them. The rest is divided into comprehensive grids
    that tile it exactly, each a single polygon of whole buildings, compact, following barriers where
    the household counts allow, with households inside ``band`` wherever the building sizes allow.

    Parameters
    ----------
    community : shapely Polygon or MultiPolygon
        The community (村/社区) boundary, lon/lat in ``crs``. Invalid geometry is repaired and reported.
    buildings : GeoDataFrame
        Columns ``id`` (unique) and ``households`` (non-negative); geometry points or footprint
        polygons; CRS EPSG:4490 or EPSG:4326. Buildings outside the community are left out and reported.
    barriers : GeoSeries, optional
        Roads, rivers, walls as lines (lon/lat). Grid boundaries follow them where possible.
    dedicated : GeoDataFrame, optional
        Polygons that become dedicated grids (lon/lat); overlaps go to the earlier row.
    target : int, default 300
        Households per comprehensive grid (docs/domain.md#grids: "每300户...划分1个网格").
    band : (int, int), default (250, 500)
        Acceptable households per comprehensive grid, inclusive.
    crs : int, default 4490
        CRS of ``community``; 4490 and 4326 are treated as the same (docs/domain.md#coordinates).

    Returns
    -------
    PartitionResult
        ``grids`` in EPSG:4490 with ``index``, ``kind``, ``households``, ``building_ids``,
        ``compactness`` and ``geometry``; ``issues``; ``feasible``.

    Raises
    ------
    ValueError
        If a CRS is missing or not lon/lat, the band does not contain the target, or the building
        table lacks ``id``/``households`` or has negative or missing counts.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> d = 0.0009  # about 100 m of latitude
    >>> community = box(113.0, 34.0, 113.0 + 2.2 * d, 34.0 + d)
    >>> pts = [Point(113.0 + x * d, 34.0 + y * d) for x in (0.5, 1.7) for y in (0.25, 0.75)]
    >>> b = gpd.GeoDataFrame({"id": [1, 2, 3, 4], "households": [150] * 4}, geometry=pts, crs=4490)
    >>> result = partition_community(community, b)
    >>> result.grids["households"].tolist(), result.feasible
    ([300.0, 300.0], True)
    """
    lo, hi = check_band(target, band)
    inp = community_inputs(community, buildings, barriers, dedicated, crs)
    issues, bld, work, frame = inp.issues, inp.buildings, inp.work, inp.frame
    result = run(inp.area, frame, bld.take(work), inp.dedicated, inp.barriers, target, lo, hi)
    outside = np.concatenate(
        [np.setdiff1d(np.arange(len(bld)), work), work[result.unplaced]]
    ).astype(np.int64)
    if len(outside):
        issues.append(_outside_issue(bld, outside))
    grids = result.grids
    return finish(
        [grid_geometry(result, g) for g in grids],
        [g.kind for g in grids],
        [g.households for g in grids],
        [bld.ids[work[g.buildings]].tolist() for g in grids],
        [[(k, m, bld.ids[work[b]].tolist()) for k, m, b in g.issues] for g in grids],
        issues,
        frame,
        (lo, hi),
    )


def repartition(
    grids: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    *,
    community: BaseGeometry,
    barriers: gpd.GeoSeries | None = None,
    target: int = 300,
    band: tuple[int, int] = (250, 500),
) -> PartitionResult:
    """Redivide only the grids that left the household band, and their neighbours.

    A comprehensive grid is redivided when its households (recounted from ``buildings``) fall outside
    ``band``, unless a single oversize building alone makes it so; its comprehensive neighbours
    (sharing a boundary line) are redivided with it, and so is any gap of the community that no
    grid covers. Every other grid is returned with its geometry untouched (the same object) and its
    ``source_id``. The new grids tile exactly the land of the grids they replace.

    Parameters
    ----------
    grids : GeoDataFrame
        Current grids, columns ``id`` and geometry, optional ``kind`` (``"dedicated"`` grids are
        never redivided); lon/lat (EPSG:4490 or 4326).
    buildings : GeoDataFrame
        As for :func:`partition_community`.
    community : shapely Polygon or MultiPolygon
        The community boundary, in the CRS of ``grids``.
    barriers, target, band
        As for :func:`partition_community`.

    Returns
    -------
    PartitionResult
        As for :func:`partition_community`, with an extra column ``source_id``: the input ``id`` of
        an unchanged grid, ``None`` for a new one.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> d = 0.0009
    >>> community = box(113.0, 34.0, 113.0 + 3 * d, 34.0 + d)
    >>> cells = [box(113.0 + i * d, 34.0, 113.0 + (i + 1) * d, 34.0 + d) for i in range(3)]
    >>> g = gpd.GeoDataFrame({"id": ["a", "b", "c"]}, geometry=cells, crs=4490)
    >>> hh = [300, 100, 100, 300, 300]
    >>> xs = [0.5, 1.3, 1.7, 2.3, 2.7]
    >>> pts = [Point(113.0 + x * d, 34.0 + 0.5 * d) for x in xs]
    >>> b = gpd.GeoDataFrame({"id": range(5), "households": hh}, geometry=pts, crs=4490)
    >>> r = repartition(g, b, community=community)
    >>> sorted(r.grids["households"].tolist()), r.grids["source_id"].tolist()[0]
    ([300.0, 400.0, 400.0], None)
    """
    epsg_of(grids.crs, "网格表")
    epsg_of(buildings.crs, "建筑表")
    if barriers is not None:
        epsg_of(barriers.crs, "障碍线")
    lo, hi = check_band(target, band)
    if "id" not in grids.columns:
        raise ValueError("网格表缺少列：id")
    issues: list[PartitionIssue] = []
    area = polygonal(community, "社区边界", issues)
    bld = normalise_buildings(buildings)
    frame = Frame(area)
    plan = split_input_grids(grids, bld, area, frame, lo, hi, issues)
    geoms: list[BaseGeometry] = []
    kinds: list[str] = []
    households: list[float] = []
    ids: list[list[object]] = []
    notes: list[list[tuple[str, str, list[object]]]] = []
    source: list[object] = []
    for row in plan.kept:
        geoms.append(row.geometry)
        kinds.append(row.kind)
        households.append(row.households)
        ids.append(bld.ids[row.buildings].tolist())
        notes.append([(k, m, bld.ids[b].tolist()) for k, m, b in row.issues])
        source.append(row.source_id)
    if plan.region is not None:
        work = plan.region_buildings
        result = run(
            plan.region,
            frame,
            bld.take(work),
            np.empty(0, object),
            _barrier_lines(barriers),
            target,
            lo,
            hi,
        )
        if len(result.unplaced):
            issues.append(_outside_issue(bld, work[result.unplaced]))
        for g in result.grids:
            geoms.append(grid_geometry(result, g))
            kinds.append(g.kind)
            households.append(g.households)
            ids.append(bld.ids[work[g.buildings]].tolist())
            notes.append([(k, m, bld.ids[work[b]].tolist()) for k, m, b in g.issues])
            source.append(None)
    return finish(
        geoms, kinds, households, ids, notes, issues, frame, (lo, hi), {"source_id": source}
    )


@dataclass
class CommunityInputs:
    """Checked and normalised inputs of :func:`partition_community` (also used by the benchmark)."""

    area: BaseGeometry
    frame: Frame
    buildings: Buildings
    work: np.ndarray  # rows of ``buildings`` that touch the area
    dedicated: np.ndarray
    barriers: np.ndarray
    issues: list[PartitionIssue]


def community_inputs(
    community: BaseGeometry,
    buildings: gpd.GeoDataFrame,
    barriers: gpd.GeoSeries | None,
    dedicated: gpd.GeoDataFrame | None,
    crs: int,
) -> CommunityInputs:
    """CRS checks, geometry repair, dedicated polygons made disjoint, barriers as lines."""
    epsg_of(crs, "参数 crs")
    epsg_of(buildings.crs, "建筑表")
    if barriers is not None:
        epsg_of(barriers.crs, "障碍线")
    if dedicated is not None:
        epsg_of(dedicated.crs, "专属网格")
    issues: list[PartitionIssue] = []
    area = polygonal(community, "社区边界", issues)
    bld = normalise_buildings(buildings)
    ded = _disjoint_dedicated(dedicated, area, issues)
    inside = shapely.intersects(bld.geoms, area) if len(bld) else np.zeros(0, dtype=bool)
    return CommunityInputs(
        area, Frame(area), bld, np.flatnonzero(inside), ded, _barrier_lines(barriers), issues
    )


def _disjoint_dedicated(
    dedicated: gpd.GeoDataFrame | None, area: BaseGeometry, issues: list[PartitionIssue]
) -> np.ndarray:
    """Dedicated polygons clipped to the area, earlier rows winning overlaps; empty ones reported."""
    if dedicated is None or len(dedicated) == 0:
        return np.empty(0, dtype=object)
    out: list[BaseGeometry] = []
    taken: BaseGeometry = shapely.Polygon()
    for i, geom in enumerate(dedicated.geometry):
        poly = polygonal(geom, f"专属网格第 {i} 行", issues)
        piece = shapely.difference(shapely.intersection(poly, area), taken)
        piece = shapely.union_all(
            [p for p in shapely.get_parts(piece) if p.geom_type == "Polygon" and p.area > 0]
        )
        if piece.is_empty:
            issues.append(
                PartitionIssue(
                    t.EMPTY_AREA, f"专属网格第 {i} 行不在社区内或被前面的专属网格完全覆盖，已忽略"
                )
            )
            continue
        out.append(piece)
        taken = shapely.union(taken, piece)
    return np.asarray(out, dtype=object)


def _barrier_lines(barriers: gpd.GeoSeries | None) -> np.ndarray:
    if barriers is None or len(barriers) == 0:
        return np.empty(0, dtype=object)
    geoms = np.asarray(barriers.values, dtype=object)
    geoms = geoms[~shapely.is_empty(geoms) & ~shapely.is_missing(geoms)]
    # Polygon barriers (a river drawn as an area) count by their outline.
    poly = np.isin(shapely.get_type_id(geoms), (3, 6))
    geoms[poly] = shapely.boundary(geoms[poly])
    return geoms


def _outside_issue(bld: Buildings, rows: np.ndarray) -> PartitionIssue:
    return PartitionIssue(
        t.BUILDING_OUTSIDE,
        f"{len(rows)} 栋建筑（共 {bld.households[rows].sum():.0f} 户）不在划分范围内，未分入任何网格",
        tuple(bld.ids[rows].tolist()),
    )
