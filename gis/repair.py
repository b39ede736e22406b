"""Geometry repair, one way everywhere (imports, plans, partition, coverage audit), and the checks
shared by every import kind: repair what can be repaired, say what was done."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

G = TypeVar("G", BaseGeometry, np.ndarray)


def repair(geom: G) -> G:
    """An invalid geometry made valid, the one way: ``make_valid`` with the "structure" method.

    "structure" keeps what the rings enclose (a self-intersecting ring keeps both lobes, a hole
    outside its shell is cut away) and returns polygons for polygon input, dropping parts that
    collapse to lines or points; the default "linework" method can return lines and points beside
    the polygons. Valid geometries come back as they were; works on one geometry or an array.

    >>> from shapely.geometry import Polygon
    >>> bowtie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> fixed = repair(bowtie)
    >>> fixed.geom_type, fixed.area, fixed.is_valid
    ('MultiPolygon', 2.0, True)
    """
    return shapely.make_valid(geom, method="structure", keep_collapsed=False)  # type: ignore[no-any-return]


def polygonal(geom: BaseGeometry | None) -> tuple[MultiPolygon | None, str | None, str | None]:
    """(multipolygon, repair note, rejection reason). Invalid rings are repaired (:func:`repair`) and
    the polygonal part kept; anything without area is rejected."""
    if geom is None or geom.is_empty:
        return None, None, "缺少几何图形"
    note = None
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        geom = repair(geom)
        note = f"几何无效（{reason}），已自动修复"
    parts = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon) and not g.is_empty]
    if isinstance(geom, MultiPolygon) and not parts:
        parts = list(geom.geoms)
    if not parts:
        return None, None, f"不是面状几何（{geom.geom_type}）"
    multi = MultiPolygon(parts) if len(parts) > 1 else MultiPolygon([parts[0]])
    if not multi.is_valid:  # parts of a make_valid result can touch along edges
        multi = repair(multi)
        multi = MultiPolygon([g for g in shapely.get_parts(multi) if isinstance(g, Polygon)])
    if shapely.has_z(multi):
        multi = shapely.force_2d(multi)
    return multi, note, None


def in_china(geom: BaseGeometry) -> bool:
    minx, miny, maxx, maxy = geom.bounds
    return minx >= 73.0 and maxx <= 136.0 and miny >= 3.0 and maxy <= 54.0
