"""The rules of a standard address, shared by the import, the API and the geocoder's gazetteer
(docs/addresses.md): how a door number is written, which side odd numbers stand on, and where a
door number without a surveyed point stands."""

from __future__ import annotations

import re

from shapely.geometry import LineString, Point

from app.geocode.address import cn_to_int, normalize
from gis.addressing import interpolate_door

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
