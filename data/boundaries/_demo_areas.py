"""County outline, townships, communities and roads of the demo county, in metres (Gauss-Krüger).

Administrative areas come from one planar partition: small Voronoi "parcels" are labelled first by
township, then by community, so every boundary is shared exactly and nothing overlaps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from _demo_names import TOWNSHIPS
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import nearest_points

# Offsets in metres from the county centre (113.6E, 34.5N).
TOWN_CENTRE = (-1000.0, 800.0)
_SEATS = {  # township seat and multiplicative weight: a heavier weight keeps the area small
    "001": ((-1900.0, 1000.0), 2.0),
    "002": ((-100.0, 600.0), 2.0),
    "100": ((-7200.0, 4200.0), 1.0),
    "101": ((1800.0, -5600.0), 1.0),
    "200": ((7600.0, 2600.0), 0.95),
}
_TOWN_COMMUNITY_WEIGHT = 2.6  # the residents' committee at a town seat covers only the seat


@dataclass
class Area:
    code: str
    name: str
    kind: str  # street | town | township | residents | villagers
    seat: np.ndarray
    parent: str | None = None
    township_name: str = ""
    geom: Any = None  # Polygon in metres while building; build() swaps in the exact lon/lat one
    children: list[Area] = field(default_factory=list)


@dataclass
class Road:
    name: str
    cls: str  # arterial | county_road | local | river
    geom: LineString


def county_outline(rng: np.random.Generator, origin: np.ndarray) -> Polygon:
    """A wobbly ellipse of about 25 km × 20 km."""
    theta = np.linspace(0, 2 * np.pi, 120, endpoint=False)
    radius = np.ones_like(theta)
    for k in range(2, 7):
        radius += rng.uniform(0.015, 0.05) / (k - 1) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    xy = np.column_stack([12_500 * radius * np.cos(theta), 10_000 * radius * np.sin(theta)])
    return Polygon(origin + xy)


def _parcels(rng: np.random.Generator, county: Polygon, origin: np.ndarray) -> np.ndarray:
    """Voronoi cells, denser in the county town, clipped to the county."""
    minx, miny, maxx, maxy = county.bounds
    rural = np.column_stack([rng.uniform(minx, maxx, 700), rng.uniform(miny, maxy, 700)])
    town = origin + TOWN_CENTRE + rng.normal(0, 1600, (260, 2))
    pts = np.vstack([rural, town])
    pts = pts[shapely.contains_xy(county, pts[:, 0], pts[:, 1])]
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=county, ordered=True)
    )
    cells = shapely.intersection(cells, county)
    return cells[shapely.area(cells) > 1.0]


def _kmeans(rng: np.random.Generator, xy: np.ndarray, k: int) -> np.ndarray:
    centres = xy[rng.choice(len(xy), k, replace=False)]
    for _ in range(40):
        lab = np.argmin(((xy[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
        centres = np.array(
            [xy[lab == j].mean(0) if (lab == j).any() else centres[j] for j in range(k)]
        )
    return centres


def _contiguous(cells: np.ndarray, labels: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Relabel stray cells so that every label is one polygon (neighbours from the same group)."""
    labels = labels.copy()
    tree = shapely.STRtree(cells)
    for _ in range(20):
        changed = False
        for lab in np.unique(labels):
            idx = np.flatnonzero(labels == lab)
            parts = shapely.get_parts(shapely.union_all(cells[idx]))
            if len(parts) < 2:
                continue
            main = parts[np.argmax(shapely.area(parts))]
            for i in idx:
                if shapely.intersection(cells[i], main).area > 0.5 * cells[i].area:
                    continue
                best, best_len = None, 0.0
                for j in tree.query(cells[i], predicate="intersects"):
                    if labels[j] == lab or groups[j] != groups[i]:
                        continue
                    shared = shapely.intersection(cells[i].boundary, cells[j].boundary).length
                    if shared > best_len:
                        best, best_len = labels[j], shared
                if best is not None:
                    labels[i] = best
                    changed = True
        if not changed:
            return labels
    raise RuntimeError("could not make the areas contiguous")


