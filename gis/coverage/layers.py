"""Input checks and the repaired, projected arrays every coverage check works from."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyproj
import shapely

from gis.coverage.findings import Findings, Geoms, explain_invalid, location_text
from gis.projection import gk_crs_for, to_metric
from gis.repair import repair

_REQUIRED = {
    "communities": ("code",),
    "grids": ("code", "community_code"),
    "buildings": ("code",),
    "households": ("id",),
}
# Micro-grids (微网格) nest inside a grid by design; they are not part of the seamless coverage.
_NOT_IN_COVERAGE = "micro"


@dataclass(frozen=True)
class Layers:
    """Communities and grids, repaired where invalid, in storage (``_ll``) and metric (``_m``) CRS.

    Unusable rows (no geometry, or not polygonal even after repair) are reported and left out, so
    every array here holds valid, non-empty polygons.
    """

    storage_crs: pyproj.CRS
    metric_crs: pyproj.CRS
    community_codes: npt.NDArray[np.object_]
    community_ll: Geoms
    community_m: Geoms
    grid_codes: npt.NDArray[np.object_]
    grid_community: npt.NDArray[np.object_]
    grid_ll: Geoms
    grid_m: Geoms
    grid_households: npt.NDArray[np.float64]
    grid_comprehensive: npt.NDArray[np.bool_]


def check_inputs(frames: dict[str, gpd.GeoDataFrame | None]) -> pyproj.CRS:
    """Raise ValueError on missing columns or differing CRS; return the common (storage) CRS."""
    crs: pyproj.CRS | None = None
    first = ""
    for name, frame in frames.items():
        if frame is None:
            continue
        if not isinstance(frame, gpd.GeoDataFrame):
            raise ValueError(f"{name} must be a GeoDataFrame, got {type(frame).__name__}")
        missing = [c for c in _REQUIRED[name] if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} lacks column(s) {', '.join(missing)}")
        if frame.crs is None:
            raise ValueError(f"{name} has no CRS; stored geometry is EPSG:4490")
        if crs is None:
            crs, first = frame.crs, name
        elif not frame.crs.equals(crs):
            raise ValueError(
                f"CRS mismatch: {first} is {crs.to_string()} but {name} is {frame.crs.to_string()}"
            )
    assert crs is not None  # communities and grids are always given
    return crs


def metric_crs_for(frames: list[gpd.GeoDataFrame | None]) -> pyproj.CRS | None:
    """The Gauss-Krüger zone at the centre of all the data, or None when there is no geometry."""
    bounds = np.array([f.total_bounds for f in frames if f is not None and len(f)]).reshape(-1, 4)
    finite = bounds[np.isfinite(bounds).all(axis=1)]
    if not len(finite):
        return None
    return gk_crs_for(float((finite[:, 0].min() + finite[:, 2].max()) / 2))


def build_layers(
    communities: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    storage_crs: pyproj.CRS,
    metric_crs: pyproj.CRS,
    invalid: Findings,
) -> Layers:
    """Repair copies of invalid polygons (reporting each into ``invalid``) and project them."""
    if "type" in grids.columns:
        grids = grids[grids["type"].astype(str) != _NOT_IN_COVERAGE]
    community_ll, community_ok = _repair("社区", communities, invalid)
    grid_ll, grid_ok = _repair("网格", grids, invalid)

    households = np.full(len(grids), np.nan)
    if "households" in grids.columns:
        households = pd.to_numeric(grids["households"], errors="coerce").to_numpy(dtype=float)
    comprehensive = np.ones(len(grids), dtype=bool)
    if "type" in grids.columns:
        # A grid without a type is comprehensive, as the grids table's default says.
        kind = grids["type"]
        comprehensive = (kind.isna() | (kind.astype(str) == "comprehensive")).to_numpy()

    return Layers(
        storage_crs=storage_crs,
        metric_crs=metric_crs,
        community_codes=_codes(communities["code"])[community_ok],
        community_ll=community_ll[community_ok],
        community_m=project(community_ll[community_ok], storage_crs, metric_crs),
        grid_codes=_codes(grids["code"])[grid_ok],
        grid_community=_codes(grids["community_code"])[grid_ok],
        grid_ll=grid_ll[grid_ok],
        grid_m=project(grid_ll[grid_ok], storage_crs, metric_crs),
        grid_households=households[grid_ok],
        grid_comprehensive=comprehensive[grid_ok],
    )


def _codes(column: pd.Series) -> npt.NDArray[np.object_]:
    return np.array([str(c) for c in column], dtype=object)


# A straight lon/lat edge is slightly curved in the Gauss-Krüger plane; projecting only the vertices
# turns it into a chord. Two grids sharing an edge where only one of them has a vertex mid-edge then
# disagree by a lens about 1 km × 2.5 cm, a false "sliver" of several m². Densifying to ~50 m first
# keeps every chord within 0.1 mm of the curve, so matching edges still match after projection.
_DENSIFY_DEG = 0.0005


def project(geoms: Geoms, storage_crs: pyproj.CRS, metric_crs: pyproj.CRS) -> Geoms:
    """Lon/lat polygons into the metric CRS, densified first (see ``_DENSIFY_DEG``)."""
    series = gpd.GeoSeries(shapely.segmentize(geoms, _DENSIFY_DEG), crs=storage_crs)
    return np.asarray(to_metric(series, metric_crs).array, dtype=object)


def _repair(
    noun: str, frame: gpd.GeoDataFrame, out: Findings
) -> tuple[Geoms, npt.NDArray[np.bool_]]:
    """Valid polygonal copies of ``frame``'s geometry and a mask of the rows still usable."""
    geoms = np.asarray(frame.geometry.array, dtype=object)
    codes = _codes(frame["code"])
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    reasons = shapely.is_valid_reason(geoms)
    bad = np.flatnonzero(~missing & (reasons != "Valid Geometry"))
    repaired = geoms.copy()
    if len(bad):
        # "structure" keeps what the rings enclose and always returns polygons for polygon input.
        repaired[bad] = repair(geoms[bad])
    polygonal = np.isin(shapely.get_type_id(repaired), (3, 6)) & ~shapely.is_empty(repaired)
    usable = ~missing & polygonal

    for i in np.flatnonzero(missing):
        out.add(
            "invalid_geometry",
            "error",
            [codes[i]],
            None,
            np.nan,
            f"{noun} {codes[i]} 没有几何图形，无法审计",
        )
    for i in bad:
        label, where = explain_invalid(str(reasons[i]))
        if where is None:
            where = shapely.centroid(shapely.envelope(geoms[i]))
        tail = "已按修复后的图形继续审计" if usable[i] else "无法修复，未参与其他检查"
        out.add(
            "invalid_geometry",
            "error",
            [codes[i]],
            where,
            np.nan,
            f"{noun} {codes[i]} 的几何图形无效：{label}，位置：{location_text(where)}；{tail}",
        )
    for i in np.flatnonzero(~missing & ~polygonal & (reasons == "Valid Geometry")):
        out.add(
            "invalid_geometry",
            "error",
            [codes[i]],
            shapely.point_on_surface(geoms[i]),
            np.nan,
            f"{noun} {codes[i]} 的几何图形不是面（{geoms[i].geom_type}），未参与其他检查",
        )
    return repaired, usable
