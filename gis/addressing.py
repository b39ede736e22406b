"""Where a door number stands on its road, and on which side (docs/addresses.md#locating-a-door-number).

Door numbers run along a road from its line's first point to its last, from ``first`` to
``last``; odd numbers on one side, even numbers on the other (左单右双 by default: odd on the
left walking the way the numbers grow). A number without a surveyed point is placed by linear
interpolation of its value over the numbering range along the line's length, then moved
``offset_m`` metres to its side, measured in the road's Gauss-Krüger zone. Pure: shapely and
pyproj in, shapely out.
"""

from __future__ import annotations

import math

import shapely
from shapely.geometry import LineString, Point

from gis.projection import geometry_from_metric, geometry_to_metric, gk_crs_for

__all__ = ["DOOR_OFFSET_M", "interpolate_door", "side_of"]

DOOR_OFFSET_M = 12.0
"""How far from the road's centre line an interpolated door stands: half a two-lane street plus a
pavement, so odd and even doors at one number fall in different buildings' reach."""


def interpolate_door(
    line: LineString,
    number: int,
    first: int,
    last: int,
    *,
    odd_side: str = "left",
    offset_m: float = DOOR_OFFSET_M,
) -> Point:
    """The interpolated point of door ``number`` on ``line`` (lon/lat, EPSG:4490).

    Parameters
    ----------
    line : LineString
        The road's centre line, drawn the way its numbers grow.
    number, first, last : int
        The door number and the road's numbering range (``first < last``); numbers outside the
        range are clamped to the line's ends.
    odd_side : {"left", "right"}
        The side odd numbers stand on, seen walking along the line.
    offset_m : float
        Distance from the centre line, metres.

    Examples
    --------
    >>> road = LineString([(113.0, 34.0), (113.01, 34.0)])   # ~923 m eastwards
    >>> p = interpolate_door(road, 51, 1, 101)                 # half way, odd: north side
    >>> round(p.x, 4), p.y > 34.0
    (113.005, True)
    >>> interpolate_door(road, 52, 1, 101).y < 34.0            # even: south side
    True
    """
    if last <= first:
        raise ValueError("last must be greater than first")
    lon = (line.bounds[0] + line.bounds[2]) / 2
    metric = geometry_to_metric(line, lon)
    fraction = min(1.0, max(0.0, (number - first) / (last - first)))
    distance = fraction * metric.length
    here = metric.interpolate(distance)
    # Direction of the line at that point, from a short step either way along it.
    step = min(1.0, metric.length / 2)
    a = metric.interpolate(max(0.0, distance - step))
    b = metric.interpolate(min(metric.length, distance + step))
    dx, dy = b.x - a.x, b.y - a.y
    norm = math.hypot(dx, dy) or 1.0
    left = (-dy / norm, dx / norm)  # the left normal of the direction of travel
    sign = 1.0 if (number % 2 == 1) == (odd_side == "left") else -1.0
    moved = Point(here.x + sign * offset_m * left[0], here.y + sign * offset_m * left[1])
    out = geometry_from_metric(moved, gk_crs_for(lon))
    return shapely.force_2d(out)


def side_of(line: LineString, point: Point) -> str:
    """ "left" or "right": the side of ``line`` (walking its direction) ``point`` lies on.

    >>> side_of(LineString([(113.0, 34.0), (113.01, 34.0)]), Point(113.005, 34.001))
    'left'
    """
    d = line.project(point)
    a = line.interpolate(max(0.0, d - 1e-6))
    b = line.interpolate(min(line.length, d + 1e-6))
    k = math.cos(math.radians(point.y))
    cross = (b.x - a.x) * k * (point.y - a.y) - (b.y - a.y) * (point.x - a.x) * k
    return "left" if cross >= 0 else "right"