def build_areas(
    rng: np.random.Generator, county: Polygon, origin: np.ndarray, county_code: str
) -> list[Area]:
    """Townships with their communities (geometry in metres), sorted by code."""
    cells = _parcels(rng, county, origin)
    cxy = shapely.get_coordinates(shapely.centroid(cells))
    towns = [
        Area(county_code + serial, name, kind, origin + _SEATS[serial][0], county_code)
        for serial, name, kind, _ in TOWNSHIPS
    ]
    weights = np.array([_SEATS[s][1] for s, *_ in TOWNSHIPS])
    seats = np.array([t.seat for t in towns])
    dist = np.hypot(*(cxy[:, None, :] - seats[None]).transpose(2, 0, 1))
    t_lab = _contiguous(cells, np.argmin(dist * weights, axis=1), np.zeros(len(cells), int))

    c_lab = np.full(len(cells), -1)
    communities: list[Area] = []
    for ti, (_, _, kind, names) in enumerate(TOWNSHIPS):
        town = towns[ti]
        idx = np.flatnonzero(t_lab == ti)
        kinds = ["residents" if n.endswith("社区") else "villagers" for n in names]
        n_vil = kinds.count("villagers")
        if kind == "street":
            seats_c, w = _kmeans(rng, cxy[idx], len(names)), np.ones(len(names))
        else:  # villages spread over the township, the town's own community sits at its seat
            seats_c = _kmeans(rng, cxy[idx], n_vil)
            w = np.ones(n_vil)
            if n_vil < len(names):
                seats_c = np.vstack([town.seat, seats_c])
                w = np.concatenate([[_TOWN_COMMUNITY_WEIGHT], w])
        d = np.hypot(*(cxy[idx][:, None, :] - seats_c[None]).transpose(2, 0, 1))
        c_lab[idx] = len(communities) + np.argmin(d * w, axis=1)
        for seat, name, ckind in zip(seats_c, names, kinds, strict=True):
            communities.append(Area("", name, ckind, seat, town.code, town.name))
    c_lab = _contiguous(cells, c_lab, t_lab)

    for ci, com in enumerate(communities):
        com.geom = shapely.union_all(cells[c_lab == ci])
        assert com.geom.geom_type == "Polygon", com.name
    for town in towns:
        members = [c for c in communities if c.parent == town.code]
        # Serials: residents 001.., villagers 200.., each run north to south then west to east.
        for kind, start in (("residents", 1), ("villagers", 200)):
            ordered = sorted(
                (c for c in members if c.kind == kind), key=lambda c: (-c.seat[1], c.seat[0])
            )
            for i, com in enumerate(ordered):
                com.code = f"{town.code}{start + i:03d}"
        town.children = sorted(members, key=lambda c: c.code)
        town.geom = shapely.union_all([c.geom for c in town.children])
    return towns


def _wiggly(rng: np.random.Generator, a: np.ndarray, b: np.ndarray, step: float, amp: float):
    n = max(2, int(np.hypot(*(b - a)) // step) + 1)
    t = np.linspace(0, 1, n + 1)
    xy = a + t[:, None] * (b - a)
    normal = np.array([-(b - a)[1], (b - a)[0]]) / np.hypot(*(b - a))
    off = rng.normal(0, amp, n + 1)
    off[[0, -1]] = 0
    return xy + off[:, None] * normal


def build_roads(
    rng: np.random.Generator, county: Polygon, origin: np.ndarray, towns: list[Area]
) -> list[Road]:
    """Arterials through the county town, county roads to township seats, village roads, a river."""
    tc = origin + TOWN_CENTRE
    roads: list[Road] = []
    for name, a, b in (
        ("人民路", (-4500, 0), (4500, 0)),
        ("文化路", (-3000, 1900), (3200, 1900)),
        ("建设路", (0, -3500), (0, 4000)),
        ("解放路", (-2200, -2600), (-2200, 3400)),
    ):
        xy = _wiggly(rng, tc + a, tc + b, 600, 8)
        roads.append(Road(name, "arterial", LineString(xy)))
    rural = [t for t in towns if t.kind != "street"]
    for i, t in enumerate(rural):
        mid = (tc + t.seat) / 2 + rng.normal(0, 600, 2)
        xy = np.vstack([_wiggly(rng, tc, mid, 700, 40), _wiggly(rng, mid, t.seat, 700, 40)[1:]])
        roads.append(Road(f"X{i + 1:03d}城{t.name[0]}线", "county_road", LineString(xy)))
    trunk = shapely.union_all([r.geom for r in roads])
    for t in rural:
        for com in t.children:
            if com.kind != "villagers":
                continue
            target = np.array(nearest_points(trunk, Point(com.seat))[0].coords[0])
            if np.hypot(*(target - com.seat)) < 300:
                continue
            xy = _wiggly(rng, com.seat, target, 500, 30)
            roads.append(Road(com.name.removesuffix("村") + "路", "local", LineString(xy)))
    x = np.linspace(-16_000, 16_000, 90)
    y = -3200 + 1400 * np.sin(x / 5200 + 0.7) + rng.normal(0, 60, x.size)
    roads.append(Road("清水河", "river", LineString(origin + np.column_stack([x, y]))))
    for r in roads:
        clipped = shapely.intersection(r.geom, county)
        parts = shapely.get_parts(clipped)
        r.geom = parts[np.argmax(shapely.length(parts))]
    return roads


KEEP_CLEAR = {"arterial": 30.0, "county_road": 18.0, "local": 9.0, "river": 45.0}


def road_keepout(roads: list[Road]):
    """Where no building may stand: a buffer around every road and the river."""
    zone = shapely.union_all([shapely.buffer(r.geom, KEEP_CLEAR[r.cls]) for r in roads])
    shapely.prepare(zone)
    return zone
