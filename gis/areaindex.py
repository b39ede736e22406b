"""Which areas hold a point, at every level (province … community), in memory.

Areas of one level do not overlap, so a point lies in at most one per level, except on a shared
boundary, where the smaller code is taken (the edge rule routing uses for grids, docs/domain.md
#grids). A code's ancestors are its prefixes (gis.codes.ancestors), so the areas above a known area
are found by code even where a point test is not needed (a grid's community names its county).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gis.codes import AREA_LEVELS, ancestors


@dataclass(frozen=True)
class AreaEntry:
    code: str
    name: str
    level: str


class AreaIndex:
    """Current areas of every level, answering "which areas hold (x, y)" with an STR-tree."""

    def __init__(self, entries: Sequence[AreaEntry], geoms: Sequence[BaseGeometry]) -> None:
        self.entries = list(entries)
        self.by_code = {e.code: e for e in self.entries}
        self._geoms = np.asarray(geoms, dtype=object)
        shapely.prepare(self._geoms)
        self._tree = shapely.STRtree(self._geoms)

    def __len__(self) -> int:
        return len(self.entries)

    def at(self, x: float, y: float) -> dict[str, AreaEntry | None]:
        """The area of each level holding the point (boundary included), None where there is none."""
        found: dict[str, AreaEntry | None] = dict.fromkeys(AREA_LEVELS)
        if not self.entries:
            return found
        point = shapely.points(x, y)
        hits = self._tree.query(point, predicate="intersects")
        for i in sorted(hits, key=lambda k: self.entries[k].code):
            entry = self.entries[i]
            if found.get(entry.level) is None:
                found[entry.level] = entry
        return found

    def above(self, code: str) -> dict[str, AreaEntry | None]:
        """The area ``code`` and those above it, by level, as far as they are known."""
        found: dict[str, AreaEntry | None] = dict.fromkeys(AREA_LEVELS)
        for c in (*ancestors(code), code):
            entry = self.by_code.get(c)
            if entry is not None:
                found[entry.level] = entry
        return found
