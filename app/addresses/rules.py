"""The rules of a standard address, shared by the import, the API and the geocoder's gazetteer
(docs/addresses.md): how a door number is written, which side odd numbers stand on, and where a
door number without a surveyed point stands."""

from __future__ import annotations

import re
from typing import Any

import shapely
from shapely.geometry import LineString, Point

from app.geocode.address import cn_to_int, normalize
from gis.addressing import interpolate_door
from gis.repair import in_china

MAX_NUMBER = 99_999
_DOOR = re.compile(
    r"^([0-9]+|[零〇一二两三四五六七八九十百千]+)号?(?:(?:-|之|附)([0-9]+)|([A-Z]))?号?$"
)
ODD_SIDE_WORDS = {"left": "left", "right": "right", "左": "left", "右": "right", "左单右双": "left",
                  "右单左双": "right"}  # fmt: skip


def door_label(road: str, number: int, suffix: str) -> str:
    """How the door is written: "人民路15号", "人民路15-1号"."""
    return f"{road}{number}{suffix}号"


def parse_door(text: str, suffix: str = "") -> tuple[int, str] | None:
    """(number, suffix) of a door number as written ("15", "15号", "十五号", "15-1", "15之1",
    "15A"), or None when it is not one. ``suffix`` given apart ("-1", "1") wins.

    >>> parse_door("15号"), parse_door("十五"), parse_door("15之1"), parse_door("15", "1")
    ((15, ''), (15, ''), (15, '-1'), (15, '-1'))
    >>> parse_door("第15号") is None, parse_door("0") is None
    (True, True)
    """
    m = _DOOR.match(normalize(text))
    if m is None:
        return None
    number = cn_to_int(m.group(1))
    if number is None or not 0 < number <= MAX_NUMBER:
        return None
    extra = normalize(suffix).lstrip("-")
    if extra:
        if not (extra.isdigit() or (len(extra) == 1 and extra.isalpha())):
            return None
        return number, f"-{int(extra)}" if extra.isdigit() else extra
    if m.group(2):
        return number, f"-{int(m.group(2))}"
    return number, m.group(3) or ""


def odd_side_of(word: str) -> str | None:
    """ "left"/"right" from the words files use (left, 左, 左单右双 …); "" means left."""
    return ODD_SIDE_WORDS.get(word.strip() or "left")


def place_door(
    line: LineString | None, number: int, first: int | None, last: int | None, odd_side: str
) -> Point | None:
    """The interpolated point of a door on its road, or None when the road has no line or no
    numbering range to interpolate over."""
    if line is None or line.is_empty or first is None or last is None or last <= first:
        return None
    return interpolate_door(line, number, first, last, odd_side=odd_side)


def road_line(geom: Any) -> tuple[LineString | None, str | None]:
    """A road's centre line as one LineString (pieces that join are merged), or why not; no
    geometry is (None, None): a road may be registered before it is drawn."""
    if geom is None or geom.is_empty:
        return None, None
    parts = [shapely.force_2d(g) for g in shapely.get_parts(geom)]
    if not all(p.geom_type == "LineString" and p.length > 0 for p in parts):
        return None, "道路几何需为线（中心线 LineString）"
    merged = shapely.line_merge(shapely.MultiLineString(parts)) if len(parts) > 1 else parts[0]
    if merged.geom_type != "LineString":
        return None, "道路的几段线不相连：请合并为一条连续的中心线，或拆成不同名称的道路"
    if not merged.is_valid:
        return None, "道路中心线无效（自相交或重复点）"
    if not in_china(merged):
        return None, "坐标不在中国范围内：请检查坐标系（--crs）或经纬度是否颠倒"
    return merged, None
