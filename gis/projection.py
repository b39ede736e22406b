"""Metric work in the CGCS2000 3-degree Gauss-Krüger zones.

Lon/lat degrees are fine for storage and lookup but never for areas or distances
(docs/domain.md#coordinates): a square degree near 34°N is about 10,200 km², near 45°N about 8,800
km². Everything metric goes through here.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TypeVar

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

STORAGE_EPSG = 4490
"""CGCS2000 geographic; for web output interchangeable with WGS84 (EPSG:4326)."""

LONLAT_EPSGS = frozenset({4490, 4326})

# EPSG:4534 is "CGCS2000 / 3-degree Gauss-Kruger CM 75E", EPSG:4554 is CM 135E; one code every 3 degrees.
_FIRST_GK_EPSG = 4534
_FIRST_CM = 75
_LAST_CM = 135

G = TypeVar("G", gpd.GeoDataFrame, gpd.GeoSeries)


def gk_central_meridian(lon: float) -> int:
    """Central meridian (degrees E) of the 3-degree zone containing ``lon``.

    Examples
    --------
    >>> gk_central_meridian(113.4)
    114
    """
    if not np.isfinite(lon) or not (_FIRST_CM - 1.5 <= lon <= _LAST_CM + 1.5):
        raise ValueError(
            f"longitude {lon} is outside China's CGCS2000 Gauss-Krüger zones (73.5–136.5°E)"
        )
    return int(3 * round(lon / 3))


@lru_cache(maxsize=32)
def gk_crs_for(lon: float) -> pyproj.CRS:
    """The CGCS2000 3-degree Gauss-Krüger CRS whose zone contains ``lon``.

    Parameters
    ----------
    lon : float
        A longitude in degrees east, typically the centroid of the data to be measured.

    Returns
    -------
    pyproj.CRS
        One of EPSG:4534 … EPSG:4554 (no zone number in the false easting).

    Examples
    --------
    >>> gk_crs_for(113.4).to_epsg()
    4547
    """
    cm = gk_central_meridian(lon)
    return pyproj.CRS.from_epsg(_FIRST_GK_EPSG + (cm - _FIRST_CM) // 3)


# EPSG:4513 is "CGCS2000 / 3-degree Gauss-Kruger zone 25" (CM 75E) … EPSG:4533 zone 45 (CM 135E):
# the same zones with the zone number in front of the false easting (zone 38: 38 500 000 m), as
# surveys and land-use projects in China write them.
_FIRST_GK_ZONE_EPSG = 4513


def gk_zone_epsg_for(lon: float) -> int:
    """The EPSG code of the numbered 3-degree zone (4513–4533) containing ``lon``; the same zone
    as :func:`gk_crs_for`, written with its zone number.

    >>> gk_zone_epsg_for(113.4)
    4526
    """
    return _FIRST_GK_ZONE_EPSG + (gk_central_meridian(lon) - _FIRST_CM) // 3


def _require_lonlat(crs: pyproj.CRS | None) -> None:
    if crs is None:
        raise ValueError("data has no CRS; set it (EPSG:4490 for stored geometry) before measuring")
    epsg = crs.to_epsg()
    if epsg not in LONLAT_EPSGS:
        raise ValueError(
            f"expected CGCS2000/WGS84 lon/lat (EPSG:4490 or 4326), got {crs.to_string()}"
        )


def to_metric(data: G, crs: pyproj.CRS | None = None) -> G:
    """Project lon/lat data into the Gauss-Krüger zone of its centre (or into ``crs``).

    Parameters
    ----------
    data : GeoDataFrame or GeoSeries
        In EPSG:4490 or EPSG:4326. Anything else raises rather than being guessed.
    crs : pyproj.CRS, optional
        The metric CRS to use; by default the zone containing the data's bounding-box centre.

    Returns
    -------
    Same type as ``data``, in metres.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> s = gpd.GeoSeries([box(113.0, 34.0, 113.01, 34.01)], crs=4490)
    >>> round(float(to_metric(s).area.iloc[0]) / 1e4)  # hectares
    102
    """
    _require_lonlat(data.crs)
    if crs is None:
        minx, _, maxx, _ = data.total_bounds
        if not np.isfinite(minx):
            raise ValueError("cannot pick a Gauss-Krüger zone for empty data; pass crs explicitly")
        crs = gk_crs_for((minx + maxx) / 2)
    return data.to_crs(crs)


@lru_cache(maxsize=64)
def _transformer(src_epsg: int, dst_epsg: int) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(src_epsg, dst_epsg, always_xy=True)


def geometry_to_metric(geom: BaseGeometry, lon_hint: float | None = None) -> BaseGeometry:
    """Project one lon/lat (EPSG:4490) shapely geometry into its Gauss-Krüger zone."""
    if lon_hint is None:
        minx, _, maxx, _ = geom.bounds
        lon_hint = (minx + maxx) / 2
    dst = gk_crs_for(lon_hint).to_epsg()
    assert dst is not None
    return shapely.transform(geom, lambda xy: _stack(_transformer(STORAGE_EPSG, dst), xy))


SAME_SHAPE_M = 0.01
"""Two shapes whose boundaries lie within 1 cm of each other everywhere are the same shape:
below digitising noise (and the lon/lat round trip), far below any real boundary change."""


def same_shape(a: BaseGeometry, b: BaseGeometry, tolerance_m: float = SAME_SHAPE_M) -> bool:
    """Whether two lon/lat (EPSG:4490) geometries are the same shape, measured in metres.

    Both are projected into the Gauss-Krüger zone of ``a`` and compared by the Hausdorff distance
    between their boundaries (every vertex of one within ``tolerance_m`` of the other's boundary,
    and back), so a different starting vertex, an extra vertex on a straight edge or a ring drawn
    the other way round is still the same shape, and a hole, a spike or a shifted edge is not.

    >>> from shapely.geometry import box
    >>> same_shape(box(113.0, 34.0, 113.01, 34.01), box(113.0, 34.0, 113.01 + 1e-8, 34.01))
    True
    >>> same_shape(box(113.0, 34.0, 113.01, 34.01), box(113.0, 34.0, 113.01 + 1e-6, 34.01))
    False
    """
    if a.is_empty or b.is_empty:
        return bool(a.is_empty and b.is_empty)
    if a.geom_type != b.geom_type and {a.geom_type, b.geom_type} != {"Polygon", "MultiPolygon"}:
        return False
    minx, _, maxx, _ = a.bounds
    lon = (minx + maxx) / 2
    # Stored edges are straight in lon/lat, not in the projection: densify first (~10 m), or an
    # extra vertex on a 1 km edge would stand a centimetre off the other shape's chord.
    ma, mb = (geometry_to_metric(shapely.segmentize(g, 1e-4), lon) for g in (a, b))
    if shapely.get_dimensions(ma) == 2:
        ma, mb = ma.boundary, mb.boundary
    return bool(shapely.hausdorff_distance(ma, mb) <= tolerance_m)


def geometry_from_metric(geom: BaseGeometry, metric_crs: pyproj.CRS) -> BaseGeometry:
    """Inverse of :func:`geometry_to_metric` for a geometry in ``metric_crs``."""
    src = metric_crs.to_epsg()
    assert src is not None
    return shapely.transform(geom, lambda xy: _stack(_transformer(src, STORAGE_EPSG), xy))


def _stack(t: pyproj.Transformer, xy: np.ndarray) -> np.ndarray:
    x, y = t.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def area_m2(data: gpd.GeoSeries) -> np.ndarray:
    """Areas in square metres of lon/lat geometries, computed in their Gauss-Krüger zone."""
    return np.asarray(to_metric(data).area, dtype=float)


def distance_m(
    lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray
) -> np.ndarray:
    """Geodesic distance in metres on the CGCS2000 ellipsoid (vectorised)."""
    geod = pyproj.Geod(ellps="GRS80")  # CGCS2000's ellipsoid differs from GRS80 by < 0.1 mm in b
    _, _, dist = geod.inv(lon1, lat1, lon2, lat2)
    return np.asarray(dist, dtype=float)
