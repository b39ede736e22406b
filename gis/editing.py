"""Pure geometry of the plan edits: reshape (with sliver snapping), split, merge, move a building.

Geometries are lon/lat (EPSG:4490) shapely objects; every area or distance is measured in the
Gauss-Krüger zone (gis.projection), never in degrees. A refused edit raises :class:`EditRefused`
(a ``ValueError``) with a message the planner can act on, because each edit is validated the moment
it is made; the service turns it into a 422.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import split as split_polygon

from gis.coverage.polygons import is_sliver
from gis.coverage.tolerances import CoverageTolerances
from gis.projection import geometry_from_metric, geometry_to_metric, gk_crs_for
from gis.repair import repair


class EditRefused(ValueError):
    """An edit that cannot be made as drawn; the message (Chinese) says what to change."""


SLIVERS = CoverageTolerances()
"""The one sliver rule (gis.coverage's defaults): what the planner's validation would report as a
sliver, an edit snaps to a neighbour instead."""


def area_m2(geom: BaseGeometry) -> float:
    return float(geometry_to_metric(geom).area) if not geom.is_empty else 0.0


def as_multi(geom: BaseGeometry) -> MultiPolygon:
    parts = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon) and not g.is_empty]
    if not parts:
        return MultiPolygon()
    return MultiPolygon(parts)


def _is_sliver(piece: BaseGeometry) -> bool:
    return bool(is_sliver(np.array([geometry_to_metric(piece)], dtype=object), SLIVERS)[0])


def _best_neighbour(
    piece: BaseGeometry, geoms: dict[int, BaseGeometry], skip: int | None
) -> int | None:
    """The grid sharing the longest boundary with ``piece`` (where a planner would snap it)."""
    best, best_len = None, 0.0
    for key, geom in geoms.items():
        if key == skip or geom.is_empty:
            continue
        shared = piece.boundary.intersection(geom.boundary).length
        if shared > best_len:
            best, best_len = key, shared
    return best


def snap_slivers(
    geoms: dict[int, BaseGeometry], community: BaseGeometry, drawn: int | None = None
) -> dict[int, MultiPolygon]:
    """Give every sliver (a small or thin gap piece, or a small detached part of a grid) to the
    neighbour with the longest shared edge. Larger gaps stay: they are the planner's to fill.
    The grid just ``drawn`` keeps the shape the planner drew unless it is the only neighbour."""
    out: dict[int, BaseGeometry] = dict(geoms)
    for key in list(out):
        parts = sorted(shapely.get_parts(out[key]), key=lambda p: -p.area)
        for part in parts[1:]:
            if _is_sliver(part):
                target = _best_neighbour(part, out, skip=key)
                if target is not None:
                    out[key] = out[key].difference(part)
                    out[target] = out[target].union(part)
    union = shapely.union_all(list(out.values()))
    gaps = community.difference(union)
    for piece in shapely.get_parts(gaps):
        if piece.area > 0 and _is_sliver(piece):
            target = _best_neighbour(piece, out, skip=drawn)
            if target is None:
                target = _best_neighbour(piece, out, skip=None)
            if target is not None:
                out[target] = out[target].union(piece)
    return {k: as_multi(v) for k, v in out.items()}


def reshape(
    geoms: dict[int, BaseGeometry], key: int, new_geom: BaseGeometry, community: BaseGeometry
) -> dict[int, MultiPolygon]:
    """Give grid ``key`` the shape ``new_geom`` (clipped to the community); neighbours lose what it
    takes, and slivers left behind are snapped to a neighbour. A neighbour swallowed whole comes
    back empty; the caller drops it."""
    if not new_geom.is_valid:
        new_geom = repair(new_geom)
    clipped = as_multi(new_geom.intersection(community))
    if clipped.is_empty:
        raise EditRefused("新边界与社区范围不相交")
    out: dict[int, BaseGeometry] = {}
    for other, geom in geoms.items():
        out[other] = clipped if other == key else geom.difference(clipped)
    return snap_slivers(out, community, drawn=key)


def split(geom: BaseGeometry, line: BaseGeometry) -> list[MultiPolygon]:
    """Cut a grid along a line; the line must cross it from edge to edge (422 otherwise)."""
    if not isinstance(line, LineString | MultiLineString):
        raise EditRefused("分割线必须是线（LineString）")
    pieces: list[Polygon] = []
    for part in shapely.get_parts(geom):
        pieces.extend(p for p in split_polygon(part, line).geoms if isinstance(p, Polygon))
    if len(pieces) < 2:
        raise EditRefused("分割线没有穿过该网格（需从网格一侧边界画到另一侧）")
    pieces.sort(key=lambda p: -p.area)
    return [MultiPolygon([p]) for p in pieces]


def merge(a: BaseGeometry, b: BaseGeometry) -> MultiPolygon:
    """Union of two grids that share an edge (touching at a corner is not enough)."""
    if a.intersection(b).length == 0 and a.intersection(b).area == 0:
        raise EditRefused("两个网格不相邻（没有公共边），不能合并")
    merged = shapely.union_all([a, b])
    return as_multi(merged)


def building_region(location: BaseGeometry, footprint: BaseGeometry | None) -> Polygon:
    """The land that moves with a building: its footprint plus 2 m (or its point plus 10 m, a typical half-width), measured in
    metres, so the building ends up wholly inside its new grid."""
    base = footprint if footprint is not None else location
    lon = base.centroid.x
    crs = gk_crs_for(lon)
    metric = geometry_to_metric(base, lon).buffer(2.0 if footprint is not None else 10.0)
    result = geometry_from_metric(metric, crs)
    assert isinstance(result, Polygon)
    return result
