"""Coordinate reference systems over OGC API – Features Part 2 (CRS by reference).

A collection is offered in CRS84 (the default: longitude, latitude), EPSG:4326 (WGS 84), EPSG:4490
(CGCS2000, the storage CRS) and the CGCS2000 3-degree Gauss-Krüger zone of its data, both as the
numbered zone (EPSG:4513–4533, zone number in the false easting) and by central meridian
(EPSG:4534–4554), the zone chosen from the data's longitude by ``gis.projection``.

Axis order follows the CRS's definition, as Part 2 requires of every CRS but CRS84: EPSG:4326 and
EPSG:4490 are (latitude, longitude), the Gauss-Krüger CRSs are (northing, easting) in EPSG's
definition, and the same order applies to ``bbox`` given with ``bbox-crs``. The order is read from
the CRS's definition (pyproj), not from a list of codes. Reprojection is PostGIS's ``ST_Transform``
(every code above is in PostGIS's ``spatial_ref_sys``); CGCS2000 and WGS 84 differ by well under a
metre, which is why CRS84 is served from the stored CGCS2000 coordinates as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pyproj

from app.base import SRID
from gis.projection import gk_crs_for, gk_zone_epsg_for

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"
_EPSG = re.compile(r"^(?:https?://www\.opengis\.net/def/crs/EPSG/0/|EPSG:|\[EPSG:)(\d{4,5})\]?$")
_CRS84 = {CRS84, "https://www.opengis.net/def/crs/OGC/1.3/CRS84", "OGC:CRS84", "[OGC:CRS84]"}


@dataclass(frozen=True)
class Crs:
    """One CRS a collection is served in."""

    uri: str
    srid: int  # what PostGIS transforms to
    swap: bool  # the CRS's first axis is northing/latitude: coordinates go (y, x)
    decimals: int  # 7 for degrees (~1 cm), 3 for metres (1 mm)

    @property
    def label(self) -> str:
        return "CRS84" if self.uri == CRS84 else f"EPSG:{self.srid}"


@lru_cache(maxsize=64)
def _epsg(code: int) -> Crs:
    crs = pyproj.CRS.from_epsg(code)
    first = crs.axis_info[0].direction.lower() if crs.axis_info else "east"
    return Crs(
        uri=EPSG_URI.format(code),
        srid=code,
        swap=first == "north",
        decimals=7 if crs.is_geographic else 3,
    )


DEFAULT = Crs(uri=CRS84, srid=SRID, swap=False, decimals=7)
STORAGE = _epsg(SRID)


def offered(lon: float | None) -> list[Crs]:
    """The CRSs a collection whose data is centred on ``lon`` is served in (None: no data yet,
    so no Gauss-Krüger zone)."""
    out = [DEFAULT, _epsg(4326), STORAGE]
    if lon is not None:
        try:
            numbered, by_meridian = gk_zone_epsg_for(lon), gk_crs_for(lon).to_epsg()
        except ValueError:  # outside China's zones: only the geographic CRSs
            return out
        out += [_epsg(numbered), _epsg(int(by_meridian or 0))]
    return out


def pick(raw: str | None, choices: list[Crs], *, param: str) -> Crs | None:
    """The CRS named by ``raw`` if it is one of ``choices``; None when ``raw`` is None.

    Raises ValueError (a message for a person) for anything else."""
    if raw is None:
        return None
    value = raw.strip()
    found: Crs | None = None
    if value in _CRS84:
        found = DEFAULT
    elif m := _EPSG.match(value):
        found = next((c for c in choices if c.uri != CRS84 and c.srid == int(m.group(1))), None)
    if found is None or found not in choices:
        names = "、".join(c.uri for c in choices)
        raise ValueError(f"{param} 不支持 {raw}；此集合支持：{names}")
    return found


def content_crs(crs: Crs) -> str:
    """The ``Content-Crs`` header: the URI in angle brackets."""
    return f"<{crs.uri}>"
