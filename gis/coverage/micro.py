"""Micro-grids (微网格) inside a grid (docs/domain.md#micro-grids): the write check and the audit.

A micro-grid lies inside its parent grid and overlaps no other micro-grid of it. What counts as
"inside" is the one sliver rule (gis.coverage.polygons.is_sliver with the default
:class:`CoverageTolerances`, the rule plan edits snap by): a part outside the parent, or shared with
a sibling, that is a sliver (at most 10 m², or thinner than 1:60) is digitising noise and is cut
off when the micro-grid is written; anything larger is refused, and found by the audit when the
parent grid has since been redrawn. Households belong to a micro-grid by routing's edge rule
(gis.pointindex.assign_points over the micro-grids in code order: on a shared edge, the smallest
code).
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from gis.coverage.findings import Findings, area_text, names
from gis.coverage.polygons import is_sliver
from gis.coverage.tolerances import CoverageTolerances
from gis.pointindex import assign_points
from gis.projection import geometry_to_metric

MICRO_KINDS = (
    "micro_outside_grid",
    "micro_overlap",
    "micro_gap",
    "household_no_micro",
    "micro_band",
)


class MicroGridRefused(ValueError):
    """A micro-grid that cannot be written as drawn; the message (Chinese) names it."""


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    return [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]


def real_pieces(
    geom: BaseGeometry, tol: CoverageTolerances, lon_hint: float | None = None
) -> tuple[list[Polygon], float]:
    """The pieces of a lon/lat ``geom`` that are not slivers, and their total area in m²."""
    pieces = _polygons(geom)
    if not pieces:
        return [], 0.0
    metric = np.array([geometry_to_metric(p, lon_hint) for p in pieces], dtype=object)
    keep = ~is_sliver(metric, tol) & (shapely.area(metric) > tol.overlap_min_m2)
    kept = [p for p, k in zip(pieces, keep.tolist(), strict=True) if k]
    return kept, float(shapely.area(metric[keep]).sum())


def _as_multi(geom: BaseGeometry) -> MultiPolygon:
    return MultiPolygon(_polygons(geom))


def fit_micro_grid(
    code: str,
    geom: BaseGeometry,
    *,
    parent_code: str,
    parent: BaseGeometry,
    siblings: Mapping[str, BaseGeometry],
    tol: CoverageTolerances = CoverageTolerances(),
) -> MultiPolygon:
    """Micro-grid ``code`` as it is stored: clipped to ``parent`` and off its ``siblings`` (the
    other active micro-grids of the parent) where what sticks out is a sliver. Raises
    :class:`MicroGridRefused` naming the micro-grid when a real piece lies outside the parent or
    over a sibling, or when nothing is left.

    >>> from shapely.geometry import box
    >>> g = box(113.0, 34.0, 113.002, 34.001)
    >>> fit_micro_grid("41990100100100101", box(113.0, 34.0, 113.001, 34.001),
    ...                parent_code="419901001001001", parent=g, siblings={}).bounds
    (113.0, 34.0, 113.001, 34.001)
    """
    hint = (parent.bounds[0] + parent.bounds[2]) / 2 if not parent.is_empty else None
    outside, outside_m2 = real_pieces(geom.difference(parent), tol, hint)
    if outside:
        raise MicroGridRefused(
            f"微网格 {code} 超出所属网格 {parent_code} 边界 {area_text(outside_m2)}"
            f"（碎片容差：不超过 {tol.sliver_max_area_m2:g} 平方米或狭长图形）：请在网格内绘制"
        )
    fitted = geom.intersection(parent)
    clashes = []
    for other, shape in sorted(siblings.items()):
        if other == code or shape is None or shape.is_empty or not fitted.intersects(shape):
            continue
        pieces, m2 = real_pieces(fitted.intersection(shape), tol, hint)
        if pieces:
            clashes.append(f"{other}（{area_text(m2)}）")
        else:
            fitted = fitted.difference(shape)
    if clashes:
        raise MicroGridRefused(f"微网格 {code} 与同一网格内的微网格重叠：{names(clashes)}")
    out = _as_multi(shapely.make_valid(fitted))
    if out.is_empty or not real_pieces(out, tol, hint)[0]:
        raise MicroGridRefused(
            f"微网格 {code} 的范围为空或只是碎片：请在网格 {parent_code} 内重新绘制"
        )
    return out


def audit_micro_grids(
    grids: gpd.GeoDataFrame,
    micro_grids: gpd.GeoDataFrame,
    *,
    households: gpd.GeoDataFrame | None = None,
    tolerances: CoverageTolerances = CoverageTolerances(),
) -> gpd.GeoDataFrame:
    """Findings about micro-grids, in the columns of gis.coverage's findings.

    ``grids``: ``code`` and ``geometry`` (the active grids); ``micro_grids``: ``code``,
    ``grid_code`` and ``geometry``; ``households``: point ``geometry`` (``id`` optional). Kinds:

    - ``micro_outside_grid`` (error): a real piece outside its parent, or the parent is not an
      active grid;
    - ``micro_overlap`` (error): two micro-grids sharing more than a sliver;
    - ``micro_gap`` (warning): a real piece of a grid that has micro-grids covered by none;
    - ``household_no_micro`` (warning): a household of such a grid in no micro-grid;
    - ``micro_band`` (warning): a micro-grid's households outside ``tolerances.micro_band``.

    >>> from shapely.geometry import box
    >>> g = gpd.GeoDataFrame({"code": ["419901001001001"]},
    ...                      geometry=[box(113.0, 34.0, 113.002, 34.001)], crs=4490)
    >>> m = gpd.GeoDataFrame({"code": ["41990100100100101"], "grid_code": ["419901001001001"]},
    ...                      geometry=[box(113.0, 34.0, 113.001, 34.001)], crs=4490)
    >>> audit_micro_grids(g, m)[["kind", "objects"]].to_dict("records")
    [{'kind': 'micro_gap', 'objects': ['419901001001001', '41990100100100101']}]
    """
    crs = pyproj.CRS.from_user_input(grids.crs or micro_grids.crs or 4490)
    return find_micro_grids(grids, micro_grids, households, tolerances, crs).frame(crs)


def find_micro_grids(
    grids: gpd.GeoDataFrame,
    micro_grids: gpd.GeoDataFrame,
    households: gpd.GeoDataFrame | None,
    tol: CoverageTolerances,
    crs: pyproj.CRS,
) -> Findings:
    """The findings of :func:`audit_micro_grids`, for gis.coverage.audit_coverage to gather."""
    out = Findings(crs)
    micro = micro_grids.sort_values("code", kind="stable").reset_index(drop=True)
    if not len(micro):
        return out
    parents = {str(c): g for c, g in zip(grids["code"], grids.geometry, strict=True)}
    m_codes = [str(c) for c in micro["code"]]
    m_parent = [str(c) for c in micro["grid_code"]]
    m_geoms = list(micro.geometry)

    for code, parent_code, geom in zip(m_codes, m_parent, m_geoms, strict=True):
        parent = parents.get(parent_code)
        if parent is None or parent.is_empty:
            message = f"微网格 {code} 的所属网格 {parent_code} 不是在用网格"
            out.add("micro_outside_grid", "error", [code, parent_code], geom, np.nan, message)
            continue
        pieces, m2 = real_pieces(geom.difference(parent), tol)
        if pieces:
            message = f"微网格 {code} 超出所属网格 {parent_code} 边界 {area_text(m2)}"
            where = MultiPolygon(pieces)
            out.add("micro_outside_grid", "error", [code, parent_code], where, m2, message)

    tree = shapely.STRtree(np.array(m_geoms, dtype=object))
    left, right = tree.query(np.array(m_geoms, dtype=object), predicate="intersects")
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        if a >= b:
            continue
        pieces, m2 = real_pieces(m_geoms[a].intersection(m_geoms[b]), tol)
        if pieces:
            message = f"微网格 {m_codes[a]} 与 {m_codes[b]} 重叠 {area_text(m2)}"
            out.add(
                "micro_overlap",
                "error",
                [m_codes[a], m_codes[b]],
                MultiPolygon(pieces),
                m2,
                message,
            )

    by_parent: dict[str, list[int]] = {}
    for i, parent_code in enumerate(m_parent):
        by_parent.setdefault(parent_code, []).append(i)
    for parent_code, members in sorted(by_parent.items()):
        parent = parents.get(parent_code)
        if parent is None or parent.is_empty:
            continue
        covered = shapely.union_all([m_geoms[i] for i in members])
        for piece in real_pieces(parent.difference(covered), tol)[0]:
            m2 = float(geometry_to_metric(piece).area)
            near = [m_codes[i] for i in members if m_geoms[i].distance(piece) < 1e-7]
            message = f"网格 {parent_code} 内有 {area_text(m2)}未被任何微网格覆盖" + (
                f"（相邻微网格：{names(near)}）" if near else ""
            )
            out.add("micro_gap", "warning", [parent_code, *near], piece, m2, message)

    counts = np.zeros(len(m_codes), dtype=np.int64)
    if households is not None and len(households):
        pts = households.geometry
        x, y = np.asarray(pts.x, dtype=float), np.asarray(pts.y, dtype=float)
        ids = (
            [str(i) for i in households["id"]]
            if "id" in households
            else [str(i) for i in range(len(households))]
        )
        owner = assign_points(m_geoms, x, y)
        counts = np.bincount(owner[owner >= 0], minlength=len(m_codes))
        order = sorted(parents)
        in_grid = assign_points([parents[c] for c in order], x, y)
        for k in np.flatnonzero((owner < 0) & (in_grid >= 0)).tolist():
            grid_code = order[int(in_grid[k])]
            if grid_code not in by_parent:
                continue
            message = f"住户 {ids[k]} 位于网格 {grid_code}，但不在任何微网格内"
            point = shapely.Point(x[k], y[k])
            out.add("household_no_micro", "warning", [ids[k], grid_code], point, np.nan, message)
    if households is None:
        return out
    low, high = tol.micro_band
    for i, code in enumerate(m_codes):
        n = int(counts[i])
        if n < low or n > high:
            side = "少于" if n < low else "多于"
            message = f"微网格 {code} 有 {n} 户，{side}规定的 {low}–{high} 户"
            out.add("micro_band", "warning", [code], m_geoms[i], np.nan, message)
    return out


def households_per_micro_grid(
    micro_geoms: list[BaseGeometry], x: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """Households per micro-grid (given in code order), each counted once by the edge rule."""
    owner = assign_points(micro_geoms, x, y)
    return np.bincount(owner[owner >= 0], minlength=len(micro_geoms))
