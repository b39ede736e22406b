"""Incremental mode: decide which existing grids are redivided and which are kept as they are."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from . import _types as t
from ._inputs import Buildings, Frame, polygonal

_GAP_M2 = 1.0  # uncovered land below this is noise, not a gap (the database tolerance is 1 m² too)
_STRADDLE_SHARE = 0.01  # a footprint with more than 1 % of its area in another grid is split


@dataclass
class KeptGrid:
    geometry: BaseGeometry
    kind: str
    households: float
    buildings: list[int]
    source_id: object
    issues: list[tuple[str, str, list[int]]] = field(default_factory=list)


@dataclass
class Plan:
    kept: list[KeptGrid]
    region: BaseGeometry | None
    region_buildings: np.ndarray


def split_input_grids(
    grids: gpd.GeoDataFrame,
    bld: Buildings,
    community: BaseGeometry,
    frame: Frame,
    lo: float,
    hi: float,
    issues: list[t.PartitionIssue],
) -> Plan:
    """Keep in-band grids untouched; gather out-of-band ones, their neighbours and gaps into a region."""
    n = len(grids)
    raw = np.asarray(grids.geometry.values, dtype=object)
    geoms = raw.copy()
    repaired = np.zeros(n, dtype=bool)
    for i in range(n):
        before = len(issues)
        geoms[i] = polygonal(raw[i], f"网格 {grids['id'].iloc[i]}", issues)
        repaired[i] = (
            len(issues) > before
        )  # a repaired grid is redivided: it cannot stay "unchanged"
    kinds = np.asarray(
        grids["kind"] if "kind" in grids.columns else ["comprehensive"] * n, dtype=object
    )
    comprehensive = kinds != "dedicated"
    owner, shares = _building_owner(bld, geoms, frame)
    households = np.bincount(owner[owner >= 0], weights=bld.households[owner >= 0], minlength=n)
    members = [np.flatnonzero(owner == g).tolist() for g in range(n)]

    out_of_band = comprehensive & ((households < lo) | (households > hi))
    lone_giant = np.array(
        [
            households[g] > hi and sum(bld.households[b] > 0 for b in members[g]) == 1
            for g in range(n)
        ],
        dtype=bool,
    )
    bad = (out_of_band & ~lone_giant) | (repaired & comprehensive)
    nbr_a, nbr_b = _neighbours(geoms)
    changed = bad.copy()
    changed[nbr_b[bad[nbr_a]]] = True
    changed[nbr_a[bad[nbr_b]]] = True
    gaps = _gaps(community, geoms, frame)
    if len(gaps):
        gi, ci = shapely.STRtree(geoms).query(gaps, predicate="intersects")
        line = shapely.relate_pattern(gaps[gi], geoms[ci], "****1****")
        changed[ci[line]] = True
    changed &= comprehensive

    kept = []
    for g in np.flatnonzero(~changed).tolist():
        row = KeptGrid(raw[g], str(kinds[g]), float(households[g]), members[g], grids["id"].iloc[g])
        if lone_giant[g]:
            row.issues.append(
                (
                    t.OVERSIZE_BUILDING,
                    f"该网格只有一栋 {households[g]:.0f} 户的建筑，超过上限 {hi:.0f} 户，无法再分，保持不变",
                    members[g],
                )
            )
        kept.append(row)
    if not changed.any() and not len(gaps):
        return Plan(kept, None, np.empty(0, dtype=np.int64))
    region = shapely.union_all(np.concatenate([geoms[changed], gaps]))
    outside = shapely.difference(region, community)
    if not outside.is_empty and shapely.area(frame.to_m(np.asarray([outside])))[0] > _GAP_M2:
        region = shapely.intersection(region, community)
    work = np.flatnonzero(
        np.isin(owner, np.flatnonzero(changed))
        | ((owner < 0) & shapely.intersects(bld.geoms, region))
    )
    _straddle_issues(shares, changed, bld, issues)
    return Plan(kept, region, work)


def _building_owner(
    bld: Buildings, geoms: np.ndarray, frame: Frame
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Grid holding each building: the point's grid, or the grid with most of the footprint."""
    owner = np.full(len(bld), -1, dtype=np.int64)
    if not len(bld) or not len(geoms):
        return owner, (np.empty(0, np.int64),) * 2 + (np.empty(0),)
    bi, gi = shapely.STRtree(geoms).query(bld.geoms, predicate="intersects")
    share = np.ones(len(bi))
    fp = ~bld.is_point[bi]
    if np.any(fp):
        part = shapely.area(frame.to_m(shapely.intersection(bld.geoms[bi[fp]], geoms[gi[fp]])))
        share[fp] = part / np.maximum(shapely.area(frame.to_m(bld.geoms[bi[fp]])), 1e-9)
    order = np.lexsort((gi, -share, bi))
    first = np.unique(bi[order], return_index=True)[1]
    owner[bi[order][first]] = gi[order][first]
    return owner, (bi, gi, share)


def _neighbours(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of grids sharing a boundary line (touching at a point does not count)."""
    a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    line = shapely.relate_pattern(geoms[a], geoms[b], "****1****")
    return a[line], b[line]


def _gaps(community: BaseGeometry, geoms: np.ndarray, frame: Frame) -> np.ndarray:
    """Pieces of the community no grid covers, above the noise threshold."""
    rest = shapely.difference(community, shapely.union_all(geoms))
    parts = shapely.get_parts(rest)
    parts = parts[shapely.get_type_id(parts) == 3]
    if not len(parts):
        return parts
    return parts[shapely.area(frame.to_m(parts)) > _GAP_M2]


def _straddle_issues(
    shares: tuple[np.ndarray, ...],
    changed: np.ndarray,
    bld: Buildings,
    issues: list[t.PartitionIssue],
) -> None:
    bi, gi, share = shares
    real = share > _STRADDLE_SHARE
    bi, gi = bi[real], gi[real]
    split = [b for b in np.unique(bi).tolist() if len(set(changed[gi[bi == b]].tolist())) > 1]
    if split:
        issues.append(
            t.PartitionIssue(
                t.BUILDING_SPLIT,
                f"{len(split)} 栋建筑跨越保留网格与重新划分区域的边界；保留网格不作改动，这些建筑仍被分割，请人工调整",
                tuple(bld.ids[split].tolist()),
            )
        )
