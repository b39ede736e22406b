"""Grids (网格) of the demo county: balanced building clusters turned into an exact tiling.

Inside each community the buildings are split into k = round(households / 300) compact groups by
recursive bisection along the longer axis, weighted by households. The Voronoi cells of points on the
building outlines, dissolved per group and clipped to the community, tile the community and keep
every footprint whole. All grids are then noded together once in lon/lat on a 1e-7 degree grid, so
neighbouring grids, communities and townships share their edges vertex for vertex.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from _demo_areas import Area
from _demo_buildings import Building
from shapely import affinity
from shapely.geometry import MultiPolygon, Point, Polygon

from gis.projection import to_metric

GRID_TARGET = 300  # households per comprehensive grid (docs/domain.md#grids)
BAND = (250, 500)  # the acceptable band; the generator tries to keep every grid inside it
PRECISION = 1e-7  # degrees, about 1 cm: the precision of every output coordinate


@dataclass
class Grid:
    community: Area
    type: str  # comprehensive | dedicated
    geom_m: Polygon  # metres
    site: str = ""  # the dedicated site's name
    buildings: list[Building] = field(default_factory=list)
    geom: MultiPolygon | None = None  # lon/lat, exact
    code: str = ""
    name: str = ""

    @property
    def households(self) -> int:
        return sum(len(b.rooms) for b in self.buildings)


def _bisect(xy: np.ndarray, w: np.ndarray, idx: np.ndarray, k: int) -> list[np.ndarray]:
    """Split ``idx`` into ``k`` groups of about equal weight, cutting across the longer axis."""
    if k == 1:
        return [idx]
    k1 = k // 2
    pts = xy[idx]
    axis = int(np.argmax(pts.max(0) - pts.min(0)))
    order = idx[np.argsort(pts[:, axis], kind="stable")]
    cum = np.cumsum(w[order])
    cut = int(np.argmin(np.abs(cum[:-1] - cum[-1] * k1 / k))) + 1
    return _bisect(xy, w, order[:cut], k1) + _bisect(xy, w, order[cut:], k - k1)


def _score(groups: list[np.ndarray], w: np.ndarray) -> tuple[int, float]:
    loads = np.array([w[g].sum() for g in groups])
    outside = int(((loads < BAND[0]) | (loads > BAND[1])).sum())
    return outside, float(loads.max() - loads.min())


def _outline_points(fps: list[Polygon]) -> tuple[np.ndarray, np.ndarray]:
    pts, owner = [], []
    for i, fp in enumerate(fps):
        ring = shapely.get_coordinates(shapely.segmentize(fp.exterior, 8.0))[:-1]
        ring = np.vstack([ring, shapely.get_coordinates(fp.centroid)])
        pts.append(ring)
        owner.append(np.full(len(ring), i))
    return np.vstack(pts), np.concatenate(owner)


def _absorb_orphans(polys: list, groups: list[np.ndarray], xy: np.ndarray, w: np.ndarray):
    """Keep each grid's heaviest part; give the other parts (and any buildings on them) to the
    neighbour they share the longest border with. Clipping to a concave community can cut a group."""
    polys = [shapely.make_valid(p) for p in polys]
    groups = [g.copy() for g in groups]
    for _ in range(10):
        moved = False
        for g, poly in enumerate(polys):
            parts = shapely.get_parts(poly)
            if len(parts) < 2:
                continue
            held = [shapely.contains_xy(p, xy[groups[g], 0], xy[groups[g], 1]) for p in parts]
            # The part holding most households stays; area breaks ties between empty parts.
            loads = [
                w[groups[g]][h].sum() + p.area * 1e-9 for p, h in zip(parts, held, strict=True)
            ]
            main = int(np.argmax(loads))
            for pi, part in enumerate(parts):
                if pi == main:
                    continue
                shared = [
                    shapely.intersection(part.boundary, q).length if h != g else 0.0
                    for h, q in enumerate(polys)
                ]
                h = int(np.argmax(shared))
                polys[h] = shapely.union(polys[h], part)
                groups[h] = np.concatenate([groups[h], groups[g][held[pi]]])
                moved = True
            groups[g] = groups[g][held[main]]
            polys[g] = parts[main]
        if not moved:
            return polys, groups
    raise RuntimeError("orphan parts kept moving")


def community_grids(com: Area, buildings: list[Building], sites: list) -> list[Grid]:
    """Comprehensive grids tiling ``com`` minus its dedicated sites, plus those sites."""
    region = com.geom
    grids = []
    for name, _, site in sites:
        region = shapely.difference(region, site)
        grids.append(Grid(com, "dedicated", site, site=name))
    weights = np.array([len(b.rooms) for b in buildings], dtype=float)
    k = max(1, round(weights.sum() / GRID_TARGET))
    cxy = np.array([b.footprint.centroid.coords[0] for b in buildings])
    if k == 1:
        polys, groups = [region], [np.arange(len(buildings))]
    else:
        # Clipping to a concave community can cut a group in two (see _absorb_orphans), which
        # unbalances it: try the cuts in a few orientations and keep the best balanced result.
        pts, owner = _outline_points([b.footprint for b in buildings])
        cells = shapely.get_parts(
            shapely.voronoi_polygons(
                shapely.multipoints(pts), extend_to=region.buffer(100), ordered=True
            )
        )
        assert len(cells) == len(pts), "duplicate outline points"
        best = None
        for angle in np.radians(np.arange(0, 180, 30)):
            rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
            groups = _bisect(cxy @ rot, weights, np.arange(len(buildings)), k)
            label = np.empty(len(buildings), int)
            for g, idx in enumerate(groups):
                label[idx] = g
            polys = [
                shapely.intersection(shapely.union_all(cells[label[owner] == g]), region)
                for g in range(k)
            ]
            polys, groups = _absorb_orphans(polys, groups, cxy, weights)
            score = _score(groups, weights)
            if best is None or score < best[0]:
                best = (score, polys, groups)
        assert best is not None
        _, polys, groups = best
    for poly, idx in zip(polys, groups, strict=True):
        grids.append(Grid(com, "comprehensive", poly, buildings=[buildings[i] for i in idx]))
    return grids


def make_straddlers(grids: list[Grid], communities: list[Area], placer_fps) -> list[Building]:
    """Move one building in each of ``communities`` onto a boundary between two of its grids.

    The building keeps its grid (its entrance stays there) but a third or so of its footprint
    lies in the neighbour: the defect the "buildings split across grids" audit must find.
    """
    tree = shapely.STRtree(placer_fps)
    moved = []
    for com in communities:
        own = [g for g in grids if g.community is com and g.type == "comprehensive"]
        best = None
        for g in own:
            others = shapely.union_all([h.geom_m for h in own if h is not g])
            border = shapely.intersection(g.geom_m.boundary, others)
            for b in g.buildings:
                d = b.footprint.distance(border)
                if best is None or d < best[0]:
                    best = (d, g, b, border)
        assert best is not None
        _, g, b, border = best
        c = b.footprint.centroid
        target = border.interpolate(border.project(c))
        step = np.array(target.coords[0]) - np.array(c.coords[0])
        unit = step / np.hypot(*step)
        for s in np.arange(0.0, np.hypot(*step) + 40.0, 1.0):
            fp = affinity.translate(b.footprint, *(unit * s))
            share = 1 - shapely.intersection(fp, g.geom_m).area / fp.area
            if share < 0.3:
                continue
            clash = [placer_fps[i] for i in tree.query(fp.buffer(3), predicate="intersects")]
            assert share < 0.45 and all(f is b.footprint for f in clash), f"{com.name}: no room"
            b.footprint = fp
            moved.append(b)
            break
        else:
            raise AssertionError(f"{com.name}: could not make a straddler")
    return moved


def to_exact_lonlat(geoms_m: list, metric_crs) -> list[MultiPolygon]:
    """Project a metric tiling to lon/lat and node it on the 1e-7° grid so shared edges stay shared.

    Noding first in metres removes T-junctions: a vertex lying on a neighbour's straight edge
    would leave that edge after projection (straight lines are not straight in both systems).
    """
    exact_m = _node(np.asarray(geoms_m, dtype=object), None)
    ll = np.asarray(gpd.GeoSeries(exact_m, crs=metric_crs).to_crs(4490).values, dtype=object)
    return [as_multi(g) for g in _node(ll, PRECISION)]


def _node(geoms: np.ndarray, grid_size: float | None) -> list:
    edges = shapely.union_all(shapely.boundary(geoms), grid_size=grid_size)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(edges)))
    tree = shapely.STRtree(geoms)
    owner = np.full(len(faces), -1)
    for f, face in enumerate(faces):
        cand = tree.query(face, predicate="intersects")
        owner[f] = cand[np.argmax(shapely.area(shapely.intersection(geoms[cand], face)))]
    out = []
    for g, orig in enumerate(geoms):
        geom = shapely.union_all(faces[owner == g], grid_size=grid_size)
        # Only slivers thinner than the precision may change hands.
        # Snap rounding moves each vertex by at most half a grid step: bound the area change.
        assert abs(geom.area - orig.area) <= orig.length * (grid_size or 1e-9), "noding lost area"
        out.append(geom)
    return out


def as_multi(geom) -> MultiPolygon:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon"]
    return MultiPolygon(parts)


def number_grids(grids: list[Grid]) -> None:
    """Serials west to east, then north to south (docs/domain.md#hierarchy-and-codes), by row bands
    of typical grid size."""
    metric = to_metric(gpd.GeoSeries([g.geom for g in grids], crs=4490))
    for com in dict.fromkeys(g.community.code for g in grids):
        idx = [i for i, g in enumerate(grids) if g.community.code == com]
        for serial, i in enumerate(serial_order(metric.iloc[idx]), start=1):
            g = grids[idx[i]]
            g.code = f"{com}{serial:03d}"
            if g.type == "dedicated":
                g.name = f"{g.site}专属网格"
            else:
                g.name = f"{g.community.name}第{serial}网格"


def serial_order(metric: gpd.GeoSeries) -> list[int]:
    """Positions of ``metric`` (one community's grids, in metres) in serial order."""
    top = metric.total_bounds[3]
    band = max(10.0, round(float(np.sqrt(metric.area.sum() / len(metric))) / 10) * 10)
    c = metric.centroid
    keys = [(int((top - y) // band), x) for x, y in zip(c.x, c.y, strict=True)]
    return sorted(range(len(keys)), key=keys.__getitem__)


def entrance(b: Building, grid_geom_m) -> Point:
    """The building's point: its centroid, or for a straddler the centroid of its part in its grid."""
    c = b.footprint.centroid
    if grid_geom_m.contains(c):
        return c
    return shapely.point_on_surface(shapely.intersection(b.footprint, grid_geom_m))
