"""Input checks and the metric frame: CRS rules, band rules, building normalisation.

Geometry is *built* in the storage coordinates (lon/lat) so that the community boundary, footprints
and untouched grids keep their exact vertices; everything *measured* (lengths, areas, sampling
spacing, Voronoi distances) goes through the community's Gauss-Krüger zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from gis.projection import LONLAT_EPSGS, gk_crs_for
from gis.repair import repair

from ._types import GEOMETRY_REPAIRED, PartitionIssue


def epsg_of(crs: object, what: str) -> int:
    """EPSG code of a lon/lat CRS (4490 or 4326); anything else raises."""
    if crs is None:
        raise ValueError(f"{what}没有坐标系（CRS），请先设为 EPSG:4490")
    epsg = pyproj.CRS.from_user_input(crs).to_epsg()
    if epsg not in LONLAT_EPSGS:
        raise ValueError(f"{what}的坐标系应为 EPSG:4490 或 EPSG:4326（经纬度），实际为 {crs}")
    return int(epsg)


def check_band(target: int, band: tuple[int, int]) -> tuple[int, int]:
    lo, hi = band
    if not (0 < lo <= target <= hi):
        raise ValueError(f"户数区间 {band} 与目标 {target} 不一致：应满足 0 < 下限 ≤ 目标 ≤ 上限")
    return int(lo), int(hi)


def polygonal(geom: BaseGeometry, what: str, issues: list[PartitionIssue]) -> BaseGeometry:
    """The polygonal part of ``geom``, repaired (and reported) if it was invalid."""
    if geom is None or geom.is_empty:
        raise ValueError(f"{what}为空")
    if not shapely.is_valid(geom):
        geom = repair(geom)
        issues.append(
            PartitionIssue(GEOMETRY_REPAIRED, f"{what}几何无效（自相交等），已自动修复后使用")
        )
    flat = shapely.get_parts(shapely.get_parts(geom))  # collections and multi-parts, one level each
    polys = flat[shapely.get_type_id(flat) == 3]
    if not len(polys):
        raise ValueError(f"{what}不是面（Polygon/MultiPolygon）")
    return polys[0] if len(polys) == 1 else shapely.union_all(polys)


@dataclass(frozen=True)
class Buildings:
    """Buildings as plain arrays, in the caller's row order."""

    ids: np.ndarray  # object
    households: np.ndarray  # float64, >= 0
    geoms: np.ndarray  # lon/lat shapely geometries (Point, Polygon or MultiPolygon)

    @cached_property
    def is_point(self) -> np.ndarray:
        return np.asarray(shapely.get_type_id(self.geoms) == 0)

    def take(self, idx: np.ndarray) -> Buildings:
        return Buildings(self.ids[idx], self.households[idx], self.geoms[idx])

    def __len__(self) -> int:
        return len(self.ids)


def normalise_buildings(buildings: gpd.GeoDataFrame) -> Buildings:
    """Check the columns and values of the building table; raise on anything unusable."""
    missing = {"id", "households"} - set(buildings.columns)
    if missing:
        raise ValueError(f"建筑表缺少列：{', '.join(sorted(missing))}")
    hh = np.asarray(buildings["households"], dtype=float)
    if not np.all(np.isfinite(hh)) or np.any(hh < 0):
        raise ValueError("建筑表的 households（户数）必须是非负数，不能为空")
    geoms = np.asarray(buildings.geometry.values, dtype=object)
    kinds = shapely.get_type_id(geoms)
    bad = ~np.isin(kinds, (0, 3, 6)) | shapely.is_empty(geoms)
    if np.any(bad):
        raise ValueError(f"建筑几何应为点或面，第 {int(np.flatnonzero(bad)[0])} 行不是")
    invalid = ~shapely.is_valid(geoms)
    if np.any(invalid):  # footprints drawn by hand are often self-touching; repair, keep the area
        geoms = geoms.copy()
        geoms[invalid] = repair(geoms[invalid])
        geoms[invalid] = [_largest_polygonal(g) for g in geoms[invalid]]
    ids = np.asarray(buildings["id"].to_numpy(), dtype=object)
    if len(set(ids.tolist())) != len(ids):
        raise ValueError("建筑表的 id 有重复")
    return Buildings(ids, hh, geoms)


def _largest_polygonal(g: BaseGeometry) -> BaseGeometry:
    parts = [p for p in shapely.get_parts(g) if p.geom_type == "Polygon"]
    return shapely.multipolygons(parts) if len(parts) > 1 else parts[0]


class Frame:
    """Transforms between lon/lat (EPSG:4490) and the Gauss-Krüger zone of the work area."""

    def __init__(self, area: BaseGeometry) -> None:
        minx, _, maxx, _ = area.bounds
        self.crs = gk_crs_for((minx + maxx) / 2)
        self._fwd = pyproj.Transformer.from_crs(4490, self.crs, always_xy=True)
        self._inv = pyproj.Transformer.from_crs(self.crs, 4490, always_xy=True)

    def xy_to_m(self, xy: np.ndarray) -> np.ndarray:
        if len(xy) == 0:
            return np.empty((0, 2))
        x, y = self._fwd.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    def xy_to_ll(self, xy: np.ndarray) -> np.ndarray:
        if len(xy) == 0:
            return np.empty((0, 2))
        x, y = self._inv.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    def to_m(self, geoms: np.ndarray) -> np.ndarray:
        return np.asarray(shapely.transform(geoms, self.xy_to_m))

    def to_ll(self, geoms: np.ndarray) -> np.ndarray:
        return np.asarray(shapely.transform(geoms, self.xy_to_ll))
