"""Area and grid codes (docs/domain.md#hierarchy-and-codes): the level a code names, from its length
alone (6 digits a county, 9 a township, 12 a community, 15 a grid; nothing else is a code), and grid
code allocation: 12-digit community code + a 3-digit serial; serials run west to east, then north to south, and a serial once used in a community is
never handed out again (a retired code still names its history)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from shapely.geometry.base import BaseGeometry

MAX_SERIAL = 999

LEVEL_BY_LENGTH = {6: "county", 9: "township", 12: "community", 15: "grid"}
LENGTH_BY_LEVEL = {level: n for n, level in LEVEL_BY_LENGTH.items()}


class BadAreaCode(ValueError):
    """Not an area or grid code; the message (Chinese) says what one looks like."""


def level_of(code: str) -> str:
    """The level an area or grid code names, from its length alone; anything else is refused.

    >>> [level_of(c) for c in ("419901", "419901001", "419901001001", "419901001001001")]
    ['county', 'township', 'community', 'grid']
    >>> level_of("4199010")
    Traceback (most recent call last):
    ...
    gis.codes.BadAreaCode: 区划编码“4199010”格式有误（6、9、12或15位数字）
    """
    level = LEVEL_BY_LENGTH.get(len(code)) if code.isascii() and code.isdigit() else None
    if level is None:
        raise BadAreaCode(f"区划编码“{code}”格式有误（6、9、12或15位数字）")
    return level


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
