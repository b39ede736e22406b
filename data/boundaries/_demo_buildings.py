"""Compounds (小区), natural villages (自然村), buildings and their rooms, in metres (Gauss-Krüger).

Urban compounds are rows of multi-storey slabs or towers; a rural "building" is a block of 2–20
houses, the way village rosters group doors. Footprints keep clear of roads, of the dedicated sites
(school, hospital, industrial park) and of each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import shapely
from _demo_areas import TOWN_CENTRE, Area
from _demo_names import NameMaker
from shapely import affinity
from shapely.geometry import Point, Polygon, box

# Dedicated (专属) sites of the county town: name, centre offset from the town centre, size, rotation.
DEDICATED_SITES = [
    ("示范县第一高级中学", (-1250.0, 1300.0), (300.0, 220.0), 8.0),
    ("示范县人民医院", (950.0, 1050.0), (200.0, 170.0), -5.0),
    ("示范县产业集聚区", (2600.0, -1150.0), (1100.0, 650.0), 3.0),
]


class _Era(NamedTuple):
    specs: list[tuple[int, int, int]]  # (units, floors, flats per floor per unit)
    n: tuple[int, int]  # buildings per compound, inclusive
    gap: int  # metres between rows


_ERAS = {
    "old": _Era([(2, 6, 2), (3, 6, 2), (4, 6, 2), (5, 6, 2), (3, 5, 2)], (5, 10), 22),
    "mid": _Era([(2, 11, 2), (3, 11, 2), (4, 11, 2), (3, 7, 2)], (4, 8), 35),
    "new": _Era([(2, 18, 2), (3, 18, 2), (1, 26, 4), (1, 18, 4)], (3, 7), 50),
}
_URBAN_TARGET = (1750, 2200)  # households per street community
_TOWN_SEAT_TARGET = 1100  # households of the residents' committee at a town seat
_VILLAGE_TARGET = (900, 1300)


@dataclass
class Building:
    community: Area
    compound: str
    number: int  # 3 for 3号楼 / 3排
    urban: bool
    footprint: Polygon
    rooms: list[tuple[str, str]] = field(default_factory=list)  # (unit, room)
    code: str = ""

    @property
    def name(self) -> str:
        return f"{self.number}号楼" if self.urban else f"{self.number}排"


class _Placer:
    """Accepts footprints that stay inside their area, off the roads and apart from each other."""

    def __init__(self, keepout) -> None:
        self.keepout = keepout
        self.placed: list[Polygon] = []
        self._tree: shapely.STRtree | None = None
        self._fresh: list[Polygon] = []

    def fits(self, fp: Polygon, inside, clearance: float) -> bool:
        if not inside.contains(fp) or self.keepout.intersects(fp):
            return False
        near = fp.buffer(clearance)
        if self._tree is not None and len(self._tree.query(near, predicate="intersects")):
            return False
        return not any(near.intersects(f) for f in self._fresh)

    def add(self, fp: Polygon) -> None:
        self._fresh.append(fp)
        if len(self._fresh) > 64:  # rebuild the tree now and then rather than scanning a long list
            self.placed += self._fresh
            self._fresh = []
            self._tree = shapely.STRtree(self.placed)


def dedicated_sites(origin: np.ndarray, towns: list[Area]) -> list[tuple[str, Area, Polygon]]:
    """The carved dedicated sites: (name, community, polygon), each inside one community."""
    tc = origin + TOWN_CENTRE
    communities = [c for t in towns for c in t.children]
    out = []
    for name, (dx, dy), (w, h), angle in DEDICATED_SITES:
        cx, cy = tc + np.array([dx, dy])
        rect = affinity.rotate(box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), angle)
        com = next(c for c in communities if c.geom.contains(Point(cx, cy)))
        site = shapely.intersection(rect, com.geom)
        assert site.geom_type == "Polygon" and site.area > 0.9 * rect.area, name
        out.append((name, com, site))
    return out


def _slab(cx: float, cy: float, length: float, depth: float, angle: float, pivot) -> Polygon:
    fp = box(cx - length / 2, cy - depth / 2, cx + length / 2, cy + depth / 2)
    return affinity.rotate(fp, angle, origin=pivot)


def _urban_rooms(rng: np.random.Generator, units: int, floors: int, per_floor: int):
    rooms = [
        (str(u), f"{f}{d:02d}")
        for u in range(1, units + 1)
        for f in range(1, floors + 1)
        for d in range(1, per_floor + 1)
    ]
    keep = rng.random(len(rooms)) < rng.uniform(0.86, 0.98)  # some flats stand empty
    keep[:20] = True  # every building type has at least 24 flats; keep 20 households or more
    return [r for r, k in zip(rooms, keep, strict=True) if k]


def _compound(rng, names: NameMaker, com: Area, centre, inside, placer: _Placer) -> list[Building]:
    era = ["old", "mid", "new"][int(rng.choice(3, p=[0.4, 0.35, 0.25]))]
    spec = _ERAS[era]
    n = int(rng.integers(spec.n[0], spec.n[1] + 1))
    kinds = [spec.specs[int(rng.integers(len(spec.specs)))] for _ in range(2)]
    cols = 2 if n <= 6 else 3
    rows = -(-n // cols)
    pitch_x = 14 * 5 + 18
    pitch_y = 12 + spec.gap
    angle = float(rng.uniform(-12, 12))
    out: list[Building] = []
    fps: list[Polygon] = []
    for i in range(n):
        r, c = divmod(i, cols)
        units, floors, per_floor = kinds[i % 2]
        length, depth = (24.0, 24.0) if units == 1 else (14.0 * units, 12.0)
        x = centre[0] + (c - (cols - 1) / 2) * pitch_x
        y = centre[1] + ((rows - 1) / 2 - r) * pitch_y  # building 1 is north-west
        fp = _slab(x, y, length, depth, angle, Point(centre))
        if not placer.fits(fp, inside, 12.0):
            continue
        fps.append(fp)
        rooms = _urban_rooms(rng, units, floors, per_floor)
        out.append(Building(com, "", len(out) + 1, True, fp, rooms))
    if len(out) < 2:
        return []
    name = names.estate(era)
    for b in out:
        b.compound = name
        placer.add(b.footprint)
    return out


def _hamlet(rng, names: NameMaker, com: Area, centre, inside, placer, target, first):
    sizes: list[int] = []
    while sum(sizes) < target:
        sizes.append(int(np.clip(round(rng.gamma(3.0, 3.0)), 2, 20)))
    cols = 3
    angle = float(rng.uniform(-8, 8))
    slots = [(r, c) for r in range(12) for c in range(cols)]
    slots.sort(key=lambda rc: (abs(rc[0] - 2.5) + abs(rc[1] - 1), rc))  # fill from the middle
    out: list[Building] = []
    si = 0
    for n in sizes:
        while si < len(slots):
            r, c = slots[si]
            si += 1
            length = 11.0 * -(-n // 2)
            x = centre[0] + (c - 1) * 130 + rng.uniform(-6, 6)
            y = centre[1] + (2.5 - r) * 42 + rng.uniform(-4, 4)
            fp = _slab(x, y, length, 24.0, angle, Point(centre))
            if placer.fits(fp, inside, 10.0):
                rooms = [("", f"{k}号") for k in range(1, n + 1)]
                out.append(Building(com, "", 0, False, fp, rooms))
                break
    if len(out) < 3:
        return []
    # Rows are numbered north to south, then west to east, as villagers count them.
    out.sort(key=lambda b: (-round(b.footprint.centroid.y / 20), b.footprint.centroid.x))
    name = names.hamlet(first)
    for i, b in enumerate(out, start=1):
        b.compound, b.number = name, i
        placer.add(b.footprint)
    return out


def build_buildings(rng, names: NameMaker, origin, towns, sites, keepout) -> list[Building]:
    """All buildings, with codes (community code + 4 digits) assigned per community."""
    tc = origin + TOWN_CENTRE
    placer = _Placer(keepout)
    blocked = shapely.union_all([s.buffer(40) for _, _, s in sites])
    buildings: list[Building] = []
    for town in towns:
        for com in town.children:
            inside = shapely.difference(com.geom.buffer(-25), blocked)
            shapely.prepare(inside)
            if com.kind == "residents":
                made = _fill_urban(rng, names, com, town, tc, inside, placer)
            else:
                made = _fill_rural(rng, names, com, inside, placer)
            for i, b in enumerate(made, start=1):
                b.code = f"{com.code}{i:04d}"
            buildings += made
    return buildings


def _fill_urban(rng, names, com, town, tc, inside, placer) -> list[Building]:
    if town.kind == "street":
        target, core, radius = int(rng.integers(*_URBAN_TARGET)), tc, 2300.0
    else:
        target, core, radius = _TOWN_SEAT_TARGET, town.seat, 700.0
    made: list[Building] = []
    centres: list[np.ndarray] = []
    fails = 0
    minx, miny, maxx, maxy = com.geom.bounds
    while sum(len(b.rooms) for b in made) < target:
        p = np.array([rng.uniform(minx, maxx), rng.uniform(miny, maxy)])
        ok = np.hypot(*(p - core)) < radius and inside.contains(Point(p))
        if ok and all(np.hypot(*(p - q)) > 190 for q in centres):
            got = _compound(rng, names, com, p, inside, placer)
            if got:
                made += got
                centres.append(p)
                continue
        fails += 1
        if fails % 400 == 0:  # this community has little room near the core: look further out
            radius += 300
    return made


def _fill_rural(rng, names, com, inside, placer) -> list[Building]:
    target = int(rng.integers(*_VILLAGE_TARGET))
    core = com.geom.buffer(-300)
    made: list[Building] = []
    first = com.name.removesuffix("村")
    minx, miny, maxx, maxy = core.bounds
    centres: list[np.ndarray] = []
    tries = 0
    while (have := sum(len(b.rooms) for b in made)) < target:
        tries += 1
        assert tries < 5000, com.name
        p = com.seat if not centres and tries == 1 else None
        if p is None:
            p = np.array([rng.uniform(minx, maxx), rng.uniform(miny, maxy)])
        if not core.contains(Point(p)) or any(np.hypot(*(p - q)) < 900 for q in centres):
            continue
        want = min(int(rng.integers(170, 330)), target - have + 10)
        got = _hamlet(rng, names, com, p, inside, placer, want, first if not centres else None)
        if got:
            made += got
            centres.append(p)
    return made
