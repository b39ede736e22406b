"""Point-in-polygon lookup for a polygon coverage, fast enough for single points and for millions.

A uniform raster over the coverage's extent classifies every cell once: *interior* (wholly inside one
polygon: the answer needs no geometry test), *empty* (inside none), or *boundary* (a polygon edge passes
through it: the few candidate polygons are tested exactly with prepared geometries). Most points land
in interior cells, so a lookup is an array read; the rest cost one ``intersects_xy`` per candidate.
The same idea as mapit's subdivided polygons, done in memory.

Distances (nearest polygon, distance to the edge) are computed in the CGCS2000 Gauss-Krüger zone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyproj
import shapely
from affine import Affine
from rasterio.features import rasterize
from shapely.geometry.base import BaseGeometry

from gis.projection import STORAGE_EPSG, gk_crs_for

_EMPTY, _INTERIOR, _BOUNDARY = 0, 1, 2
# Work is cut into pieces of about this size so that building an index in a background thread
# never holds the interpreter for long: the process keeps answering while it builds.
_STRIP_ROWS = 64
_CHUNK_CELLS = 2_000
_CHUNK_POLYGONS = 64
# Points per block when measuring edge distances (each point pairs with its polygon's segments).
_CHUNK_PAIRS_POINTS = 50_000


class PolygonIndex:
    """An index answering "which polygon contains this point?" for lon/lat polygons.

    Parameters
    ----------
    polygons : sequence of shapely (Multi)Polygons in EPSG:4490 / 4326 lon/lat
        Ideally a coverage (no overlaps). Where polygons do overlap, the lowest index wins.
    cells_per_polygon : int, default 256
        Raster resolution; more cells mean fewer exact tests and more memory (4 bytes a cell).
    edge_distance_m : float, default 20
        Points closer than this to their polygon's edge are reported by :meth:`edge_distance_m`
        with an exact distance; farther points are known to be farther without computing it.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> idx = PolygonIndex([box(113.0, 34.0, 113.01, 34.01), box(113.01, 34.0, 113.02, 34.01)])
    >>> idx.locate_one(113.015, 34.005)
    1
    >>> idx.locate(np.array([113.005, 113.5]), np.array([34.005, 34.005])).tolist()
    [0, -1]
    """

    def __init__(
        self,
        polygons: Sequence[BaseGeometry],
        *,
        cells_per_polygon: int = 256,
        edge_distance_m: float = 20.0,
    ) -> None:
        self.geoms = np.asarray(list(polygons), dtype=object)
        self.n = len(self.geoms)
        if self.n == 0:
            raise ValueError("PolygonIndex needs at least one polygon")
        if not all(shapely.is_valid(self.geoms)):
            bad = int(np.flatnonzero(~shapely.is_valid(self.geoms))[0])
            raise ValueError(
                f"polygon {bad} is invalid: {shapely.is_valid_reason(self.geoms[bad])}"
            )
        shapely.prepare(self.geoms)
        self._tree = shapely.STRtree(self.geoms)
        self._setup_raster(cells_per_polygon)
        self._setup_metric(edge_distance_m)

    # ----------------------------------------------------------------- construction
    def _setup_raster(self, cells_per_polygon: int) -> None:
        minx, miny, maxx, maxy = shapely.total_bounds(self.geoms)
        width, height = max(maxx - minx, 1e-9), max(maxy - miny, 1e-9)
        cells = int(min(max(cells_per_polygon * self.n, 4096), 4_000_000))
        self.dx = self.dy = float(np.sqrt(width * height / cells))
        self.nx = max(1, int(np.ceil(width / self.dx)))
        self.ny = max(1, int(np.ceil(height / self.dy)))
        self.minx, self.miny, self.maxx, self.maxy = minx, miny, maxx, maxy

        boundary = self._boundary_mask()
        state = np.full(self.nx * self.ny, _EMPTY, dtype=np.int8)
        owner = np.full(self.nx * self.ny, -1, dtype=np.int32)
        state[boundary.ravel()] = _BOUNDARY

        # Cells no edge passes through lie wholly inside one polygon or wholly outside all: the
        # cell centre decides which. GDAL's rasterizer burns centres in C (lowest index burnt last,
        # so it wins where polygons overlap); raster rows run north to south, ours south to north.
        centre_owner = self._rasterize_centres()
        interior = ~boundary.ravel() & (centre_owner > 0)
        state[interior] = _INTERIOR
        owner[interior] = centre_owner[interior] - 1

        # Boundary cells keep a short list of candidate polygons (CSR layout).
        bcells = np.flatnonzero(boundary.ravel())
        bx = self.minx + (bcells % self.nx) * self.dx
        by = self.miny + (bcells // self.nx) * self.dy
        cell_i, cand = self._candidates_of_cells(bx, by)
        counts = np.bincount(cell_i, minlength=len(bcells))
        self._cand_ptr = np.zeros(len(bcells) + 1, dtype=np.int64)
        np.cumsum(counts, out=self._cand_ptr[1:])
        self._cand = cand.astype(np.int32)
        slot = np.full(self.nx * self.ny, -1, dtype=np.int64)
        slot[bcells] = np.arange(len(bcells))
        self._slot = slot
        self._state = state
        self._owner = owner
        self._cand_list: dict[int, tuple[int, ...]] = {}

    def _rasterize_centres(self) -> np.ndarray:
        """Owner + 1 of each cell centre (0: none), south row first, rasterized in strips so no
        single call holds the interpreter long (the index is rebuilt beside a serving process)."""
        top = self.miny + self.ny * self.dy
        strips = []
        for r0 in range(0, self.ny, _STRIP_ROWS):  # north to south, as GDAL writes rows
            rows = min(_STRIP_ROWS, self.ny - r0)
            strip_top = top - r0 * self.dy
            band = shapely.box(self.minx, strip_top - rows * self.dy, self.maxx, strip_top)
            inside = np.sort(self._tree.query(band, predicate="intersects"))
            if len(inside) == 0:
                strips.append(np.zeros((rows, self.nx), dtype=np.int32))
                continue
            strips.append(
                rasterize(
                    ((self.geoms[i], int(i) + 1) for i in inside[::-1]),
                    out_shape=(rows, self.nx),
                    # North-up: x = minx + col·dx, y = strip top − row·dy.
                    transform=Affine(self.dx, 0.0, self.minx, 0.0, -self.dy, strip_top),
                    fill=0,
                    all_touched=False,
                    dtype="int32",
                )
            )
        return np.concatenate(strips)[::-1].ravel()

    def _candidates_of_cells(self, bx: np.ndarray, by: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(cell, polygon) pairs for the boundary cells at ``bx``/``by``, sorted by cell then
        polygon; in chunks, for the same reason as the strips above."""
        cells, cands = [], []
        for lo in range(0, len(bx), _CHUNK_CELLS):
            x, y = bx[lo : lo + _CHUNK_CELLS], by[lo : lo + _CHUNK_CELLS]
            boxes = shapely.box(x, y, x + self.dx, y + self.dy)
            cell_i, cand = self._tree.query(boxes, predicate="intersects")
            order = np.lexsort((cand, cell_i))
            cells.append(cell_i[order] + lo)
            cands.append(cand[order])
        if not cells:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(cells), np.concatenate(cands)

    def _boundary_mask(self) -> np.ndarray:
        """Cells touched by any polygon edge."""
        return _edge_supercover(
            self.geoms, self.minx, self.miny, self.dx, self.dy, self.nx, self.ny
        )

    def _setup_metric(self, edge_distance_m: float) -> None:
        cx = (self.minx + self.maxx) / 2
        self.metric_crs = gk_crs_for(cx)
        epsg = self.metric_crs.to_epsg()
        assert epsg is not None
        self._to_metric = pyproj.Transformer.from_crs(STORAGE_EPSG, epsg, always_xy=True)
        t = self._to_metric

        def project(xy: np.ndarray) -> np.ndarray:
            x, y = t.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        self.metric_geoms = shapely.transform(self.geoms, project)
        self._metric_edges = shapely.boundary(self.metric_geoms)
        shapely.prepare(self._metric_edges)
        self._metric_tree = shapely.STRtree(self.metric_geoms)
        self.edge_distance_threshold_m = edge_distance_m
        self._setup_near_mask(edge_distance_m)
        self._frames = _LocalFrames(self.geoms, self._to_metric)

    def _setup_near_mask(self, edge_distance_m: float) -> None:
        """A second, finer raster marking every cell within ``edge_distance_m`` of an edge, so most
        points are known to be far from their grid's edge without measuring.

        Cells are about a third of the distance (at most 16M cells). The edges' supercover is
        dilated by enough rings to cover the distance, plus one for safety.
        """
        t = self._to_metric
        x0, y0 = t.transform(self.minx, self.miny)
        x1, y1 = t.transform(self.maxx, self.maxy)
        width_m, height_m = max(abs(x1 - x0), 1.0), max(abs(y1 - y0), 1.0)
        res_m = max(edge_distance_m / 3, float(np.sqrt(width_m * height_m / 16e6)), 1.0)
        self._fnx = max(1, int(np.ceil(width_m / res_m)))
        self._fny = max(1, int(np.ceil(height_m / res_m)))
        self._fdx = max(self.maxx - self.minx, 1e-9) / self._fnx
        self._fdy = max(self.maxy - self.miny, 1e-9) / self._fny
        burnt = _edge_supercover(
            self.geoms, self.minx, self.miny, self._fdx, self._fdy, self._fnx, self._fny
        )
        rings = int(np.ceil(edge_distance_m / res_m)) + 1
        self._near_edge = _dilate(burnt, rings).ravel()

    def _fine_cells(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        inside = (x >= self.minx) & (x <= self.maxx) & (y >= self.miny) & (y <= self.maxy)
        ix = np.minimum(((x - self.minx) / self._fdx).astype(np.int64), self._fnx - 1)
        iy = np.minimum(((y - self.miny) / self._fdy).astype(np.int64), self._fny - 1)
        return np.where(inside, iy * self._fnx + ix, -1)

    # ----------------------------------------------------------------- queries
    def _cells(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        inside = (x >= self.minx) & (x <= self.maxx) & (y >= self.miny) & (y <= self.maxy)
        ix = np.minimum(((x - self.minx) / self.dx).astype(np.int64), self.nx - 1)
        iy = np.minimum(((y - self.miny) / self.dy).astype(np.int64), self.ny - 1)
        return np.where(inside, iy * self.nx + ix, -1)

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Polygon index for each point (-1 where none). Vectorised; points on a shared edge go to
        the lowest index."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        cells = self._cells(x, y)
        result = np.full(len(x), -1, dtype=np.int32)
        valid = cells >= 0
        vc = cells[valid]
        result[valid] = np.where(self._state[vc] == _INTERIOR, self._owner[vc], -1)

        todo = np.flatnonzero(valid)[self._state[vc] == _BOUNDARY]
        if len(todo):
            slots = self._slot[cells[todo]]
            starts, ends = self._cand_ptr[slots], self._cand_ptr[slots + 1]
            counts = ends - starts
            point_of_pair = np.repeat(todo, counts)
            offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            cand = self._cand[np.repeat(starts, counts) + offsets]
            hit = shapely.intersects_xy(self.geoms[cand], x[point_of_pair], y[point_of_pair])
            pts, polys = point_of_pair[hit], cand[hit]
            # Pairs are sorted by candidate within each point, so the first hit is the lowest index.
            first_pts, first_polys = first_per_point(pts, polys)
            result[first_pts] = first_polys
        return result

    def locate_one(self, x: float, y: float) -> int:
        """Polygon index containing one point, or -1. About a microsecond for interior cells."""
        if not (self.minx <= x <= self.maxx and self.miny <= y <= self.maxy):
            return -1
        cell = min(int((y - self.miny) / self.dy), self.ny - 1) * self.nx + min(
            int((x - self.minx) / self.dx), self.nx - 1
        )
        state = self._state[cell]
        if state == _INTERIOR:
            return int(self._owner[cell])
        if state == _EMPTY:
            return -1
        for cand in self._candidates(cell):
            if shapely.intersects_xy(self.geoms[cand], x, y):
                return cand
        return -1

    def _candidates(self, cell: int) -> tuple[int, ...]:
        cached = self._cand_list.get(cell)
        if cached is None:
            slot = self._slot[cell]
            cached = tuple(
                int(c) for c in self._cand[self._cand_ptr[slot] : self._cand_ptr[slot + 1]]
            )
            self._cand_list[cell] = cached
        return cached

    def is_near_edge_cell(self, x: float, y: float) -> bool:
        """Cheap pre-test: False means certainly farther than ``edge_distance_m`` from any edge."""
        if not (self.minx <= x <= self.maxx and self.miny <= y <= self.maxy):
            return True
        cell = min(int((y - self.miny) / self._fdy), self._fny - 1) * self._fnx + min(
            int((x - self.minx) / self._fdx), self._fnx - 1
        )
        return bool(self._near_edge[cell])

    def edge_distance_m(self, index: int, x: float, y: float) -> float:
        """Distance in metres from a point to polygon ``index``'s boundary.

        Uses the polygon's Gauss-Krüger projection linearised at its centre (see ``_LocalFrames``):
        within a grid-sized polygon the error is centimetres, and it costs a few microseconds.
        """
        return self._frames.distance(index, x, y)

    def edge_distances_m(self, index: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`edge_distance_m`; NaN where ``index`` is -1. Only points in cells near
        an edge are measured; the rest get +inf (known to be beyond ``edge_distance_m``)."""
        out = np.full(len(x), np.inf)
        out[index < 0] = np.nan
        cells = self._fine_cells(np.asarray(x, float), np.asarray(y, float))
        near = (index >= 0) & (cells >= 0)
        near[near] = self._near_edge[cells[near]]
        if near.any():
            out[near] = self._frames.distances(index[near], x[near], y[near])
        return out

    def nearest_many(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised :meth:`nearest`: polygon index and distance in metres for each point."""
        if len(x) == 0:
            return np.empty(0, np.int32), np.empty(0)
        mx, my = self._to_metric.transform(np.asarray(x, float), np.asarray(y, float))
        (pt, poly), dist = self._metric_tree.query_nearest(
            shapely.points(mx, my), return_distance=True, all_matches=False
        )
        idx = np.full(len(x), -1, dtype=np.int32)
        d = np.full(len(x), np.nan)
        idx[pt] = poly
        d[pt] = dist
        return idx, d

    def nearest(self, x: float, y: float) -> tuple[int, float]:
        """The nearest polygon to a point outside them all, and the distance in metres."""
        mx, my = self._to_metric.transform(x, y)
        idx, dist = self._metric_tree.query_nearest(shapely.Point(mx, my), return_distance=True)
        return int(idx[0]), float(dist[0])


class _LocalFrames:
    """Every polygon's edges in metres, each in its Gauss-Krüger projection linearised at its centre,
    built for all polygons at once and stored as flat segment arrays (CSR by polygon).

    The Jacobian of lon/lat → GK at a polygon's centre maps nearby points with an error of order
    offset² · tan(lat) / earth radius (mostly the meridians converging): about 1e-4 of the offset
    within a 1 km grid, i.e. a few centimetres; harmless for a 20 m "near the edge" flag.
    """

    def __init__(self, geoms: np.ndarray, to_metric: pyproj.Transformer) -> None:
        centres = shapely.get_coordinates(shapely.centroid(geoms))
        self.lon0, self.lat0 = centres[:, 0], centres[:, 1]
        h = 1e-4
        x0, y0 = to_metric.transform(self.lon0, self.lat0)
        xe, ye = to_metric.transform(self.lon0 + h, self.lat0)
        xn, yn = to_metric.transform(self.lon0, self.lat0 + h)
        # Per polygon: [[dX/dlon, dX/dlat], [dY/dlon, dY/dlat]]
        self.j = np.stack(
            [
                np.stack([(xe - x0) / h, (xn - x0) / h], -1),
                np.stack([(ye - y0) / h, (yn - y0) / h], -1),
            ],
            axis=1,
        )
        parts, part_poly = shapely.get_parts(geoms, return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
        poly = part_poly[ring_part[coord_ring]]
        local = np.einsum("nij,nj->ni", self.j[poly], coords - centres[poly])
        same = coord_ring[1:] == coord_ring[:-1]  # a segment joins two vertices of one ring
        a, b, seg_poly = local[:-1][same], local[1:][same], poly[:-1][same]
        self.ax, self.ay = a[:, 0], a[:, 1]
        self.dx, self.dy = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
        self.len2 = np.maximum(self.dx**2 + self.dy**2, 1e-18)
        self.ptr = np.zeros(len(geoms) + 1, dtype=np.int64)
        np.cumsum(np.bincount(seg_poly, minlength=len(geoms)), out=self.ptr[1:])

    def distances(self, index: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`distance`: point k to polygon ``index[k]``'s edges, in metres.

        Every (point, segment of its polygon) pair is measured at once, then the least per point;
        pairs are processed in blocks so memory stays bounded for millions of points.
        """
        out = np.empty(len(index))
        for lo in range(0, len(index), _CHUNK_PAIRS_POINTS):
            hi = lo + _CHUNK_PAIRS_POINTS
            out[lo:hi] = self._distances(index[lo:hi], lon[lo:hi], lat[lo:hi])
        return out

    def _distances(self, index: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        u, v = lon - self.lon0[index], lat - self.lat0[index]
        j = self.j[index]
        px = j[:, 0, 0] * u + j[:, 0, 1] * v
        py = j[:, 1, 0] * u + j[:, 1, 1] * v
        starts, ends = self.ptr[index], self.ptr[index + 1]
        counts = ends - starts
        point = np.repeat(np.arange(len(index)), counts)
        seg = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        ax, ay, dx, dy = self.ax[seg], self.ay[seg], self.dx[seg], self.dy[seg]
        qx, qy = px[point], py[point]
        t = np.clip(((qx - ax) * dx + (qy - ay) * dy) / self.len2[seg], 0.0, 1.0)
        d2 = (ax + t * dx - qx) ** 2 + (ay + t * dy - qy) ** 2
        first = np.cumsum(counts) - counts
        return np.sqrt(np.minimum.reduceat(d2, first)) if len(d2) else np.full(len(index), np.inf)

    def distance(self, i: int, lon: float, lat: float) -> float:
        lo, hi = self.ptr[i], self.ptr[i + 1]
        ax, ay, dx, dy = self.ax[lo:hi], self.ay[lo:hi], self.dx[lo:hi], self.dy[lo:hi]
        j = self.j[i]
        u, v = lon - self.lon0[i], lat - self.lat0[i]
        px, py = j[0, 0] * u + j[0, 1] * v, j[1, 0] * u + j[1, 1] * v
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / self.len2[lo:hi], 0.0, 1.0)
        return float(np.sqrt(np.min((ax + t * dx - px) ** 2 + (ay + t * dy - py) ** 2)))


def assign_points(
    polygons: Sequence[BaseGeometry] | np.ndarray, x: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """Index of the polygon owning each point (-1 where none), by :func:`first_per_point`.

    The exact answer :meth:`PolygonIndex.locate` gives, without building an index: for a handful
    of draft grids (the planner) or one audit run. ``polygons`` may hold invalid or empty
    geometries (an audit reports them); they own only the points GEOS finds in them.

    >>> from shapely.geometry import box
    >>> assign_points([box(1, 0, 2, 1), box(0, 0, 1, 1)], np.array([1.0, 0.5, 5]), np.zeros(3) + 0.5).tolist()
    [0, 1, -1]
    """
    geoms = np.asarray(list(polygons), dtype=object)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    result = np.full(len(x), -1, dtype=np.int64)
    if len(geoms) == 0 or len(x) == 0:
        return result
    tree = shapely.STRtree(geoms)
    pts, polys = tree.query(shapely.points(x, y))
    hit = shapely.intersects_xy(geoms[polys], x[pts], y[pts])
    owner_pts, owner_polys = first_per_point(pts[hit], polys[hit])
    result[owner_pts] = owner_polys
    return result


def first_per_point(pts: np.ndarray, polys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The edge rule, once: of the polygons a point lies in or on, the lowest index owns it.

    ``pts``/``polys`` are (point, polygon) pairs from any exact "intersects" test (shapely's
    ``intersects_xy`` or PostGIS ``ST_Intersects``), in any order; the answer keeps one pair per
    point. Grids are indexed in code order (the locate registry loads them ``ORDER BY code``), so
    a household on a shared edge or corner belongs to the grid with the smallest code: routing,
    the coverage map, the planner and the audit all count it there and nowhere else.

    >>> first_per_point(np.array([0, 0, 1]), np.array([3, 1, 2]))
    (array([0, 1]), array([1, 2], dtype=int32))
    """
    if len(pts) == 0:
        return pts.astype(np.int64), polys.astype(np.int32)
    order = np.lexsort((polys, pts))
    pts, polys = pts[order], polys[order]
    keep = np.ones(len(pts), dtype=bool)
    keep[1:] = pts[1:] != pts[:-1]
    return pts[keep], polys[keep].astype(np.int32)


def _edge_supercover(
    geoms: np.ndarray, minx: float, miny: float, dx: float, dy: float, nx: int, ny: int
) -> np.ndarray:
    """Raster cells (ny × nx, south row first) touched by any polygon edge.

    Edges are sampled at a step below the cell size, so consecutive samples lie in the same or
    adjacent cells. Where two samples step diagonally, the edge may clip either corner cell between
    them, so both are marked too: every cell an edge passes through is marked. (GDAL's line
    rasterizer, even with all_touched, can skip such corner cells.)
    """
    mask = np.zeros((ny, nx), dtype=bool)
    step = min(dx, dy) / 2
    for lo in range(0, len(geoms), _CHUNK_POLYGONS):  # short calls: see _rasterize_centres
        edges = shapely.segmentize(shapely.boundary(geoms[lo : lo + _CHUNK_POLYGONS]), step)
        coords, ring_of = shapely.get_coordinates(shapely.get_parts(edges), return_index=True)
        ix = np.clip(((coords[:, 0] - minx) / dx).astype(np.int64), 0, nx - 1)
        iy = np.clip(((coords[:, 1] - miny) / dy).astype(np.int64), 0, ny - 1)
        mask[iy, ix] = True
        same_ring = ring_of[1:] == ring_of[:-1]
        diagonal = same_ring & (ix[1:] != ix[:-1]) & (iy[1:] != iy[:-1])
        mask[iy[:-1][diagonal], ix[1:][diagonal]] = True
        mask[iy[1:][diagonal], ix[:-1][diagonal]] = True
    return mask


def _dilate(mask: np.ndarray, rings: int) -> np.ndarray:
    """Binary dilation by a (2·rings+1)² square, separable: rows then columns."""
    out = mask.copy()
    for _ in range(rings):
        grown = out.copy()
        grown[1:, :] |= out[:-1, :]
        grown[:-1, :] |= out[1:, :]
        out = grown
    for _ in range(rings):
        grown = out.copy()
        grown[:, 1:] |= out[:, :-1]
        grown[:, :-1] |= out[:, 1:]
        out = grown
    return out
