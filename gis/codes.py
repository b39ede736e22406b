"""Grid code allocation (docs/domain.md#hierarchy-and-codes): 12-digit community code + a 3-digit
serial; serials run west to east, then north to south, and a serial once used in a community is
never handed out again (a retired code still names its history)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from shapely.geometry.base import BaseGeometry

MAX_SERIAL = 999


class SerialsExhausted(ValueError):
    """Every serial 001–999 of a community has been used; the message (Chinese) names it."""


def reading_order(geoms: Sequence[BaseGeometry]) -> list[int]:
    """Indices of ``geoms`` in reading order: rows from north to south, each row west to east.

    A grid starts a new row when its representative point lies more than half a typical grid
    height below the first grid of the current row, so ragged rows still read as rows.
    """
    if not geoms:
        return []
    points = [g.representative_point() for g in geoms]
    heights = [g.bounds[3] - g.bounds[1] for g in geoms]
    tolerance = statistics.median(heights) / 2
    by_y = sorted(range(len(geoms)), key=lambda i: (-points[i].y, points[i].x))
    rows: list[list[int]] = []
    row_top = None
    for i in by_y:
        if row_top is None or row_top - points[i].y > tolerance:
            rows.append([])
            row_top = points[i].y
        rows[-1].append(i)
    return [i for row in rows for i in sorted(row, key=lambda j: points[j].x)]


def allocate(
    community_code: str, geoms: Sequence[BaseGeometry], used_serials: set[int]
) -> list[str]:
    """Codes for new grids ``geoms`` (same order as given), from the smallest unused serials,
    handed out in reading order."""
    free = (s for s in range(1, MAX_SERIAL + 1) if s not in used_serials)
    codes: list[str] = [""] * len(geoms)
    for i in reading_order(geoms):
        serial = next(free, None)
        if serial is None:
            raise SerialsExhausted(f"社区 {community_code} 的网格序号已用尽（001–999）")
        codes[i] = f"{community_code}{serial:03d}"
    return codes
