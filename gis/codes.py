"""Area and grid codes (docs/domain.md#hierarchy-and-codes): the level a code names, from its length
alone (2 digits a province, 4 a prefecture, 6 a county, 9 a township, 12 a community, 15 a grid,
17 a micro-grid (微网格) inside a grid; nothing else is a code), the one canonical form of a code written with trailing zeros (330200 and
330200000000 are the prefecture 3302, as GB/T 2260 and the statistical area codes pad them), and
grid code allocation: 12-digit community code + a 3-digit serial; serials run west to east, then
north to south, and a serial once used in a community is never handed out again (a retired code
still names its history). A micro-grid's code is its grid's 15 digits + a 2-digit serial
(01–99), allocated the same way inside the grid."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from shapely.geometry.base import BaseGeometry

MAX_SERIAL = 999

LEVEL_BY_LENGTH = {
    2: "province",
    4: "prefecture",
    6: "county",
    9: "township",
    12: "community",
    15: "grid",
    17: "micro_grid",
}
LENGTH_BY_LEVEL = {level: n for n, level in LEVEL_BY_LENGTH.items()}
# The levels an area can have, from the top down (a grid is not an area).
AREA_LEVELS = ("province", "prefecture", "county", "township", "community")
MICRO_GRID_LENGTH = 17
MAX_MICRO_SERIAL = 99
# What a padded code's trailing zeros stand for: (length, zeros) → the shorter code's length.
_PADDING = ((12, 3), (9, 3), (6, 2), (4, 2))


class BadAreaCode(ValueError):
    """Not an area or grid code; the message (Chinese) says what one looks like."""


def _refuse(code: str) -> BadAreaCode:
    return BadAreaCode(f"区划编码“{code}”格式有误（2、4、6、9、12或15位数字）")


def canonical(code: str) -> str:
    """The one form of an area or grid code: trailing zero groups dropped, level by level.

    The 统计用区划代码 write every area in 12 digits and GB/T 2260 writes provinces and
    prefectures in 6, padding with zeros: 330000 is the province 33, 330200 (or 330200000000) the
    prefecture 3302, 330203000000 the county 330203. A grid code (15 digits) and a micro-grid code
    (17) are kept as they are.

    >>> [canonical(c) for c in ("330000", "330200", "330200000000", "330203000000", "330203001")]
    ['33', '3302', '3302', '330203', '330203001']
    >>> canonical("000000")
    Traceback (most recent call last):
    ...
    gis.codes.BadAreaCode: 区划编码“000000”格式有误（2、4、6、9、12或15位数字）
    """
    if not (code.isascii() and code.isdigit()) or len(code) not in LEVEL_BY_LENGTH:
        raise _refuse(code)
    short = code
    for length, zeros in _PADDING:
        if len(short) == length and short.endswith("0" * zeros):
            short = short[:-zeros]
    if short.startswith("00"):  # no province is numbered 00
        raise _refuse(code)
    return short


def level_of(code: str) -> str:
    """The level an area or grid code names, from the length of its canonical form alone;
    anything else is refused.

    >>> [level_of(c) for c in ("41", "4199", "419901", "419901001", "419901001001", "419901001001001")]
    ['province', 'prefecture', 'county', 'township', 'community', 'grid']
    >>> level_of("41990100100100101")
    'micro_grid'
    >>> level_of("330200")
    'prefecture'
    >>> level_of("4199010")
    Traceback (most recent call last):
    ...
    gis.codes.BadAreaCode: 区划编码“4199010”格式有误（2、4、6、9、12或15位数字）
    """
    return LEVEL_BY_LENGTH[len(canonical(code))]


def ancestors(code: str) -> list[str]:
    """The canonical codes of the areas above ``code``, from the province down (codes nest by
    prefix). A prefix that is itself padding collapses into the level above it: a township of a
    prefecture without counties (4419 东莞市 → 441900003) has ancestors 44 and 4419.

    >>> ancestors("419901001001")
    ['41', '4199', '419901', '419901001']
    >>> ancestors("441900003")
    ['44', '4419']
    >>> parent_of("41990100100100101")
    '419901001001001'
    """
    own = canonical(code)
    found: list[str] = []
    for n in sorted(LEVEL_BY_LENGTH):
        if n >= len(own):
            break
        prefix = canonical(own[:n]) if not own[:n].startswith("00") else None
        if prefix and prefix not in found:
            found.append(prefix)
    return found


def parent_of(code: str) -> str | None:
    """The canonical code of the area just above ``code`` by its digits (None for a province)."""
    above = ancestors(code)
    return above[-1] if above else None


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


def micro_grid_parent(code: str) -> str:
    """The grid a micro-grid code belongs to (its first 15 digits); anything that is not a
    17-digit micro-grid code is refused with a message naming what one looks like.

    >>> micro_grid_parent("41990100100100107")
    '419901001001001'
    >>> micro_grid_parent("419901001001001")
    Traceback (most recent call last):
    ...
    gis.codes.BadAreaCode: 微网格编码“419901001001001”格式有误：应为所属网格的15位编码加2位序号（共17位数字）
    """
    if not (code.isascii() and code.isdigit()) or len(code) != MICRO_GRID_LENGTH:
        raise BadAreaCode(
            f"微网格编码“{code}”格式有误：应为所属网格的15位编码加2位序号（共17位数字）"
        )
    if code.endswith("00"):
        raise BadAreaCode(f"微网格编码“{code}”的序号应为01–99")
    return code[:15]


def allocate_micro(
    grid_code: str, geoms: Sequence[BaseGeometry], used_serials: set[int]
) -> list[str]:
    """Codes for new micro-grids ``geoms`` inside grid ``grid_code``: the smallest unused 2-digit
    serials (01–99) in reading order, a serial once used never handed out again.

    >>> from shapely.geometry import box
    >>> allocate_micro("419901001001001", [box(1, 0, 2, 1), box(0, 0, 1, 1)], {1})
    ['41990100100100103', '41990100100100102']
    """
    free = (s for s in range(1, MAX_MICRO_SERIAL + 1) if s not in used_serials)
    codes: list[str] = [""] * len(geoms)
    for i in reading_order(geoms):
        serial = next(free, None)
        if serial is None:
            raise SerialsExhausted(f"网格 {grid_code} 的微网格序号已用尽（01–99）")
        codes[i] = f"{grid_code}{serial:02d}"
    return codes
