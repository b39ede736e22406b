"""Point-in-polygon lookup for a polygon coverage, fast enough for single points and for millions,
held in plain arrays that the processes of a machine can share.

A uniform raster over the coverage's extent classifies every cell once: *interior* (wholly inside one
polygon: the answer needs no geometry test), *empty* (inside none), or *boundary* (a polygon edge passes
through it: the few candidate polygons are tested exactly against their edges). Most points land in
interior cells, so a lookup is an array read; the rest cost a crossing test against the edges of a
candidate or two. The same idea as mapit's subdivided polygons, done in memory.

Everything a lookup reads (the raster, the candidates, every polygon's edges in lon/lat and in its
local metric frame, the near-edge mask, the polygons as WKB) is a numpy array, so an index can be
written to a directory once (:meth:`PolygonIndex.save`) and memory-mapped by every process
(:meth:`PolygonIndex.open`): the pages are the operating system's, shared, not each process's.
Because memory is shared, the raster grows with the number of polygons (``cells_per_polygon`` each)
instead of being capped, so the share of points needing an exact test stays the same from a county to
a province.

Distances (nearest polygon, distance to the edge) are computed in the CGCS2000 Gauss-Krüger zone.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely
from affine import Affine
from rasterio.features import rasterize
from shapely.geometry.base import BaseGeometry

from gis.projection import STORAGE_EPSG, gk_crs_for

# Work is cut into pieces of about this size so that building an index in a background thread
# never holds the interpreter for long: the process keeps answering while it builds.
_STRIP_ROWS = 64
_CHUNK_CELLS = 2_000
_CHUNK_POLYGONS = 64
# Points per block when measuring edge distances (each point pairs with its polygon's segments),
# and when testing boundary points against their candidates' edges.
_CHUNK_PAIRS_POINTS = 50_000
# Raster cells: ``cells_per_polygon`` a polygon, within these bounds (4 bytes a cell).
_MIN_CELLS, _MAX_CELLS = 4096, 64_000_000
# The near-edge mask: at most this many cells (one bit each: 32 MB), so that a province's mask
# stays fine enough (about 13 m at 100,000 grids) to spare most points a distance measurement.
_MAX_FINE_CELLS = 256_000_000
# The saved layout and build: an index saved by another is not opened, and the store
# (app/locate/shared.py) names indexes by it. Bump it when the arrays or how they are built change.
FORMAT = 3
_META = "meta.json"
# Raster cell values: >= 0 the owner of an interior cell; EMPTY; <= BOUNDARY: boundary cell
# number BOUNDARY - value (its candidates are cand[cand_ptr[k]:cand_ptr[k + 1]]).
_EMPTY_CELL, _BOUNDARY_CELL = -1, -2


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

    A point on an edge or vertex is in the polygon (as GEOS ``intersects`` says), so on a shared edge
    the lowest index wins.

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
        geoms = np.asarray(list(polygons), dtype=object)
        if len(geoms) == 0:
            raise ValueError("PolygonIndex needs at least one polygon")
        if not all(shapely.is_valid(geoms)):
            bad = int(np.flatnonzero(~shapely.is_valid(geoms))[0])
            raise ValueError(f"polygon {bad} is invalid: {shapely.is_valid_reason(geoms[bad])}")
        arrays, meta = _Builder(geoms, cells_per_polygon, edge_distance_m).build()
        self._attach(arrays, meta)
        self._geoms: np.ndarray | None = geoms
        self.path: Path | None = None

    # ----------------------------------------------------------------- sharing
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the index to directory ``path`` (created; it must not exist), one ``.npy`` file per
        array plus ``meta.json``. Publish by writing to a temporary name and renaming it."""
        target = Path(path)
        target.mkdir(parents=True)
        for name, array in self._arrays.items():
            np.save(target / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
        (target / _META).write_text(json.dumps({**self._meta, "format": FORMAT}))

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> PolygonIndex:
        """An index saved by :meth:`save`, memory-mapped read-only: processes opening the same
        directory share its pages. Raises FileNotFoundError or ValueError when it cannot be used."""
        source = Path(path)
        meta = json.loads((source / _META).read_text())
        if meta.pop("format", None) != FORMAT:
            raise ValueError(f"{source}: saved by another layout of the index")
        # Plain ndarray views of the maps (np.memmap's own indexing is slower on the hot path).
        arrays = {
            f.stem: np.asarray(np.load(f, mmap_mode="r", allow_pickle=False))
            for f in source.glob("*.npy")
        }
        index = cls.__new__(cls)
        index._attach(arrays, meta)
        index._geoms = None
        index.path = source
        return index

    def _attach(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        self._arrays, self._meta = arrays, meta
        a = arrays
        self.n = int(meta["n"])
        self.minx, self.miny, self.maxx, self.maxy = meta["bounds"]
        self.dx, self.dy, self.nx, self.ny = meta["dx"], meta["dy"], meta["nx"], meta["ny"]
        self._fdx, self._fdy, self._fnx, self._fny = (
            meta["fdx"], meta["fdy"], meta["fnx"], meta["fny"]
        )  # fmt: skip
        self.edge_distance_threshold_m = float(meta["edge_distance_m"])
        self._cell, self._cand_ptr, self._cand = a["cell"], a["cand_ptr"], a["cand"]
        self._seg_ptr = a["seg_ptr"]
        self._sx, self._sy, self._ex, self._ey = a["sx"], a["sy"], a["ex"], a["ey"]
        self._near_bits = a["near"]
        self._frames = _LocalFrames(a)
        self.metric_crs = pyproj.CRS.from_epsg(int(meta["epsg"]))
        self._to_metric = pyproj.Transformer.from_crs(
            STORAGE_EPSG, int(meta["epsg"]), always_xy=True
        )
        self._nearest_lock = threading.Lock()
        self._metric_tree: shapely.STRtree | None = None

    @property
    def nbytes(self) -> int:
        """Bytes of the shareable arrays (what a saved index maps)."""
        return int(sum(a.nbytes for a in self._arrays.values()))

    @property
    def geoms(self) -> np.ndarray:
        """The polygons as shapely geometries (built from the stored WKB on first use, per process)."""
        if self._geoms is None:
            self._geoms = np.asarray(
                shapely.from_wkb([self.wkb(i) for i in range(self.n)]), dtype=object
            )
        return self._geoms

    def wkb(self, i: int) -> bytes:
        """Polygon ``i`` as WKB, as given."""
        ptr = self._arrays["wkb_ptr"]
        return bytes(self._arrays["wkb"][ptr[i] : ptr[i + 1]])

    def geom(self, i: int) -> BaseGeometry:
        return shapely.from_wkb(self.wkb(i))

    # ----------------------------------------------------------------- queries
    def _cells(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        inside = (x >= self.minx) & (x <= self.maxx) & (y >= self.miny) & (y <= self.maxy)
        ix = np.minimum(((x - self.minx) / self.dx).astype(np.int64), self.nx - 1)
        iy = np.minimum(((y - self.miny) / self.dy).astype(np.int64), self.ny - 1)
        return np.where(inside, iy * self.nx + ix, -1)

    def _fine_cells(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        inside = (x >= self.minx) & (x <= self.maxx) & (y >= self.miny) & (y <= self.maxy)
        ix = np.minimum(((x - self.minx) / self._fdx).astype(np.int64), self._fnx - 1)
        iy = np.minimum(((y - self.miny) / self._fdy).astype(np.int64), self._fny - 1)
        return np.where(inside, iy * self._fnx + ix, -1)

    def _near(self, fine_cells: np.ndarray) -> np.ndarray:
        return ((self._near_bits[fine_cells >> 3] >> (fine_cells & 7).astype(np.uint8)) & 1) > 0

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Polygon index for each point (-1 where none). Vectorised; points on a shared edge go to
        the lowest index."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        cells = self._cells(x, y)
        result = np.full(len(x), -1, dtype=np.int32)
        valid = cells >= 0
        code = self._cell[cells[valid]]
        result[valid] = np.maximum(code, -1)
        todo = np.flatnonzero(valid)[code <= _BOUNDARY_CELL]
        for lo in range(0, len(todo), _CHUNK_PAIRS_POINTS):
            part = todo[lo : lo + _CHUNK_PAIRS_POINTS]
            slots = _BOUNDARY_CELL - self._cell[cells[part]].astype(np.int64)
            starts, ends = self._cand_ptr[slots], self._cand_ptr[slots + 1]
            counts = ends - starts
            point_of_pair = np.repeat(part, counts)
            cand = self._cand[_ranges(starts, counts)]
            hit = self._contains(cand, x[point_of_pair], y[point_of_pair])
            # Pairs run by point, then by candidate: a point's first hit is its lowest index.
            pts, polys = point_of_pair[hit], cand[hit]
            first = np.ones(len(pts), dtype=bool)
            first[1:] = pts[1:] != pts[:-1]
            result[pts[first]] = polys[first]
        return result

    def _contains(self, poly: np.ndarray, qx: np.ndarray, qy: np.ndarray) -> np.ndarray:
        """Is point k in or on polygon ``poly[k]``? Even-odd crossings of a ray to the east against
        every edge of the polygon (holes and parts included), or lying on an edge.

        With ``cross`` the orientation of the point against edge a→b, an edge straddling the ray's
        line crosses the ray when the point is left of an upward edge or right of a downward one
        (the classic test without its division); ``cross == 0`` within the edge's box is on it.
        """
        starts = self._seg_ptr[poly]
        counts = self._seg_ptr[poly + 1] - starts
        seg = _ranges(starts, counts)
        pair = np.repeat(np.arange(len(poly)), counts)
        ax, ay, bx, by = self._sx[seg], self._sy[seg], self._ex[seg], self._ey[seg]
        px, py = qx[pair], qy[pair]
        up = by > ay
        cross = (bx - ax) * (py - ay) - (by - ay) * (px - ax)
        crossing = ((ay > py) != (by > py)) & ((cross > 0) == up) & (cross != 0)
        first = np.cumsum(counts) - counts
        inside = (np.add.reduceat(crossing, first, dtype=np.int32) & 1) == 1
        zero = np.flatnonzero(cross == 0)
        if len(zero):
            ax, ay, bx, by, px, py = ax[zero], ay[zero], bx[zero], by[zero], px[zero], py[zero]
            on = (
                (px >= np.minimum(ax, bx)) & (px <= np.maximum(ax, bx))
                & (py >= np.minimum(ay, by)) & (py <= np.maximum(ay, by))
            )  # fmt: skip
            inside[pair[zero[on]]] = True
        return inside

    def _contains_one(self, i: int, x: float, y: float) -> bool:
        """:meth:`_contains` for one point and one polygon, in plain Python (a few edges)."""
        lo, hi = int(self._seg_ptr[i]), int(self._seg_ptr[i + 1])
        inside = False
        for ax, ay, bx, by in zip(
            self._sx[lo:hi].tolist(), self._sy[lo:hi].tolist(),
            self._ex[lo:hi].tolist(), self._ey[lo:hi].tolist(), strict=True,
        ):  # fmt: skip
            cross = (bx - ax) * (y - ay) - (by - ay) * (x - ax)
            if cross == 0:
                if min(ax, bx) <= x <= max(ax, bx) and min(ay, by) <= y <= max(ay, by):
                    return True
            elif (ay > y) != (by > y) and (cross > 0) == (by > ay):
                inside = not inside
        return inside

    def locate_one(self, x: float, y: float) -> int:
        """Polygon index containing one point, or -1. About a microsecond for interior cells."""
        if not (self.minx <= x <= self.maxx and self.miny <= y <= self.maxy):
            return -1
        cell = min(int((y - self.miny) / self.dy), self.ny - 1) * self.nx + min(
            int((x - self.minx) / self.dx), self.nx - 1
        )
        code = int(self._cell[cell])
        if code > _BOUNDARY_CELL:
            return code  # an owner, or -1 for an empty cell
        slot = _BOUNDARY_CELL - code
        for cand in self._cand[self._cand_ptr[slot] : self._cand_ptr[slot + 1]].tolist():
            if self._contains_one(cand, x, y):
                return int(cand)
        return -1

    def is_near_edge_cell(self, x: float, y: float) -> bool:
        """Cheap pre-test: False means certainly farther than ``edge_distance_m`` from any edge."""
        if not (self.minx <= x <= self.maxx and self.miny <= y <= self.maxy):
            return True
        cell = min(int((y - self.miny) / self._fdy), self._fny - 1) * self._fnx + min(
            int((x - self.minx) / self._fdx), self._fnx - 1
        )
        return bool((int(self._near_bits[cell >> 3]) >> (cell & 7)) & 1)

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
        near[near] = self._near(cells[near])
        if near.any():
            out[near] = self._frames.distances(index[near], x[near], y[near])
        return out

    def prepare_nearest(self) -> shapely.STRtree:
        """The polygons in metres and a tree over them, for points in no polygon: built on first
        use (or ahead, off the request path), per process (GEOS objects cannot be shared)."""
        tree = self._metric_tree
        if tree is None:
            with self._nearest_lock:
                tree = self._metric_tree
                if tree is None:
                    t = self._to_metric

                    def project(xy: np.ndarray) -> np.ndarray:
                        x, y = t.transform(xy[:, 0], xy[:, 1])
                        return np.column_stack([x, y])

                    # In pieces, as the index is built: a serving process keeps its turn. A
                    # mapped index does not keep the lon/lat polygons as well.
                    metric = []
                    for lo in range(0, self.n, _CHUNK_CELLS):
                        hi = min(lo + _CHUNK_CELLS, self.n)
                        part = (
                            self._geoms[lo:hi]
                            if self._geoms is not None
                            else shapely.from_wkb([self.wkb(i) for i in range(lo, hi)])
                        )
                        metric.append(shapely.transform(part, project))
                    tree = self._metric_tree = shapely.STRtree(np.concatenate(metric))
        return tree

    def nearest_many(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vectorised :meth:`nearest`: polygon index and distance in metres for each point."""
        if len(x) == 0:
            return np.empty(0, np.int32), np.empty(0)
        tree = self.prepare_nearest()
        mx, my = self._to_metric.transform(np.asarray(x, float), np.asarray(y, float))
        (pt, poly), dist = tree.query_nearest(
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
        tree = self.prepare_nearest()
        idx, dist = tree.query_nearest(shapely.Point(mx, my), return_distance=True)
        return int(idx[0]), float(dist[0])


class _Builder:
    """Computes an index's arrays from shapely polygons (the only part that needs GEOS objects)."""

    def __init__(self, geoms: np.ndarray, cells_per_polygon: int, edge_distance_m: float) -> None:
        self.geoms = geoms
        self.n = len(geoms)
        self.cells_per_polygon = cells_per_polygon
        self.edge_distance_m = edge_distance_m
        shapely.prepare(geoms)
        self.tree = shapely.STRtree(geoms)

    def build(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        arrays: dict[str, np.ndarray] = {}
        meta: dict[str, Any] = {"n": self.n, "edge_distance_m": self.edge_distance_m}
        self._raster(arrays, meta)
        self._segments(arrays)
        self._near_mask(arrays, meta)
        wkb = shapely.to_wkb(self.geoms)
        lengths = np.fromiter((len(b) for b in wkb), dtype=np.int64, count=self.n)
        arrays["wkb_ptr"] = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        arrays["wkb"] = np.frombuffer(b"".join(wkb), dtype=np.uint8)
        return arrays, meta

    def _raster(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(self.geoms))
        width, height = max(maxx - minx, 1e-9), max(maxy - miny, 1e-9)
        cells = int(min(max(self.cells_per_polygon * self.n, _MIN_CELLS), _MAX_CELLS))
        dx = dy = float(np.sqrt(width * height / cells))
        nx = max(1, int(np.ceil(width / dx)))
        ny = max(1, int(np.ceil(height / dy)))
        self.minx, self.miny, self.maxx, self.maxy = minx, miny, maxx, maxy
        self.dx, self.dy, self.nx, self.ny = dx, dy, nx, ny
        meta.update(bounds=[minx, miny, maxx, maxy], dx=dx, dy=dy, nx=nx, ny=ny)

        boundary = _edge_supercover(self.geoms, minx, miny, dx, dy, nx, ny).ravel()
        # Cells no edge passes through lie wholly inside one polygon or wholly outside all: the
        # cell centre decides which. GDAL's rasterizer burns centres in C (lowest index burnt last,
        # so it wins where polygons overlap); raster rows run north to south, ours south to north.
        cell = self._rasterize_centres() - 1  # owner, or -1 (empty)
        bcells = np.flatnonzero(boundary)
        del boundary
        cell[bcells] = _BOUNDARY_CELL - np.arange(len(bcells), dtype=np.int32)
        arrays["cell"] = cell

        # Boundary cells keep a short list of candidate polygons (CSR layout).
        bx = minx + (bcells % nx) * dx
        by = miny + (bcells // nx) * dy
        cell_i, cand = self._candidates_of_cells(bx, by)
        counts = np.bincount(cell_i, minlength=len(bcells))
        cand_ptr = np.zeros(len(bcells) + 1, dtype=np.int64)
        np.cumsum(counts, out=cand_ptr[1:])
        arrays["cand_ptr"] = cand_ptr
        arrays["cand"] = cand.astype(np.int32)

    def _rasterize_centres(self) -> np.ndarray:
        """Owner + 1 of each cell centre (0: none), south row first, rasterized in strips so no
        single call holds the interpreter long (the index is rebuilt beside a serving process)."""
        top = self.miny + self.ny * self.dy
        strips = []
        for r0 in range(0, self.ny, _STRIP_ROWS):  # north to south, as GDAL writes rows
            rows = min(_STRIP_ROWS, self.ny - r0)
            strip_top = top - r0 * self.dy
            band = shapely.box(self.minx, strip_top - rows * self.dy, self.maxx, strip_top)
            inside = np.sort(self.tree.query(band, predicate="intersects"))
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
        return np.ascontiguousarray(np.concatenate(strips)[::-1]).ravel()

    def _candidates_of_cells(self, bx: np.ndarray, by: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(cell, polygon) pairs for the boundary cells at ``bx``/``by``, sorted by cell then
        polygon; in chunks, for the same reason as the strips above."""
        cells, cands = [], []
        for lo in range(0, len(bx), _CHUNK_CELLS):
            x, y = bx[lo : lo + _CHUNK_CELLS], by[lo : lo + _CHUNK_CELLS]
            boxes = shapely.box(x, y, x + self.dx, y + self.dy)
            cell_i, cand = self.tree.query(boxes, predicate="intersects")
            order = np.lexsort((cand, cell_i))
            cells.append(cell_i[order] + lo)
            cands.append(cand[order])
        if not cells:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(cells), np.concatenate(cands)

    def _segments(self, arrays: dict[str, np.ndarray]) -> None:
        """Every polygon's edges (all rings of all parts), CSR by polygon: in lon/lat for the
        crossing test and in the polygon's local metric frame for edge distances."""
        cx = (self.minx + self.maxx) / 2
        epsg = gk_crs_for(cx).to_epsg()
        assert epsg is not None
        self.epsg = epsg
        parts, part_poly = shapely.get_parts(self.geoms, return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
        poly = part_poly[ring_part[coord_ring]]
        same = coord_ring[1:] == coord_ring[:-1]  # a segment joins two vertices of one ring
        a, b, seg_poly = coords[:-1][same], coords[1:][same], poly[:-1][same]
        arrays["sx"], arrays["sy"] = a[:, 0].copy(), a[:, 1].copy()
        arrays["ex"], arrays["ey"] = b[:, 0].copy(), b[:, 1].copy()
        ptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(np.bincount(seg_poly, minlength=self.n), out=ptr[1:])
        arrays["seg_ptr"] = ptr
        _LocalFrames.build(arrays, self.geoms, a, b, seg_poly, epsg)

    def _near_mask(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        """A second, finer raster marking every cell within ``edge_distance_m`` of an edge, so most
        points are known to be far from their grid's edge without measuring; one bit a cell.

        Cells are about a third of the distance (at most ``_MAX_FINE_CELLS``). The edges'
        supercover is dilated by enough rings to cover the distance, plus one for safety.
        """
        t = pyproj.Transformer.from_crs(STORAGE_EPSG, self.epsg, always_xy=True)
        meta["epsg"] = self.epsg
        x0, y0 = t.transform(self.minx, self.miny)
        x1, y1 = t.transform(self.maxx, self.maxy)
        width_m, height_m = max(abs(x1 - x0), 1.0), max(abs(y1 - y0), 1.0)
        res_m = max(
            self.edge_distance_m / 3, float(np.sqrt(width_m * height_m / _MAX_FINE_CELLS)), 1.0
        )
        fnx = max(1, int(np.ceil(width_m / res_m)))
        fny = max(1, int(np.ceil(height_m / res_m)))
        fdx = max(self.maxx - self.minx, 1e-9) / fnx
        fdy = max(self.maxy - self.miny, 1e-9) / fny
        meta.update(fdx=fdx, fdy=fdy, fnx=fnx, fny=fny)
        burnt = _edge_supercover(self.geoms, self.minx, self.miny, fdx, fdy, fnx, fny)
        rings = int(np.ceil(self.edge_distance_m / res_m)) + 1
        arrays["near"] = np.packbits(_dilate(burnt, rings).ravel(), bitorder="little")


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The concatenation of ``range(s, s + c)`` for each start and count."""
    first = np.cumsum(counts) - counts
    return np.repeat(starts - first, counts) + np.arange(int(counts.sum()))


class _LocalFrames:
    """Every polygon's edges in metres, each in its Gauss-Krüger projection linearised at its centre,
    stored as flat segment arrays (CSR by polygon, the same order as the lon/lat edges).

    The Jacobian of lon/lat → GK at a polygon's centre maps nearby points with an error of order
    offset² · tan(lat) / earth radius (mostly the meridians converging): about 1e-4 of the offset
    within a 1 km grid, i.e. a few centimetres; harmless for a 20 m "near the edge" flag.
    """

    @staticmethod
    def build(
        arrays: dict[str, np.ndarray],
        geoms: np.ndarray,
        a: np.ndarray,
        b: np.ndarray,
        seg_poly: np.ndarray,
        epsg: int,
    ) -> None:
        to_metric = pyproj.Transformer.from_crs(STORAGE_EPSG, epsg, always_xy=True)
        centres = shapely.get_coordinates(shapely.centroid(geoms))
        lon0, lat0 = centres[:, 0], centres[:, 1]
        h = 1e-4
        x0, y0 = to_metric.transform(lon0, lat0)
        xe, ye = to_metric.transform(lon0 + h, lat0)
        xn, yn = to_metric.transform(lon0, lat0 + h)
        # Per polygon: [[dX/dlon, dX/dlat], [dY/dlon, dY/dlat]]
        j = np.stack(
            [
                np.stack([(xe - x0) / h, (xn - x0) / h], -1),
                np.stack([(ye - y0) / h, (yn - y0) / h], -1),
            ],
            axis=1,
        )
        la = np.einsum("nij,nj->ni", j[seg_poly], a - centres[seg_poly])
        lb = np.einsum("nij,nj->ni", j[seg_poly], b - centres[seg_poly])
        arrays["f_lon0"], arrays["f_lat0"], arrays["f_j"] = lon0, lat0, j
        arrays["f_ax"], arrays["f_ay"] = la[:, 0].copy(), la[:, 1].copy()
        arrays["f_dx"], arrays["f_dy"] = lb[:, 0] - la[:, 0], lb[:, 1] - la[:, 1]
        arrays["f_len2"] = np.maximum(arrays["f_dx"] ** 2 + arrays["f_dy"] ** 2, 1e-18)

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.lon0, self.lat0, self.j = arrays["f_lon0"], arrays["f_lat0"], arrays["f_j"]
        self.ax, self.ay = arrays["f_ax"], arrays["f_ay"]
        self.dx, self.dy, self.len2 = arrays["f_dx"], arrays["f_dy"], arrays["f_len2"]
        self.ptr = arrays["seg_ptr"]

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
        seg = _ranges(starts, counts)
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
