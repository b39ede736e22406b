"""Faces: the smallest pieces of land every grid is made of, as one exactly noded planar subdivision.

All boundaries that may ever separate two grids (the area's outline, dedicated polygons, barrier lines,
footprints, and the Voronoi edges between different buildings) are noded together once and
polygonized. Every face then shares bit-identical edges with its neighbours, so any union of faces is
an exact tiling: no gaps, no overlaps, no slivers, by construction rather than by tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from ._inputs import Buildings, Frame

# Footprints are sampled along their outline so that the Voronoi cells of one building hug it
# (a single point per footprint lets a neighbour's cell bite into a long slab block).
_SAMPLE_SPACING_M = 10.0
_SAMPLES_PER_FOOTPRINT = 24
_SMALL_FOOTPRINT_M = 60.0  # perimeter below which the centre alone is the footprint's Voronoi site
# A face edge lies "on" a barrier when its midpoint is within this many degrees (~1 mm) of one.
_ON_BARRIER_DEG = 1e-8

NO_LABEL = -1


@dataclass
class Faces:
    """A planar subdivision of the work area with labels and adjacency.

    ``building[i]`` is the building row whose Voronoi region or footprint holds face ``i`` (or -1),
    ``dedicated[i]`` the dedicated polygon holding it (or -1; it then belongs to no building).
    Adjacency pairs ``a < b`` carry the shared length and the part of it on barriers, in metres.
    """

    geoms: np.ndarray
    area: np.ndarray
    centroid: np.ndarray
    building: np.ndarray
    dedicated: np.ndarray
    footprint: np.ndarray
    adj_a: np.ndarray
    adj_b: np.ndarray
    adj_len: np.ndarray
    adj_barrier: np.ndarray

    def __len__(self) -> int:
        return len(self.geoms)


def build_faces(
    area: BaseGeometry,
    frame: Frame,
    bld: Buildings,
    bld_dedicated: np.ndarray,
    dedicated: np.ndarray,
    barriers: np.ndarray,
) -> Faces:
    """Subdivide ``area`` (lon/lat) along everything a grid boundary may follow; label the faces."""
    sites_m, site_label = _voronoi_sites(bld, bld_dedicated, frame)
    lines = [shapely.boundary(area)]
    lines += list(shapely.boundary(dedicated))
    lines += list(shapely.boundary(bld.geoms[~bld.is_point]))
    minx, miny, maxx, maxy = area.bounds
    pad = 0.001 * max(maxx - minx, maxy - miny, 1e-6)
    box = (minx - pad, miny - pad, maxx + pad, maxy + pad)
    if len(barriers):
        lines += list(shapely.clip_by_rect(barriers, *box))
    lines.append(_voronoi_edges(sites_m, site_label, frame, area, box))
    noded = shapely.union_all(np.asarray([g for g in lines if g is not None and not g.is_empty]))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    rep = shapely.point_on_surface(faces)
    shapely.prepare(area)
    faces = faces[shapely.contains(area, rep)]
    rep = shapely.point_on_surface(faces)

    building, footprint, ded = _labels(
        faces, rep, bld, bld_dedicated, dedicated, sites_m, site_label, frame
    )
    faces_m = frame.to_m(faces)
    a, b, length, on_barrier = _adjacency(faces, frame, barriers)
    return Faces(
        geoms=faces,
        area=shapely.area(faces_m),
        centroid=shapely.get_coordinates(shapely.centroid(faces_m)),
        building=building,
        dedicated=ded,
        footprint=footprint,
        adj_a=a,
        adj_b=b,
        adj_len=length,
        adj_barrier=on_barrier,
    )


def _voronoi_sites(
    bld: Buildings, bld_dedicated: np.ndarray, frame: Frame
) -> tuple[np.ndarray, np.ndarray]:
    """Metric sample points of every building not inside a dedicated grid, with their building row."""
    rows = np.flatnonzero(bld_dedicated < 0)
    geoms_m = frame.to_m(bld.geoms[rows])
    is_point = bld.is_point[rows]
    coords = [shapely.get_coordinates(geoms_m[is_point])]
    labels = [rows[is_point]]
    fps = geoms_m[~is_point]
    if len(fps):
        fp_rows = rows[~is_point]
        coords.append(shapely.get_coordinates(shapely.point_on_surface(fps)))
        labels.append(fp_rows)
        # A house-sized footprint is well served by its centre; only larger ones need an outline.
        large = shapely.length(fps) > _SMALL_FOOTPRINT_M
        spacing = np.maximum(_SAMPLE_SPACING_M, shapely.length(fps[large]) / _SAMPLES_PER_FOOTPRINT)
        outline = shapely.boundary(shapely.segmentize(fps[large], spacing))
        xy, idx = shapely.get_coordinates(outline, return_index=True)
        coords.append(xy)
        labels.append(fp_rows[large][idx])
    xy = np.concatenate(coords) if coords else np.empty((0, 2))
    lab = np.concatenate(labels) if labels else np.empty(0, dtype=int)
    # Voronoi merges coincident sites silently and would break the cell order: drop them first.
    _, first = np.unique(np.round(xy, 3).view(np.complex128).ravel(), return_index=True)
    first.sort()
    return xy[first], lab[first].astype(np.int64)


def _voronoi_edges(
    sites_m: np.ndarray,
    site_label: np.ndarray,
    frame: Frame,
    area: BaseGeometry,
    box: tuple[float, float, float, float],
) -> BaseGeometry:
    """Voronoi edges that separate two *different* buildings, as lon/lat lines."""
    if len(np.unique(site_label)) < 2:
        return shapely.MultiLineString()
    minx, miny, maxx, maxy = shapely.bounds(frame.to_m(np.asarray([area])))[0]
    pad = max(maxx - minx, maxy - miny) + 100.0
    extent = shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(sites_m), extend_to=extent, ordered=True)
    )
    xy, ring = shapely.get_coordinates(shapely.get_exterior_ring(cells), return_index=True)
    # Near-cocircular sites (regular layouts, rectangular footprints) give circumcentres that differ
    # in the last bits from cell to cell; on a 0.1 mm lattice the two copies of an edge coincide.
    xy = np.round(xy, 4)
    same = (ring[:-1] == ring[1:]) & np.any(xy[:-1] != xy[1:], axis=1)
    seg = np.hstack([xy[:-1][same], xy[1:][same]])
    lab = site_label[ring[:-1][same]]
    seg = _canonical(seg)
    # A shared Voronoi edge appears once in each of its two cells with identical vertices.
    _, inv = np.unique(_rows(seg), return_inverse=True)
    inv = inv.ravel()
    lo = np.full(inv.max() + 1, np.iinfo(np.int64).max)
    hi = np.full(inv.max() + 1, -1)
    np.minimum.at(lo, inv, lab)
    np.maximum.at(hi, inv, lab)
    keep_group = lo != hi
    _, first = np.unique(inv, return_index=True)
    seg = seg[first[keep_group]]
    a = frame.xy_to_ll(seg[:, :2])
    b = frame.xy_to_ll(seg[:, 2:])
    inside = (np.maximum(a[:, 0], b[:, 0]) >= box[0]) & (np.minimum(a[:, 0], b[:, 0]) <= box[2])
    inside &= (np.maximum(a[:, 1], b[:, 1]) >= box[1]) & (np.minimum(a[:, 1], b[:, 1]) <= box[3])
    lines = shapely.linestrings(np.stack([a[inside], b[inside]], axis=1))
    return shapely.multilinestrings(lines)


def _rows(a: np.ndarray) -> np.ndarray:
    """Each row as one opaque value, so np.unique compares rows without a multi-key sort."""
    a = np.ascontiguousarray(a + 0.0)  # + 0.0 turns -0.0 into 0.0: equal floats, equal bytes
    return a.view(np.dtype((np.void, a.dtype.itemsize * a.shape[1]))).ravel()


def _canonical(seg: np.ndarray) -> np.ndarray:
    """Order each segment's endpoints so that both traversal directions give the same row."""
    swap = (seg[:, 0] > seg[:, 2]) | ((seg[:, 0] == seg[:, 2]) & (seg[:, 1] > seg[:, 3]))
    out = seg.copy()
    out[swap] = seg[swap][:, [2, 3, 0, 1]]
    return out


