"""Households, staff and the GCJ-02 phone survey of the demo county. All people are invented."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import TYPE_CHECKING

import numpy as np
from _demo_buildings import Building
from _demo_grids import Grid
from _demo_names import SURNAMES, NameMaker, cn_number

if TYPE_CHECKING:
    from _demo_survey import Surveyed

SPECIAL_GROUPS = (
    "hardship",
    "critically_ill",
    "empty_nest_elderly",
    "left_behind_child",
    "petitioner",
    "disabled",
    "community_correction",
)
# Relative frequency of each flag among flagged households, in town and in the villages.
_FLAG_WEIGHTS = {
    True: [0.15, 0.10, 0.40, 0.03, 0.07, 0.20, 0.05],
    False: [0.15, 0.06, 0.30, 0.30, 0.04, 0.12, 0.03],
}
FLAGGED_SHARE = 0.04  # households with at least one special-group flag
_SIZES = [0.14, 0.30, 0.26, 0.18, 0.08, 0.04]  # 1..6 persons
ENDED_ON = dt.date(2026, 6, 30)


class Phones:
    """Unique synthetic mobile numbers 170-xxxx-xxxx (never checked against real subscribers)."""

    def __init__(self, rng: np.random.Generator, n: int) -> None:
        self._pool = rng.choice(100_000_000, size=n, replace=False)
        self._next = 0

    def __call__(self) -> str:
        v = int(self._pool[self._next])
        self._next += 1
        return f"170-{v // 10_000:04d}-{v % 10_000:04d}"


def address(b: Building | Surveyed) -> str:
    com = b.community
    return f"示范县{com.township_name}{com.name}{b.compound}{b.name}"


def aliases(b: Building | Surveyed) -> str:
    if b.urban:
        return f"{b.compound}{b.number}栋|{b.compound}{cn_number(b.number)}号楼"
    return f"{b.compound}{cn_number(b.number)}排|{b.community.name}{b.compound}{b.number}排"


def households(rng: np.random.Generator, names: NameMaker, phones: Phones, buildings):
    rows = []
    for b in buildings:
        clan = next((ch for ch in b.compound if ch in SURNAMES), None) if not b.urban else None
        for unit, room in b.rooms:
            flags: list[str] = []
            if rng.random() < FLAGGED_SHARE:
                p = np.array(_FLAG_WEIGHTS[b.urban])
                k = 2 if rng.random() < 0.15 else 1
                flags = [SPECIAL_GROUPS[i] for i in sorted(rng.choice(7, k, replace=False, p=p))]
            size = int(rng.choice(6, p=_SIZES)) + 1
            if "empty_nest_elderly" in flags:
                size = min(size, 2)
            elif "left_behind_child" in flags:
                size = max(size, 2)
            surname = clan if clan and rng.random() < 0.5 else None
            rows.append(
                {
                    "building_code": b.code,
                    "unit": unit,
                    "room": room,
                    "size": size,
                    "head_name": names.person(surname),
                    "phone": phones(),
                    "special_groups": ";".join(flags),
                }
            )
    return rows


def _date(rng: np.random.Generator, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=int(rng.integers((end - start).days + 1)))


def staff(rng, names: NameMaker, phones: Phones, grids: list[Grid], leaderless, ended):
    """Assignments, one row each; a part-time worker serving two grids has two rows."""
    rows: list[dict] = []
    seq = iter(range(1, 100_000))
    people: dict[str, tuple[str, str, str]] = {}

    def person(employment: str) -> str:
        code = f"S{next(seq):05d}"
        people[code] = (names.person(), phones(), employment)
        return code

    def row(code, role, grid, building="", start=None, end=""):
        name, phone, employment = people[code]
        start = start or _date(rng, dt.date(2021, 1, 1), dt.date(2025, 12, 31))
        rows.append(
            {
                "staff_code": code,
                "name": name,
                "phone": phone,
                "employment": employment,
                "role": role,
                "grid_code": grid.code,
                "building_code": building,
                "start_date": start.isoformat(),
                "end_date": end,
            }
        )

    for g in grids:
        dedicated = g.type == "dedicated"
        if g.code == ended:
            row(
                person("full_time"),
                "leader",
                g,
                start=dt.date(2023, 3, 1),
                end=ENDED_ON.isoformat(),
            )
        elif g.code not in leaderless:
            row(person("part_time" if dedicated else "full_time"), "leader", g)
        row(person("part_time" if dedicated else "full_time"), "worker", g)
    # Part-time workers, each serving two neighbouring grids (consecutive serials) of one community.
    comp = [g for g in grids if g.type == "comprehensive"]
    shared: set[str] = set()
    for a, b in itertools.pairwise(comp):
        # At most two workers per grid: the full-time one and at most one part-timer.
        if a.community is b.community and a.code not in shared and rng.random() < 0.3:
            shared |= {a.code, b.code}
            code = person("part_time")
            start = _date(rng, dt.date(2022, 1, 1), dt.date(2025, 12, 31))
            row(code, "worker", a, start=start)
            row(code, "worker", b, start=start)
    # Building leaders and unit stewards in some urban buildings (the 网格员—楼栋长—单元管家 chain).
    urban = [(g, b) for g in comp for b in g.buildings if b.urban]
    picks = rng.choice(len(urban), 40, replace=False)
    for n, i in enumerate(sorted(picks)):
        g, b = urban[i]
        row(person("part_time"), "building_leader" if n % 3 else "unit_steward", g, b.code)
    return rows
