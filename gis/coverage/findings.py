"""Finding rows, shape measures and the wording shared by the coverage checks."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely

COLUMNS = ("kind", "severity", "objects", "geometry", "area_m2", "message")

KINDS = (
    "invalid_geometry",
    "gap",
    "overlap",
    "sliver",
    "crosses_community",
    "household_outside",
    "building_outside",
    "building_split",
    "household_band",
    # micro-grids inside grids (gis.coverage.micro)
    "micro_outside_grid",
    "micro_overlap",
    "micro_gap",
    "household_no_micro",
    "micro_band",
)

Geoms = npt.NDArray[np.object_]


@dataclass
class Findings:
    """Findings in one CRS, appended column by column (cheap for 10⁵ household rows)."""

    crs: pyproj.CRS
    kind: list[str] = field(default_factory=list)
    severity: list[str] = field(default_factory=list)
    objects: list[list[str]] = field(default_factory=list)
    geometry: list[Any] = field(default_factory=list)
    area_m2: list[float] = field(default_factory=list)
    message: list[str] = field(default_factory=list)

    def add(
        self,
        kind: str,
        severity: str,
        objects: Sequence[str],
        geometry: Any,
        area_m2: float,
        message: str,
    ) -> None:
        self.kind.append(kind)
        self.severity.append(severity)
        self.objects.append(list(objects))
        self.geometry.append(geometry)
        self.area_m2.append(float(area_m2))
        self.message.append(message)

    def frame(self, out_crs: pyproj.CRS) -> gpd.GeoDataFrame:
        """The rows as a GeoDataFrame in ``out_crs``."""
        gdf = gpd.GeoDataFrame(
            {
                "kind": pd.Series(self.kind, dtype=object),
                "severity": pd.Series(self.severity, dtype=object),
                "objects": pd.Series(self.objects, dtype=object),
                "area_m2": pd.Series(self.area_m2, dtype=float),
                "message": pd.Series(self.message, dtype=object),
            },
            geometry=gpd.GeoSeries(self.geometry, crs=self.crs),
        )
        if len(gdf) and not self.crs.equals(out_crs):
            gdf = gdf.to_crs(out_crs)
        return gdf.set_crs(out_crs, allow_override=True)[list(COLUMNS)]


def thinness(geoms: Geoms) -> npt.NDArray[np.float64]:
    """Polsby-Popper ratio ``4πA/P²``: 1 for a circle, near 0 for a strip, 0 if degenerate."""
    area = shapely.area(geoms)
    perimeter = shapely.length(geoms)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(perimeter > 0, 4 * np.pi * area / perimeter**2, 0.0)
    return np.asarray(ratio, dtype=float)


def polygon_parts(geoms: Geoms) -> tuple[Geoms, npt.NDArray[np.intp]]:
    """Every polygon inside ``geoms`` (through multi-parts and collections) and its source index.

    Overlay results may mix in lines and points where polygons only touch; those carry no area and
    are dropped here.
    """
    parts, index = shapely.get_parts(geoms, return_index=True)
    # Collections can hold multi-polygons, so flatten until nothing multi is left.
    while True:
        multi = shapely.get_type_id(parts) >= 4
        if not multi.any():
            break
        inner, inner_index = shapely.get_parts(parts[multi], return_index=True)
        parts = np.concatenate([parts[~multi], inner])
        index = np.concatenate([index[~multi], index[multi][inner_index]])
    keep = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
    return parts[keep], index[keep]


def group_polygons(parts: Geoms, index: npt.NDArray[np.intp]) -> tuple[npt.NDArray[np.intp], Geoms]:
    """One (multi)polygon per distinct ``index`` value, with those values in ascending order."""
    order = np.argsort(index, kind="stable")
    keys, dense = np.unique(index[order], return_inverse=True)
    grouped = shapely.multipolygons(parts[order], indices=dense)
    single = np.bincount(dense) == 1
    # A single piece is returned as the Polygon it is, not wrapped in a MultiPolygon.
    grouped[single] = parts[order][np.searchsorted(dense, np.flatnonzero(single))]
    return keys, np.asarray(grouped, dtype=object)


def area_text(area: float) -> str:
    return f"{area:.1f} 平方米"


def names(codes: Iterable[str]) -> str:
    return "、".join(codes)


def location_text(point: shapely.Point) -> str:
    return f"东经 {point.x:.6f}°，北纬 {point.y:.6f}°"


_REASONS = {
    "Self-intersection": "边界自相交",
    "Ring Self-intersection": "边界环自相交",
    "Too few points": "顶点太少",
    "Hole lies outside shell": "内洞在外边界之外",
    "Nested holes": "内洞相互嵌套",
    "Interior is disconnected": "内部被分割成不连通的部分",
    "Nested shells": "外边界相互嵌套",
    "Duplicate Rings": "边界环重复",
    "Invalid Coordinate": "坐标无效（空值或无穷大）",
    "Ring is not closed": "边界环未闭合",
}
_REASON_AT = re.compile(r"^(?P<what>[^\[]*?)\s*\[(?P<x>\S+) (?P<y>\S+)\]")


def explain_invalid(reason: str) -> tuple[str, shapely.Point | None]:
    """Chinese wording of a ``shapely.is_valid_reason`` text, and the location it names if any."""
    match = _REASON_AT.match(reason)
    what = match.group("what") if match else reason
    point = None
    if match:
        try:
            point = shapely.Point(float(match.group("x")), float(match.group("y")))
        except ValueError:
            point = None
    chinese = _REASONS.get(what)
    label = f"{chinese}（{what}）" if chinese else what
    return label, point
