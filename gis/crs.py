"""Conversions between the lon/lat systems that phones and Chinese web maps report
(docs/domain.md#coordinates).

Storage is CGCS2000 (EPSG:4490). Inputs arrive in one of:

* ``wgs84`` – GPS receivers, OpenStreetMap, most foreign services (EPSG:4326);
* ``cgcs2000`` – Chinese official data (EPSG:4490);
* ``gcj02`` – AMap (高德) and Tencent maps, and phone SDKs inside China: WGS84 plus a published but
  deliberately irregular offset of up to several hundred metres;
* ``bd09`` – Baidu maps: GCJ-02 plus a second offset of Baidu's own.

CGCS2000 and WGS84 are treated as the same system. Their realisations differ by well under a metre,
far below the accuracy of a phone fix, and docs/domain.md#coordinates makes them interchangeable for
lon/lat; the platform stores CGCS2000 and serves it as WGS84 without a datum shift.

The GCJ-02 and BD-09 offsets apply only inside China. Where that is decided here is the usual
"out of China" rectangle (lng 72.004–137.8347, lat 0.8293–55.8271) used by eviltransform,
coordtransform and PRCoords: a widely used approximation, not the national border. Every edge of
the rectangle lies outside China's land territory, so every point that could be in a grid is
inside it. Points outside it are returned unchanged, which is also what Baidu's SDK does abroad
(it reports WGS84 outside China, see lbs.baidu.com "坐标转换" guide).

All functions take scalars or array-likes (broadcast together), return float64 arrays, never
modify their input, and raise :class:`ValueError` for NaN, infinities or out-of-range values rather
than passing them through.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

FloatArray: TypeAlias = npt.NDArray[np.float64]

__all__ = [
    "DEFAULT_CRS",
    "CoordSystem",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "parse_coord_system",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]


class CoordSystem(StrEnum):
    """A lon/lat coordinate system an input may be reported in."""

    WGS84 = "wgs84"
    CGCS2000 = "cgcs2000"
    GCJ02 = "gcj02"
    BD09 = "bd09"


DEFAULT_CRS: str = CoordSystem.WGS84.value
"""The system of a point whose caller names none, where docs/domain.md#coordinates allows a default
(a lookup, the command line, a report's location): WGS84, what GPS receivers, a browser's
geolocation and international tools give. A GPS fix a record keeps as evidence (a visit's check-in)
must name its system and is refused without one."""


_ALIASES: dict[str, CoordSystem] = {
    "wgs84": CoordSystem.WGS84,
    "epsg:4326": CoordSystem.WGS84,
    "4326": CoordSystem.WGS84,
    "cgcs2000": CoordSystem.CGCS2000,
    "epsg:4490": CoordSystem.CGCS2000,
    "4490": CoordSystem.CGCS2000,
    "gcj02": CoordSystem.GCJ02,
    "gcj-02": CoordSystem.GCJ02,
    "amap": CoordSystem.GCJ02,
    "tencent": CoordSystem.GCJ02,
    "bd09": CoordSystem.BD09,
    "bd-09": CoordSystem.BD09,
    "baidu": CoordSystem.BD09,
}

# GCJ-02 constants as in the leaked reference implementation: the Krasovsky 1940 ellipsoid
# (semi-major axis and first eccentricity squared) converts the metre offsets into degrees.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323

# Baidu's constants: x_pi = pi * 3000 / 180 and the fixed shift it adds after the rotation.
_BD_X_PI = np.pi * 3000.0 / 180.0
_BD_DLNG = 0.0065
_BD_DLAT = 0.006

# The "out of China" rectangle (see module docstring).
_CHINA_LNG = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)

# Inverse iterations. Both offsets change by less than 0.007 degree per degree of position
# (measured over China), so each fixed-point step shrinks the error at least ~150-fold and the
# error left after the last step is below 0.007 x that step: stopping once every correction is
# under 1e-8 degrees leaves < 1e-10 degrees (about 0.01 mm). Both need 3 steps after their first
# guess; the bound only keeps a bug from becoming an endless loop.
_STEP_TOL = 1e-8
_MAX_ITERATIONS = 20


def parse_coord_system(value: str) -> CoordSystem:
    """Parse a coordinate-system name or alias, case-insensitively.

    Parameters
    ----------
    value : str
        ``"wgs84"``, ``"EPSG:4326"``, ``"4326"``, ``"cgcs2000"``, ``"EPSG:4490"``, ``"4490"``,
        ``"gcj02"``, ``"gcj-02"``, ``"amap"``, ``"tencent"``, ``"bd09"``, ``"bd-09"`` or
        ``"baidu"``; surrounding whitespace is ignored. A :class:`CoordSystem` is returned as is.

    Returns
    -------
    CoordSystem

    Raises
    ------
    TypeError
        If ``value`` is not a string.
    ValueError
        If ``value`` names no known system; the message lists the accepted values.

    Examples
    --------
    >>> parse_coord_system("AMap")
    <CoordSystem.GCJ02: 'gcj02'>
    >>> parse_coord_system("EPSG:4490")
    <CoordSystem.CGCS2000: 'cgcs2000'>
    """
    if not isinstance(value, str):
        raise TypeError(f"coordinate system must be a string, got {type(value).__name__}")
    system = _ALIASES.get(value.strip().lower())
    if system is None:
        accepted = ", ".join(sorted(_ALIASES))
        raise ValueError(f"unknown coordinate system {value!r}; accepted (any case): {accepted}")
    return system


def to_wgs84(
    lng: npt.ArrayLike, lat: npt.ArrayLike, crs: CoordSystem | str
) -> tuple[FloatArray, FloatArray]:
    """Convert coordinates reported in ``crs`` to WGS84 (= CGCS2000 for storage).

    Parameters
    ----------
    lng, lat : float or array_like
        Longitudes and latitudes in degrees, in ``crs``; broadcast together.
    crs : CoordSystem or str
        The system the coordinates were reported in; strings go through
        :func:`parse_coord_system`.

    Returns
    -------
    lng, lat : numpy.ndarray of float64
        WGS84 degrees, shaped like the broadcast inputs.

    Raises
    ------
    TypeError
        If ``crs`` is not a string.
    ValueError
        Unknown ``crs``, non-numeric, non-finite or out-of-range coordinates, or shapes that do not
        broadcast.

    Examples
    --------
    >>> lng, lat = to_wgs84([116.38404722455657], [39.91334545536069], "amap")
    >>> print(f"{lng[0]:.6f} {lat[0]:.6f}")
    116.377817 39.911954
    >>> to_wgs84(2.2945, 48.8584, "baidu")  # outside China: unchanged
    (array(2.2945), array(48.8584))
    """
    steps = {
        CoordSystem.GCJ02: (_gcj_to_wgs,),
        CoordSystem.BD09: (_bd_to_gcj, _gcj_to_wgs),
    }.get(parse_coord_system(crs), ())
    return _convert(lng, lat, *steps)


def from_wgs84(
    lng: npt.ArrayLike, lat: npt.ArrayLike, crs: CoordSystem | str
) -> tuple[FloatArray, FloatArray]:
    """Convert WGS84 (= CGCS2000) coordinates to ``crs``, e.g. to draw on a Baidu or AMap base map.

    Parameters
    ----------
    lng, lat : float or array_like
        WGS84 longitudes and latitudes in degrees; broadcast together.
    crs : CoordSystem or str
        The target system; strings go through :func:`parse_coord_system`.

    Returns
    -------
    lng, lat : numpy.ndarray of float64
        Degrees in ``crs``, shaped like the broadcast inputs.

    Raises
    ------
    TypeError
        If ``crs`` is not a string.
    ValueError
        Unknown ``crs``, non-numeric, non-finite or out-of-range coordinates, or shapes that do not
        broadcast.

    Examples
    --------
    >>> lng, lat = from_wgs84(116.377817, 39.911954, "gcj02")
    >>> print(f"{lng:.6f} {lat:.6f}")
    116.384047 39.913345
    """
    steps = {
        CoordSystem.GCJ02: (_wgs_to_gcj,),
        CoordSystem.BD09: (_wgs_to_gcj, _gcj_to_bd),
    }.get(parse_coord_system(crs), ())
    return _convert(lng, lat, *steps)


def wgs84_to_gcj02(lng: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Apply the GCJ-02 offset to WGS84 coordinates (points outside China unchanged).

    Parameters
    ----------
    lng, lat : float or array_like
        WGS84 degrees; broadcast together.

    Returns
    -------
    lng, lat : numpy.ndarray of float64
        GCJ-02 degrees.

    Examples
    --------
    >>> lng, lat = wgs84_to_gcj02([121.5272106, 2.2945], [31.1774276, 48.8584])
    >>> print(lng.round(6), lat.round(6))
    [121.531542   2.2945  ] [31.175304 48.8584  ]
    """
    return _convert(lng, lat, _wgs_to_gcj)


def gcj02_to_wgs84(lng: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Remove the GCJ-02 offset: the exact inverse of :func:`wgs84_to_gcj02`.

    The offset has no closed-form inverse. Starting from the usual one-step approximation (which
    is off by up to about 6 metres), a fixed-point iteration on the whole array refines the
    estimate until the correction falls below 1e-8 degrees, leaving an error below 1e-10 degrees.

    Parameters
    ----------
    lng, lat : float or array_like
        GCJ-02 degrees; broadcast together.

    Returns
    -------
    lng, lat : numpy.ndarray of float64
        WGS84 degrees.

    Examples
    --------
    >>> lng, lat = gcj02_to_wgs84(121.531541859215, 31.17530398364597)
    >>> print(f"{lng:.6f} {lat:.6f}")
    121.527211 31.177428
    """
    return _convert(lng, lat, _gcj_to_wgs)


def gcj02_to_bd09(lng: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Apply Baidu's BD-09 offset to GCJ-02 coordinates (points outside China unchanged).

    Parameters
    ----------
    lng, lat : float or array_like
        GCJ-02 degrees; broadcast together.

    Returns
    -------
    lng, lat : numpy.ndarray of float64
        BD-09 degrees.

    Examples
    --------
    >>> lng, lat = gcj02_to_bd09(116.404, 39.915)
    >>> print(f"{lng:.6f} {lat:.6f}")
    116.410369 39.921337
    """
    return _convert(lng, lat, _gcj_to_bd)


def bd09_to_gcj02(lng: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Remove Baidu's BD-09 offset: the exact inverse of :func:`gcj02_to_bd09`.

    The widely copied closed-form inverse is only approximate (errors up to ~2e-6 degrees, a few
    decimetres); it is the starting point, refined by fixed-point iteration to an error below
    1e-10 degrees. Results therefore differ slightly from libraries that stop at the closed form.

    Parameters
    ----------
    lng, lat : float or array_like
        BD-09 degrees; broadcast together.

    Returns
    -------
    lng, lat : numpy.ndarray of float64
        GCJ-02 degrees.

    Examples
    --------
    >>> lng, lat = bd09_to_gcj02(116.41036949371029, 39.92133699351021)
    >>> print(f"{lng:.6f} {lat:.6f}")
    116.404000 39.915000
    """
    return _convert(lng, lat, _bd_to_gcj)


def wgs84_to_bd09(lng: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """WGS84 to BD-09 (via GCJ-02); points outside China unchanged.

    Examples
    --------
    >>> lng, lat = wgs84_to_bd09(116.404, 39.915)
    >>> print(f"{lng:.6f} {lat:.6f}")
    116.416627 39.922700
    """
    return _convert(lng, lat, _wgs_to_gcj, _gcj_to_bd)


def bd09_to_wgs84(lng: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """BD-09 to WGS84 (via GCJ-02), exact inverse of :func:`wgs84_to_bd09`.

    Examples
    --------
    >>> lng, lat = bd09_to_wgs84(116.41662724378733, 39.922699552216216)
    >>> print(f"{lng:.6f} {lat:.6f}")
    116.404000 39.915000
    """
    return _convert(lng, lat, _bd_to_gcj, _gcj_to_wgs)


# --- private steps ------------------------------------------------------------------------------

_Step: TypeAlias = Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]


def _convert(
    lng: npt.ArrayLike, lat: npt.ArrayLike, *steps: _Step
) -> tuple[FloatArray, FloatArray]:
    """Validate, run ``steps`` on flat arrays, restore the broadcast shape."""
    x, y = _validated(lng, lat)
    shape = x.shape
    x, y = x.ravel(), y.ravel()
    if x.size == 0:
        return x.reshape(shape), y.reshape(shape)
    for step in steps:
        x, y = step(x, y)
    return x.reshape(shape), y.reshape(shape)


def _validated(lng: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Float64 copies of the inputs, broadcast together, finite and within lon/lat range."""
    x = np.asarray(lng)
    y = np.asarray(lat)
    for name, values in (("lng", x), ("lat", y)):
        # Strings, None, objects and booleans are refused rather than coerced: gis never guesses.
        if values.dtype.kind not in "iuf":
            raise ValueError(f"{name} must be numeric, got dtype {values.dtype}")
    try:
        bx, by = np.broadcast_arrays(x, y)
    except ValueError as exc:
        raise ValueError(
            f"lng and lat shapes {x.shape} and {y.shape} cannot be broadcast together"
        ) from exc
    # Float64 copies, so nothing downstream can write into the caller's arrays.
    x, y = bx.astype(np.float64), by.astype(np.float64)
    for name, values, limit in (("lng", x, 180.0), ("lat", y, 90.0)):
        flat = values.ravel()
        finite = np.isfinite(flat)
        if not finite.all():
            first = int(np.flatnonzero(~finite)[0])
            raise ValueError(
                f"{name} contains {np.count_nonzero(~finite)} NaN or infinite value(s), "
                f"first at flat index {first}: {flat[first]}"
            )
        outside = np.abs(flat) > limit
        if outside.any():
            first = int(np.flatnonzero(outside)[0])
            raise ValueError(
                f"{name} must be within [-{limit:g}, {limit:g}] degrees; "
                f"{np.count_nonzero(outside)} value(s) outside, first at flat index {first}: "
                f"{flat[first]}"
            )
    return x, y


def _in_china(lng: FloatArray, lat: FloatArray) -> npt.NDArray[np.bool_]:
    return (
        (lng >= _CHINA_LNG[0])
        & (lng <= _CHINA_LNG[1])
        & (lat >= _CHINA_LAT[0])
        & (lat <= _CHINA_LAT[1])
    )


def _inside_china_only(step: _Step) -> _Step:
    """Wrap ``step`` so it sees only the points inside China; the rest pass through unchanged.

    The offset formulas are meaningless outside the rectangle (and divide by cos(lat) near the
    poles), so those points must neither be computed nor steer an inverse iteration.
    """

    def masked(lng: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
        inside = _in_china(lng, lat)
        if inside.all():
            return step(lng, lat)
        out_x, out_y = lng.copy(), lat.copy()
        if inside.any():
            out_x[inside], out_y[inside] = step(lng[inside], lat[inside])
        return out_x, out_y

    return masked


def _sin_multiples(t: FloatArray) -> tuple[FloatArray, ...]:
    """sin(k·π·t) for k = 1/30, 1/12, 1/3, 1, 2, 6: the harmonics of the GCJ-02 offset.

    All six are integer multiples (2, 5, 20, 60, 120, 360) of π·t/60, so they come from one
    complex exponential and a chain of complex products: about 2.5 times faster than six
    ``np.sin`` calls, which dominate the cost of the inverse. The products add rounding of order
    1e-13 to each sine, i.e. picometres in the offset.
    """
    z1 = np.exp(1j * (np.pi / 60.0) * t)
    z2 = z1 * z1
    z5 = z2 * z2 * z1
    z10 = z5 * z5
    z20 = z10 * z10
    z60 = z20 * z20 * z20
    z120 = z60 * z60
    z360 = z120 * z120 * z120
    return z2.imag, z5.imag, z20.imag, z60.imag, z120.imag, z360.imag


def _gcj_offset(lng: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 offset (dlng, dlat) in degrees at WGS84 (lng, lat), for points inside China."""
    x = lng - 105.0
    y = lat - 35.0
    sx_30, sx_12, sx_3, sx_1, sx2, sx6 = _sin_multiples(x)
    sy_30, sy_12, sy_3, sy_1, _, _ = _sin_multiples(y)
    # The reference formula, in metres, grouped so that the terms both components share are
    # evaluated once.
    shared = 0.1 * x * y + (20.0 * sx6 + 20.0 * sx2) * (2.0 / 3.0)
    sqrt_abs_x = np.sqrt(np.abs(x))
    dlat_m = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.2 * sqrt_abs_x
        + shared
        + (20.0 * sy_1 + 40.0 * sy_3 + 160.0 * sy_12 + 320.0 * sy_30) * (2.0 / 3.0)
    )
    dlng_m = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * sqrt_abs_x
        + shared
        + (20.0 * sx_1 + 40.0 * sx_3 + 150.0 * sx_12 + 300.0 * sx_30) * (2.0 / 3.0)
    )
    rad_lat = np.radians(lat)
    magic = 1.0 - _GCJ_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    # Metres to degrees along the meridian and the parallel, on the Krasovsky ellipsoid.
    dlat = dlat_m * 180.0 / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * np.pi)
    dlng = dlng_m * 180.0 / (_GCJ_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlng, dlat


def _gcj_forward(lng: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    dlng, dlat = _gcj_offset(lng, lat)
    return lng + dlng, lat + dlat


def _gcj_one_step_inverse(lng: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    # The common approximate inverse (offset evaluated at the GCJ-02 point): metres off.
    dlng, dlat = _gcj_offset(lng, lat)
    return lng - dlng, lat - dlat


def _bd_forward(lng: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    z = np.hypot(lng, lat) + 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lng) + 0.000003 * np.cos(lng * _BD_X_PI)
    return z * np.cos(theta) + _BD_DLNG, z * np.sin(theta) + _BD_DLAT


def _bd_closed_form_inverse(lng: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    # The widely copied inverse: it evaluates the perturbations at the shifted point, which
    # leaves errors up to ~2e-6 degrees (a few decimetres).
    x = lng - _BD_DLNG
    y = lat - _BD_DLAT
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _fixed_point_inverse(forward: _Step, first_guess: _Step, name: str) -> _Step:
    """Solve ``forward(p) == target`` on whole arrays by ``p <- p - (forward(p) - target)``.

    Converges because ``forward`` is the identity plus an offset that varies slowly with
    position (see ``_STEP_TOL``).
    """

    def inverse(tx: FloatArray, ty: FloatArray) -> tuple[FloatArray, FloatArray]:
        px, py = first_guess(tx, ty)
        for _ in range(_MAX_ITERATIONS):
            fx, fy = forward(px, py)
            rx = fx - tx
            ry = fy - ty
            px = px - rx
            py = py - ry
            if max(float(np.abs(rx).max()), float(np.abs(ry).max())) < _STEP_TOL:
                return px, py
        raise ArithmeticError(
            f"{name} inverse did not converge to {_STEP_TOL:g} degrees "
            f"within {_MAX_ITERATIONS} iterations"
        )

    return inverse


_wgs_to_gcj = _inside_china_only(_gcj_forward)
_gcj_to_wgs = _inside_china_only(
    _fixed_point_inverse(_gcj_forward, _gcj_one_step_inverse, "GCJ-02")
)
_gcj_to_bd = _inside_china_only(_bd_forward)
_bd_to_gcj = _inside_china_only(_fixed_point_inverse(_bd_forward, _bd_closed_form_inverse, "BD-09"))
