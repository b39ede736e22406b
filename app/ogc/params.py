"""Query parameters of /ogc, read strictly: what OGC API – Features and its checks expect.

Every problem with a parameter is a 400 with an OGC exception body (``app/errors.py`` shapes
errors under /ogc as ``{"code", "description"}``), never FastAPI's 422: a parameter the endpoint
does not know, one given twice, a value that does not parse. ``limit`` above the maximum is not a
problem: it is served at the maximum (Part 1, /req/core/fc-limit-response-1).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import box

from app.base import SRID
from app.errors import GridgovError
from app.ogc.crs import Crs

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 10
MAX_OFFSET = 2**31 - 1

Interval = tuple[dt.date | None, dt.date | None]


class BadParameter(GridgovError):
    """A query parameter that cannot be served as given (OGC API: 400 Bad Request)."""

    status_code = 400


def check_known(query: list[tuple[str, str]], allowed: tuple[str, ...]) -> dict[str, str]:
    """The query as a dict; 400 naming every parameter the endpoint does not know, or any given
    more than once."""
    unknown = sorted({k for k, _ in query if k not in allowed})
    if unknown:
        raise BadParameter(
            f"不支持的查询参数：{'、'.join(unknown)}（此处可用：{'、'.join(allowed)}）",
            unknown=unknown,
        )
    seen: dict[str, str] = {}
    for k, v in query:
        if k in seen:
            raise BadParameter(f"查询参数 {k} 只能给一次")
        seen[k] = v
    return seen


def parse_int(raw: str | None, name: str, default: int, *, low: int, high: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise BadParameter(f"{name} 应为整数，而不是 {raw!r}") from exc
    if value < low:
        raise BadParameter(f"{name} 应不小于 {low}")
    return min(value, high)


def parse_limit(raw: str | None) -> int:
    """1 or more; more than MAX_LIMIT is served as MAX_LIMIT (GDAL asks for PAGE_SIZE=20000)."""
    return parse_int(raw, "limit", DEFAULT_LIMIT, low=1, high=MAX_LIMIT)


def parse_offset(raw: str | None) -> int:
    value = parse_int(raw, "offset", 0, low=0, high=MAX_OFFSET + 1)
    if value > MAX_OFFSET:
        raise BadParameter(f"offset 应不大于 {MAX_OFFSET}")
    return value


def parse_bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    """4 numbers (or 6, heights dropped), in the order of the bbox's CRS axes."""
    if raw is None:
        return None
    try:
        parts = [float(v) for v in raw.split(",")]
    except ValueError as exc:
        raise BadParameter("bbox 应为 4 个数字：minx,miny,maxx,maxy") from exc
    if len(parts) == 6:  # 3D bbox: drop the heights
        parts = [parts[0], parts[1], parts[3], parts[4]]
    if len(parts) != 4 or not all(map(_finite, parts)):
        raise BadParameter("bbox 应为 4 个数字：minx,miny,maxx,maxy")
    if parts[0] > parts[2] or parts[1] > parts[3]:
        raise BadParameter("bbox 有误：最小值不能大于最大值（minx,miny,maxx,maxy）")
    return parts[0], parts[1], parts[2], parts[3]


def _finite(v: float) -> bool:
    return v == v and abs(v) != float("inf")


def bbox_polygon(bbox: tuple[float, float, float, float], crs: Crs) -> str:
    """The bbox given in ``crs`` (its axis order) as a lon/lat (EPSG:4490) polygon WKT.

    A projected box is densified before it is transformed (its edges are straight in metres, not
    in degrees); a box outside the CRS's zone is a 400."""
    a, b, c, d = bbox
    minx, miny, maxx, maxy = (b, a, d, c) if crs.swap else (a, b, c, d)
    if crs.decimals == 7:  # geographic: degrees
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise BadParameter(
                f"bbox 超出经纬度范围（{crs.label} 的轴顺序为"
                f"{'纬度,经度' if crs.swap else '经度,纬度'}）"
            )
        return box(minx, miny, maxx, maxy).wkt
    poly = shapely.segmentize(box(minx, miny, maxx, maxy), max(maxx - minx, maxy - miny) / 64 or 1)
    t = Transformer.from_crs(crs.srid, SRID, always_xy=True)
    out = shapely.transform(poly, lambda xy: _stack(t, xy))
    lon0, lat0, lon1, lat1 = out.bounds
    if not (
        all(map(_finite, out.bounds)) and -180 <= lon0 <= lon1 <= 180 and -90 <= lat0 <= lat1 <= 90
    ):
        raise BadParameter(f"bbox 不在 {crs.label} 的范围内（轴顺序：北坐标,东坐标）")
    return out.wkt


def _stack(t: Transformer, xy: np.ndarray) -> np.ndarray:
    x, y = t.transform(xy[:, 0], xy[:, 1], errcheck=False)
    return np.column_stack([x, y])


def _instant(raw: str) -> dt.date | None:
    if raw in ("..", ""):
        return None
    try:
        if len(raw) == 10:
            return dt.date.fromisoformat(raw)
        return dt.datetime.fromisoformat(raw.replace("Z", "+00:00")).date()
    except ValueError as exc:
        raise BadParameter(
            f"datetime 格式有误：{raw}（应为 RFC 3339，如 2026-03-01 或区间 2026-01-01/..）"
        ) from exc


def parse_datetime(raw: str | None) -> Interval | None:
    """An instant is the interval [t, t]; 'a/b' with '..' (or nothing) for an open end."""
    if raw is None:
        return None
    if "/" in raw:
        start, end = raw.split("/", 1)
        interval = _instant(start), _instant(end)
        if interval[0] and interval[1] and interval[0] > interval[1]:
            raise BadParameter(f"datetime 区间有误：开始晚于结束（{raw}）")
        return interval
    day = _instant(raw)
    if day is None:
        raise BadParameter("datetime 应为时刻或区间（如 2026-03-01 或 2026-01-01/..）")
    return day, day