def _labels(
    faces: np.ndarray,
    rep: np.ndarray,
    bld: Buildings,
    bld_dedicated: np.ndarray,
    dedicated: np.ndarray,
    sites_m: np.ndarray,
    site_label: np.ndarray,
    frame: Frame,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(faces)
    building = np.full(n, NO_LABEL, dtype=np.int64)
    ded = np.full(n, NO_LABEL, dtype=np.int64)
    if len(sites_m):
        rep_m = frame.xy_to_m(shapely.get_coordinates(rep))
        tree = shapely.STRtree(shapely.points(sites_m))
        fi, si = tree.query_nearest(shapely.points(rep_m))
        first = np.unique(fi, return_index=True)[1]
        building[fi[first]] = site_label[si[first]]
    if len(dedicated):
        fi, di = shapely.STRtree(dedicated).query(rep, predicate="within")
        ded[fi] = di
        building[fi] = NO_LABEL
    footprint = np.zeros(n, dtype=bool)
    fp_rows = np.flatnonzero(~bld.is_point)
    if len(fp_rows):
        fi, bi = shapely.STRtree(bld.geoms[fp_rows]).query(rep, predicate="within")
        order = np.lexsort((bi, fi))
        first = np.unique(fi[order], return_index=True)[1]  # overlapping footprints: first row wins
        fi, rows = fi[order][first], fp_rows[bi[order][first]]
        owner_ded = bld_dedicated[rows]
        building[fi] = np.where(owner_ded < 0, rows, NO_LABEL)
        ded[fi] = owner_ded
        footprint[fi] = owner_ded < 0
    return building, footprint, ded


def _adjacency(faces: np.ndarray, frame: Frame, barriers: np.ndarray) -> tuple[np.ndarray, ...]:
    """Face pairs sharing an edge, with the shared length and the part on barriers (metres)."""
    rings, face_of_ring = shapely.get_rings(faces, return_index=True)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[:-1] == ring[1:]
    seg = _canonical(np.hstack([xy[:-1][same], xy[1:][same]]))
    face = face_of_ring[ring[:-1][same]]
    _, first, inv, count = np.unique(
        _rows(seg), return_index=True, return_inverse=True, return_counts=True
    )
    uniq = seg[first]
    inv = inv.ravel()
    order = np.argsort(inv, kind="stable")
    starts = np.searchsorted(inv[order], np.flatnonzero(count == 2))
    fa = face[order[starts]]
    fb = face[order[starts + 1]]
    shared = uniq[count == 2]
    length = np.hypot(*(frame.xy_to_m(shared[:, :2]) - frame.xy_to_m(shared[:, 2:])).T)
    on_barrier = np.zeros(len(shared), dtype=bool)
    if len(barriers) and len(shared):
        mid = shapely.points((shared[:, :2] + shared[:, 2:]) / 2)
        tree = shapely.STRtree(barriers)
        hit, _ = tree.query(mid, predicate="dwithin", distance=_ON_BARRIER_DEG)
        on_barrier[hit] = True
    a = np.minimum(fa, fb)
    b = np.maximum(fa, fb)
    keep = a != b
    a, b, length, on_barrier = a[keep], b[keep], length[keep], on_barrier[keep]
    # Several segments may separate the same two faces: sum them per pair.
    pair, pinv = np.unique(np.column_stack([a, b]), axis=0, return_inverse=True)
    pinv = pinv.ravel()
    total = np.bincount(pinv, weights=length, minlength=len(pair))
    barrier = np.bincount(pinv, weights=length * on_barrier, minlength=len(pair))
    if len(pair) == 0:
        return np.empty(0, int), np.empty(0, int), np.empty(0), np.empty(0)
    return pair[:, 0], pair[:, 1], total, barrier
