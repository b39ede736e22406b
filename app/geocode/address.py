"""Pure parser for free-text Chinese addresses (no database, no web).

The parser reads an address the way a dispatcher does: administrative levels from the largest
to the smallest (province, city, county, township, community), then the compound (小区) as the
text between the last administrative level and the first house number, then building, unit and
room. Whatever it cannot place goes to ``remainder``; it never raises.

Numbers are returned as Arabic digits without leading zeros ("三号楼" and "03栋" are both
building "3"); rooms keep their digits as written ("0501" stays "0501").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import cn2an

__all__ = [
    "ParsedAddress",
    "area_key",
    "building_key",
    "cn_to_int",
    "compound_key",
    "normalize",
    "parse_address",
]

# Traditional forms that NFKC leaves alone but people paste from old documents.
_TRADITIONAL = str.maketrans("號樓棟單區縣鎮鄉莊園", "号楼栋单区县镇乡庄园")
# Dash look-alikes: NFKC folds the full-width hyphen but not these.
_DASHES = str.maketrans({c: "-" for c in "‐‑‒–—―−~～"})
_KEEP = frozenset("#-")

_CN = "零〇一二两三四五六七八九十百千"
_NUM = rf"(?:[0-9]+|[{_CN}]+)"
_BNUM = rf"(?:[0-9]+|[{_CN}]+|[A-Z])"
_NOT_COMPOUND = r"(?!院|花园|小区|公寓|大厦|家园|广场)"
_BMARK = rf"(?:号楼|#楼|栋|幢|座|排|号{_NOT_COMPOUND}|#|楼)"  # 排: a village's row of houses

# Markers of the compound (小区) level, longest first so "花园" wins over "园".
_COMPOUND_MARK = re.compile(
    r"小区|花园|家园|公寓|大厦|广场|新村|山庄|家属院|大院|苑|园|城|庄|营|寨|府|院|湾"
)
# Phase/zone suffix that still belongs to the compound ("二期", "东区").
_COMPOUND_TAIL = re.compile(rf"(?:{_NUM}期|[东南西北中][区院])")
# Text after an administrative marker that shows the marker was really part of a longer name.
_CUT_NAME = r"(?!社区|居委会|村委会|小区|花园|家园|公寓|大厦|广场|新村|街道|路|街|巷)"
_LOWER_THAN_COMMUNITY = r"小区|花园|家园|公寓|大厦|广场|[0-9#\-]"
_LOWER_THAN_TOWNSHIP = rf"社区|村|居委会|{_LOWER_THAN_COMMUNITY}"
_LOWER_THAN_COUNTY = rf"街道|镇|乡|{_LOWER_THAN_TOWNSHIP}"
_LOWER_THAN_CITY = rf"县|区|{_LOWER_THAN_COUNTY}"

# (field, pattern, forbidden-in-name pattern): tried in order, each optional.
_ADMIN = [
    (
        "province",
        re.compile(rf"(?:北京|天津|上海|重庆)市|.{{2,7}}?(?:省|自治区|特别行政区){_CUT_NAME}"),
        re.compile(rf"市|{_LOWER_THAN_CITY}"),
    ),
    (
        "city",
        re.compile(rf".{{2,9}}?(?:市|自治州|地区|盟){_CUT_NAME}"),
        re.compile(_LOWER_THAN_CITY),
    ),
    (
        "county",
        re.compile(rf".{{1,9}}?(?:县|(?<![社小园景校厂矿营])区|旗|市){_CUT_NAME}"),
        re.compile(_LOWER_THAN_COUNTY),
    ),
    (
        "township",
        re.compile(rf".{{2,8}}?(?:街道办事处|街道办|街道|镇|乡|苏木){_CUT_NAME}"),
        re.compile(_LOWER_THAN_TOWNSHIP),
    ),
    (
        "community",
        re.compile(
            r".{1,10}?(?:社区居民委员会|社区居委会|居民委员会|村民委员会|居委会|村委会|社区"
            r"|(?<!新)村(?!委|民))"
        ),
        re.compile(_LOWER_THAN_COMMUNITY),
    ),
]
# Official long forms -> the short form gazetteers use.
_AREA_SUFFIXES = [
    ("街道办事处", "街道"),
    ("街道办", "街道"),
    ("社区居民委员会", "社区"),
    ("社区居委会", "社区"),
    ("居民委员会", "社区"),
    ("居委会", "社区"),
    ("村民委员会", "村"),
    ("村委会", "村"),
]

# Where house numbers start: digits (not a phase such as "2期"), or a Chinese numeral / letter
# directly followed by a building, unit, group or floor marker.
_TOKEN_START = re.compile(
    rf"[0-9]+(?![0-9]*期)|(?:[{_CN}]+|[A-Z])(?={_BMARK}|单元|组|小组|队|层|室)"
)
_TRIPLE = re.compile(r"([0-9]+)-([0-9]+)-([0-9]+)(?:室|号|户)?")
_PAIR = re.compile(r"([0-9]+)-([0-9]+)(?:室|号|户)?")
_GROUP = re.compile(rf"({_NUM})(?:村民小组|小组|组|队)")
_BUILDING = re.compile(rf"({_BNUM})({_BMARK})")
_UNIT = re.compile(rf"({_BNUM})单元")
_FLOOR = re.compile(rf"{_NUM}层")
_ROOM = re.compile(rf"([0-9]{{1,5}})(?![0-9])(?:室|号|户|房)?|({_NUM})室")
_JUNK_NUMBER = re.compile(r"[0-9]+")
# A road, street or lane (街路巷) and its door number (门牌号): "人民路15号", "解放街十二号",
# "文化巷3-1号", "人民路15号院"; the 号 may be left off only at the end ("人民路15").
_ROAD = re.compile(
    rf"(.{{1,12}}?(?:大道|大街|胡同|路|街|巷|弄))({_NUM})(?:号?(?:-|之|附)([0-9]+))?"
    rf"(?:号(?![楼])院?|$)"
)
_COUNTRY = re.compile(r"^(?:中华人民共和国|中国)")


@dataclass(frozen=True)
class ParsedAddress:
    """The parts of an address; every field is optional.

    ``group`` is the villager group (村民小组, "3组" -> "3"), the rural counterpart of a compound.
    """

    province: str | None = None
    city: str | None = None
    county: str | None = None
    township: str | None = None
    community: str | None = None
    compound: str | None = None
    group: str | None = None
    road: str | None = None
    door: str | None = None
    door_suffix: str | None = None
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    remainder: str | None = None


def normalize(text: str) -> str:
    """Canonical form of address text for parsing and comparison.

    NFKC (full-width digits, letters and ``＃`` become ASCII), common traditional characters to
    simplified, dash look-alikes to ``-``, whitespace, punctuation and symbols removed except
    ``#`` and ``-`` (they carry meaning in "3#楼" and "1-2-501"), Latin letters upper-cased.

    Parameters
    ----------
    text : str
        Any text; non-strings give "".

    Returns
    -------
    str

    Examples
    --------
    >>> normalize(" 阳光花园 ３号楼，２单元 ")
    '阳光花园3号楼2单元'
    """
    if not isinstance(text, str):
        return ""
    folded = unicodedata.normalize("NFKC", text).translate(_TRADITIONAL).translate(_DASHES)
    kept = [
        ch
        for ch in folded
        if ch in _KEEP or unicodedata.category(ch)[0] not in "PSZC"  # punct, symbol, space, ctl
    ]
    out = re.sub(r"-{2,}", "-", "".join(kept).upper())
    return out.strip("-")


def cn_to_int(numeral: str) -> int | None:
    """Value of a Chinese (or Arabic) numeral: "十二" -> 12, "一百零五" -> 105, "五零一" -> 501.

    Returns None for anything that is not a numeral. Chinese numerals are read by cn2an (its
    "smart" mode reads both the counting form "一百零五" and digit by digit "五零一").
    """
    if not numeral:
        return None
    if numeral.isascii() and numeral.isdigit():
        return int(numeral)
    return _cn_value(numeral)


@functools.lru_cache(maxsize=4096)
def _cn_value(numeral: str) -> int | None:
    if any(ch not in _CN for ch in numeral):
        return None
    try:
        value = cn2an.cn2an(numeral, "smart")
    except (ValueError, KeyError, IndexError):
        return _lenient(numeral)
    return int(value) if float(value).is_integer() and value >= 0 else None


_CN_DIGITS = dict(
    zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True)
)
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}


def _lenient(numeral: str) -> int:
    """What a person most likely meant by a numeral cn2an refuses as malformed ("百" for 一百,
    "十百"): each unit multiplies the digit before it (1 when none), and the parts add up."""
    total, digit = 0, None
    for ch in numeral:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        else:
            total += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
    return total + (digit or 0)


def _number(token: str) -> str:
    """Building/unit number as Arabic digits without leading zeros; letters stay letters."""
    value = cn_to_int(token)
    return token if value is None else str(value)


@functools.lru_cache(maxsize=65536)
def area_key(name: str) -> str:
    """Comparison key for a township or community name ("幸福社区居委会" -> "幸福社区")."""
    key = normalize(name)
    for long, short in _AREA_SUFFIXES:
        if key.endswith(long) and len(key) > len(long):
            return key[: -len(long)] + short
    return key


@functools.lru_cache(maxsize=65536)
def compound_key(name: str) -> str:
    """Comparison key for a compound name.

    A trailing "小区" is dropped (people add it to every name) and phase/group numerals become
    digits, so "阳光花园小区" == "阳光花园" and "阳光花园二期" == "阳光花园2期".
    """
    key = normalize(name)
    key = re.sub(rf"([{_CN}]+)(?=期|组)", lambda m: _number(m.group(1)), key)
    if key.endswith("小区") and len(key) > 3:
        key = key[:-2]
    return key


@functools.lru_cache(maxsize=65536)
def building_key(name: str) -> str:
    """Comparison key for a building name: its number ("三号楼", "3栋" -> "3") or the name."""
    number = parse_address(name).building
    return number if number is not None else normalize(name)


def parse_address(text: str) -> ParsedAddress:
    """Split a free-text Chinese address into its parts.

    Parameters
    ----------
    text : str
        Address as typed by a person, e.g. "示范县城关街道幸福社区阳光花园３号楼二单元501室".

    Returns
    -------
    ParsedAddress
        Fields that were found; text that fits nowhere is in ``remainder``. Never raises.

    Notes
    -----
    Building markers 号楼/栋/幢/座/号/楼/#楼/# ("A座" gives building "A"). "N楼" is a floor,
    not a building, when a building is already known or when the room that follows starts with
    N ("5楼501"). "a-b-c" is building a, unit b, room c; "a-b" is building-room, or unit-room
    once the building is known. A bare number is a room when it has three or more digits or a
    building/unit/floor came before it, otherwise a building.

    Examples
    --------
    >>> p = parse_address("幸福社区阳光花园三号楼2单元501")
    >>> (p.community, p.compound, p.building, p.unit, p.room)
    ('幸福社区', '阳光花园', '3', '2', '501')
    """
    s = _COUNTRY.sub("", normalize(text))
    fields: dict[str, str] = {}
    pos = 0
    for field, pattern, forbidden in _ADMIN:
        m = pattern.match(s, pos)
        if m is None:
            continue
        name = m.group(0)
        if forbidden.search(_strip_marker(name)):
            continue  # the match ran past a lower level's marker: not this level
        fields[field] = area_key(name)
        pos = m.end()
    rest = s[pos:]
    road = _ROAD.match(rest)
    if road and cn_to_int(road.group(2)):
        fields["road"] = road.group(1)
        fields["door"] = str(cn_to_int(road.group(2)))
        if road.group(3):
            fields["door_suffix"] = f"-{int(road.group(3))}"
        rest = rest[road.end() :]
    start = _TOKEN_START.search(rest)
    cut = start.start() if start else len(rest)
    leftovers: list[str] = []
    compound, after = _split_compound(rest[:cut].strip("-#"), has_number=start is not None)
    if compound:
        fields["compound"] = compound
    if after:
        leftovers.append(after)
    _parse_numbers(rest[cut:], fields, leftovers)
    remainder = "".join(leftovers).strip("-#")
    if remainder:
        fields["remainder"] = remainder
    return ParsedAddress(**fields)


def _strip_marker(name: str) -> str:
    """The name part of an administrative match, without its level marker."""
    for long, _ in _AREA_SUFFIXES:
        if name.endswith(long):
            return name[: -len(long)]
    for marker in ("自治区", "特别行政区", "自治州", "地区", "街道", "苏木", "社区"):
        if name.endswith(marker):
            return name[: -len(marker)]
    return name[:-1]


def _split_compound(segment: str, *, has_number: bool) -> tuple[str | None, str]:
    """Compound name in the text before the house numbers, and what is left after it."""
    if not segment:
        return None, ""
    last = None
    for last in _COMPOUND_MARK.finditer(segment):  # noqa: B007 - we want the last marker
        pass
    if last is None:
        # No marker: with a number after it the text is still the compound ("阳光3栋").
        return (segment, "") if has_number else (None, segment)
    end = last.end()
    tail = _COMPOUND_TAIL.match(segment, end)
    if tail:
        end = tail.end()
    if has_number and end < len(segment):
        return segment, ""  # "阳光花园东门3栋": keep all, the fuzzy matcher copes with extras
    return segment[:end], segment[end:]


def _parse_numbers(s: str, fields: dict[str, str], leftovers: list[str]) -> None:
    """Group, building, unit, floor and room from the numeric tail of an address."""
    i, floor_seen = 0, False
    while i < len(s):
        if "building" not in fields and "unit" not in fields and (m := _TRIPLE.match(s, i)):
            fields.update(building=str(int(m.group(1))), unit=str(int(m.group(2))))
            fields["room"] = m.group(3)
        elif "group" not in fields and (m := _GROUP.match(s, i)):
            fields["group"] = _number(m.group(1))
        elif m := _BUILDING.match(s, i):
            floor_seen |= _take_building(s, m, fields, leftovers)
        elif "unit" not in fields and (m := _UNIT.match(s, i)):
            fields["unit"] = _number(m.group(1))
        elif m := _FLOOR.match(s, i):
            floor_seen = True
        elif "room" not in fields and (m := _PAIR.match(s, i)):
            first = "building" if "building" not in fields else "unit"
            if first in fields:  # building and unit both known: "a-b" is not a room
                leftovers.append(m.group(0))
            else:
                fields[first] = str(int(m.group(1)))
                fields["room"] = m.group(2)
        elif "room" not in fields and (m := _ROOM.match(s, i)):
            digits = m.group(1)
            if digits is None:
                fields["room"] = _number(m.group(2))
            elif len(digits) < 3 and not (floor_seen or fields.keys() & {"building", "unit"}):
                fields["building"] = str(int(digits))
            else:
                fields["room"] = digits
        elif m := _JUNK_NUMBER.match(s, i):
            leftovers.append(m.group(0))  # a phone number or a second room: not ours to guess
        else:
            leftovers.append(s[i])
            i += 1
            continue
        i = m.end()


def _take_building(s: str, m: re.Match[str], fields: dict[str, str], leftovers: list[str]) -> bool:
    """Apply one building-marker match; True when it turned out to be a floor."""
    number, marker = _number(m.group(1)), m.group(2)
    if marker == "楼":
        room = _ROOM.match(s, m.end())
        following = room.group(1) if room else None
        if "building" in fields or (
            following and len(following) >= 3 and following.lstrip("0").startswith(number)
        ):
            return True  # "3号楼5楼501" and "5楼501": a floor
    if "building" not in fields:
        fields["building"] = number
    elif marker == "号" and "room" not in fields and number.isdigit():
        fields["room"] = m.group(1)  # "3号楼501号"
    else:
        leftovers.append(m.group(0))
    return False
