"""New buildings surveyed by phone: positions reported in GCJ-02, as AMap/Tencent-based apps do.

The true WGS84 position travels alongside so tests can check a conversion. Near 113.6E 34.5N the
GCJ-02 offset is about 550 m east and 160 m south, enough to put a point in the wrong grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from _demo_areas import Area
from _demo_buildings import Building
from _demo_grids import Grid
from _demo_names import NameMaker
from _demo_people import address, aliases
from shapely.geometry import Point


@dataclass
class Surveyed:
    community: Area
    compound: str
    number: int
    urban: bool
    households: int
    point: Point  # metres
    code: str = ""

    @property
    def name(self) -> str:  # the same naming as Building, so address() and aliases() apply
        return f"{self.number}号楼" if self.urban else f"{self.number}排"


def _free(p: Point, region, tree: shapely.STRtree, keepout, clearance: float) -> bool:
    return (
        region.contains(p)
        and keepout.distance(p) > 40
        and not len(tree.query(p.buffer(clearance), predicate="intersects"))
    )


def survey_buildings(
    rng: np.random.Generator,
    names: NameMaker,
    grids: list[Grid],
    buildings: list[Building],
    keepout,
    estates: list[Area],
    hamlet_villages: list[Area],
) -> list[Surveyed]:
    """Five new blocks in each of ``estates``' new compound, and new rows in three villages."""
    tree = shapely.STRtree([b.footprint for b in buildings])
    out: list[Surveyed] = []

    def living_area(com: Area):  # metres; com.geom may already be in lon/lat
        own = [g.geom_m for g in grids if g.community is com and g.type == "comprehensive"]
        return shapely.union_all(own).buffer(-30)

    for com in estates:
        region = living_area(com)
        minx, miny, maxx, maxy = region.bounds
        for _ in range(5000):
            c = np.array([rng.uniform(minx, maxx), rng.uniform(miny, maxy)])
            spots = [Point(c + np.array([dx, dy])) for dy in (0, -45) for dx in (-60, 0, 60)][:5]
            if all(_free(p, region, tree, keepout, 40) for p in spots):
                break
        else:
            raise RuntimeError(f"no room for a new estate in {com.name}")
        name = names.new_estate()
        for i, p in enumerate(spots, start=1):
            out.append(Surveyed(com, name, i, True, int(rng.integers(40, 100)), p))
    for com in hamlet_villages:
        own = [b for b in buildings if b.community is com]
        hamlet = own[int(rng.integers(len(own)))].compound
        rows = [b for b in own if b.compound == hamlet]
        south = min(rows, key=lambda b: b.footprint.centroid.y).footprint.centroid
        region = living_area(com)
        n = len(rows)
        for dx in (-130.0, 0.0, 130.0, -260.0, 260.0, 390.0, -390.0):
            p = Point(south.x + dx, south.y - 45)
            if _free(p, region, tree, keepout, 25):
                n += 1
                out.append(Surveyed(com, hamlet, n, False, int(rng.integers(2, 12)), p))
            if n - len(rows) == 2:
                break
    _number(out, buildings)
    return out


def _number(out: list[Surveyed], buildings: list[Building]) -> None:
    last: dict[str, int] = {}
    for b in buildings:
        last[b.community.code] = max(last.get(b.community.code, 0), int(b.code[-4:]))
    for s in out:
        last[s.community.code] += 1
        s.code = f"{s.community.code}{last[s.community.code]:04d}"


def row(s: Surveyed) -> dict:
    return {
        "code": s.code,
        "name": s.name,
        "compound": s.compound,
        "address": address(s),
        "aliases": aliases(s),
        "households": s.households,
        "community_code": s.community.code,
    }
