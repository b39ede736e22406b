"""Tests for gis.crs: published coordinate pairs, exact inverses, the China rectangle, bad input.

Published pairs (lng, lat), checked against the stored sources:

* googollee/eviltransform, python/test.py ``TESTS`` (given there as wgsLat, wgsLng, gcjLat,
  gcjLng): WGS84 -> GCJ-02 for Shanghai, Shenzhen and Beijing.
* wandergis/coordtransform, test/app.js, repeated verbatim in wyxloading/coordtransform-rs,
  tests/tests.rs: conversions of the point (116.404, 39.915). coordtransform-rs also publishes
  wgs84_to_bd09 for it. Their gcj02->wgs84 and bd09->gcj02 results come from approximate
  closed-form inverses, so they are used here only to show the difference, not as targets.
"""

from __future__ import annotations

import doctest
import math
from collections.abc import Callable

import numpy as np
import pytest

from gis import crs
from gis.crs import (
    CoordSystem,
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    parse_coord_system,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

FORWARD_TOL = 1e-6  # published values vs our forward transforms, degrees
ROUND_TRIP_TOL = 1e-7  # the required accuracy of every inverse / round trip, degrees

Pair = tuple[float, float]
Transform = Callable[..., tuple[np.ndarray, np.ndarray]]

WGS_GCJ_PUBLISHED = [
    # eviltransform python/test.py
    pytest.param((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597), id="shanghai"),
    pytest.param((113.912316, 22.543847), (113.9171764808363, 22.540796131694766), id="shenzhen"),
    pytest.param((116.377817, 39.911954), (116.38404722455657, 39.91334545536069), id="beijing"),
    # coordtransform test/app.js: wgs84togcj02(116.404, 39.915)
    pytest.param((116.404, 39.915), (116.41024449916938, 39.91640428150164), id="coordtransform"),
]
# coordtransform test/app.js: gcj02tobd09(116.404, 39.915)
GCJ_BD_PUBLISHED = ((116.404, 39.915), (116.41036949371029, 39.92133699351021))
# coordtransform-rs tests/tests.rs: wgs84_to_bd09(116.404, 39.915)
WGS_BD_PUBLISHED = ((116.404, 39.915), (116.41662724378733, 39.922699552216216))
# coordtransform test/app.js: approximate inverses of the point (116.404, 39.915)
GCJ_WGS_APPROXIMATE = (116.39775550083061, 39.91359571849836)
BD_GCJ_APPROXIMATE = (116.39762729119315, 39.90865673957631)

PRIMITIVES = [
    wgs84_to_gcj02,
    gcj02_to_wgs84,
    gcj02_to_bd09,
    bd09_to_gcj02,
    wgs84_to_bd09,
    bd09_to_wgs84,
]
ALL_FUNCTIONS: list[Transform] = [
    *PRIMITIVES,
    *(lambda lng, lat, s=s: to_wgs84(lng, lat, s) for s in CoordSystem),
    *(lambda lng, lat, s=s: from_wgs84(lng, lat, s) for s in CoordSystem),
]
ALL_IDS = [
    *(f.__name__ for f in PRIMITIVES),
    *(f"to_wgs84[{s}]" for s in CoordSystem),
    *(f"from_wgs84[{s}]" for s in CoordSystem),
]


def _close(actual: tuple[np.ndarray, np.ndarray], expected: Pair, tol: float) -> None:
    assert abs(float(actual[0]) - expected[0]) < tol, (float(actual[0]), expected[0])
    assert abs(float(actual[1]) - expected[1]) < tol, (float(actual[1]), expected[1])


def _china_grid() -> tuple[np.ndarray, np.ndarray]:
    """About 16,000 points covering mainland China and its seas, 0.37 x 0.37 degrees apart."""
    lng, lat = np.meshgrid(np.linspace(73.5, 135.0, 167), np.linspace(3.9, 53.6, 97))
    return lng.ravel(), lat.ravel()


def _reference_wgs84_to_gcj02(lng: float, lat: float) -> Pair:
    """The published formula written out term by term with ``math``, as eviltransform has it."""
    x, y = lng - 105.0, lat - 35.0
    d = 20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)
    dlat = d + 20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y * math.pi / 3.0)
    dlng = d + 20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x * math.pi / 3.0)
    dlat += 160.0 * math.sin(y * math.pi / 12.0) + 320 * math.sin(y * math.pi / 30.0)
    dlng += 150.0 * math.sin(x * math.pi / 12.0) + 300.0 * math.sin(x * math.pi / 30.0)
    dlat = dlat * 2.0 / 3.0 - 100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y
    dlat += 0.2 * math.sqrt(abs(x))
    dlng = dlng * 2.0 / 3.0 + 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y
    dlng += 0.1 * math.sqrt(abs(x))
    a, ee = 6378245.0, 0.00669342162296594323
    rad = lat / 180.0 * math.pi
    magic = 1 - ee * math.sin(rad) ** 2
    dlat = dlat * 180.0 / ((a * (1 - ee)) / (magic * math.sqrt(magic)) * math.pi)
    dlng = dlng * 180.0 / (a / math.sqrt(magic) * math.cos(rad) * math.pi)
    return lng + dlng, lat + dlat


# --- published values ---------------------------------------------------------------------------


@pytest.mark.parametrize(("wgs", "gcj"), WGS_GCJ_PUBLISHED)
def test_wgs84_to_gcj02_matches_published_pairs(wgs: Pair, gcj: Pair) -> None:
    _close(wgs84_to_gcj02(*wgs), gcj, FORWARD_TOL)


@pytest.mark.parametrize(("wgs", "gcj"), WGS_GCJ_PUBLISHED)
def test_gcj02_to_wgs84_recovers_published_wgs84(wgs: Pair, gcj: Pair) -> None:
    _close(gcj02_to_wgs84(*gcj), wgs, ROUND_TRIP_TOL)
    _close(to_wgs84(*gcj, "gcj02"), wgs, ROUND_TRIP_TOL)


def test_gcj02_to_wgs84_is_exact_where_the_one_step_inverse_is_not() -> None:
    gcj = (116.404, 39.915)
    _close(wgs84_to_gcj02(*gcj02_to_wgs84(*gcj)), gcj, 1e-9)
    # coordtransform's one-step answer, mapped forward again, misses by decimetres here (metres
    # elsewhere): more than the accuracy required of an inverse.
    lng, lat = wgs84_to_gcj02(*GCJ_WGS_APPROXIMATE)
    assert max(abs(float(lng) - gcj[0]), abs(float(lat) - gcj[1])) > ROUND_TRIP_TOL


def test_gcj02_to_bd09_matches_published_pair() -> None:
    gcj, bd = GCJ_BD_PUBLISHED
    _close(gcj02_to_bd09(*gcj), bd, FORWARD_TOL)


def test_wgs84_to_bd09_matches_published_pair() -> None:
    wgs, bd = WGS_BD_PUBLISHED
    _close(wgs84_to_bd09(*wgs), bd, FORWARD_TOL)
    _close(from_wgs84(*wgs, "baidu"), bd, FORWARD_TOL)


def test_bd09_inverses_recover_published_inputs() -> None:
    gcj, bd = GCJ_BD_PUBLISHED
    _close(bd09_to_gcj02(*bd), gcj, ROUND_TRIP_TOL)
    wgs, bd = WGS_BD_PUBLISHED
    _close(bd09_to_wgs84(*bd), wgs, ROUND_TRIP_TOL)
    _close(to_wgs84(*bd, "bd-09"), wgs, ROUND_TRIP_TOL)


def test_bd09_to_gcj02_stays_within_decimetres_of_the_closed_form() -> None:
    # Same direction and size as coordtransform's closed form, refined by a fraction of a metre.
    lng, lat = bd09_to_gcj02(116.404, 39.915)
    d = max(abs(float(lng) - BD_GCJ_APPROXIMATE[0]), abs(float(lat) - BD_GCJ_APPROXIMATE[1]))
    assert 1e-8 < d < 3e-6


def test_wgs84_to_gcj02_matches_the_reference_formula_across_china() -> None:
    lng, lat = _china_grid()
    idx = np.arange(0, lng.size, 37)  # ~440 points, the scalar reference is slow
    got_lng, got_lat = wgs84_to_gcj02(lng[idx], lat[idx])
    want = np.array(
        [_reference_wgs84_to_gcj02(x, y) for x, y in zip(lng[idx], lat[idx], strict=True)]
    )
    np.testing.assert_allclose(got_lng, want[:, 0], rtol=0, atol=1e-11)
    np.testing.assert_allclose(got_lat, want[:, 1], rtol=0, atol=1e-11)


# --- round trips over the whole country ---------------------------------------------------------


@pytest.mark.parametrize(
    ("forward", "inverse"),
    [
        pytest.param(wgs84_to_gcj02, gcj02_to_wgs84, id="wgs-gcj-wgs"),
        pytest.param(gcj02_to_wgs84, wgs84_to_gcj02, id="gcj-wgs-gcj"),
        pytest.param(gcj02_to_bd09, bd09_to_gcj02, id="gcj-bd-gcj"),
        pytest.param(bd09_to_gcj02, gcj02_to_bd09, id="bd-gcj-bd"),
        pytest.param(wgs84_to_bd09, bd09_to_wgs84, id="wgs-bd-wgs"),
        pytest.param(bd09_to_wgs84, wgs84_to_bd09, id="bd-wgs-bd"),
    ],
)
def test_round_trips_across_china(forward: Transform, inverse: Transform) -> None:
    lng, lat = _china_grid()
    back_lng, back_lat = inverse(*forward(lng, lat))
    assert np.abs(back_lng - lng).max() < ROUND_TRIP_TOL
    assert np.abs(back_lat - lat).max() < ROUND_TRIP_TOL


def test_inverse_error_is_far_below_the_requirement() -> None:
    # The module promises < 1e-10 degrees; 1e-9 leaves room for rounding in the forward step.
    lng, lat = _china_grid()
    back_lng, back_lat = bd09_to_wgs84(*wgs84_to_bd09(lng, lat))
    assert max(np.abs(back_lng - lng).max(), np.abs(back_lat - lat).max()) < 1e-9


@pytest.mark.parametrize("system", list(CoordSystem))
def test_to_wgs84_inverts_from_wgs84(system: CoordSystem) -> None:
    lng, lat = _china_grid()
    back_lng, back_lat = to_wgs84(*from_wgs84(lng, lat, system), system)
    assert np.abs(back_lng - lng).max() < ROUND_TRIP_TOL
    assert np.abs(back_lat - lat).max() < ROUND_TRIP_TOL


@pytest.mark.parametrize("system", ["wgs84", "cgcs2000", "EPSG:4490", "4326"])
@pytest.mark.parametrize("convert", [to_wgs84, from_wgs84])
def test_wgs84_and_cgcs2000_are_identity(system: str, convert: Callable[..., tuple]) -> None:
    lng, lat = _china_grid()
    out_lng, out_lat = convert(lng, lat, system)
    np.testing.assert_array_equal(out_lng, lng)
    np.testing.assert_array_equal(out_lat, lat)
    assert out_lng is not lng and not np.shares_memory(out_lng, lng)


def test_dispatch_uses_the_matching_primitive() -> None:
    lng, lat = _china_grid()
    pairs = [
        (to_wgs84(lng, lat, "amap"), gcj02_to_wgs84(lng, lat)),
        (to_wgs84(lng, lat, "baidu"), bd09_to_wgs84(lng, lat)),
        (from_wgs84(lng, lat, CoordSystem.GCJ02), wgs84_to_gcj02(lng, lat)),
        (from_wgs84(lng, lat, CoordSystem.BD09), wgs84_to_bd09(lng, lat)),
    ]
    for got, want in pairs:
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def test_offsets_are_tens_of_metres_or_more_inside_china() -> None:
    # Guards against a transform that silently does nothing somewhere in the country.
    lng, lat = _china_grid()
    g_lng, g_lat = wgs84_to_gcj02(lng, lat)
    b_lng, b_lat = wgs84_to_bd09(lng, lat)
    assert np.hypot(g_lng - lng, g_lat - lat).min() > 2e-4
    assert np.hypot(b_lng - g_lng, b_lat - g_lat).min() > 5e-3


# --- the China rectangle ------------------------------------------------------------------------

OUTSIDE_CHINA = [
    pytest.param(2.2945, 48.8584, id="paris"),
    pytest.param(139.6917, 35.6895, id="tokyo"),
    pytest.param(-74.0445, 40.6892, id="new-york"),
    pytest.param(151.2093, -33.8688, id="sydney"),
    pytest.param(103.8198, 0.5, id="south-of-rectangle"),
    pytest.param(100.0, 60.0, id="north-of-rectangle"),
    pytest.param(72.0039, 40.0, id="just-west"),
    pytest.param(180.0, 90.0, id="corner-of-the-world"),
    pytest.param(-180.0, -90.0, id="other-corner"),
]


@pytest.mark.parametrize(("lng", "lat"), OUTSIDE_CHINA)
@pytest.mark.parametrize("func", ALL_FUNCTIONS, ids=ALL_IDS)
def test_points_outside_china_are_unchanged(func: Transform, lng: float, lat: float) -> None:
    out_lng, out_lat = func(lng, lat)
    assert float(out_lng) == lng
    assert float(out_lat) == lat


@pytest.mark.parametrize(
    ("lng", "lat"),
    [(72.004, 40.0), (137.8347, 40.0), (100.0, 0.8293), (100.0, 55.8271), (72.0041, 30.0)],
)
def test_rectangle_edges_count_as_inside(lng: float, lat: float) -> None:
    out_lng, out_lat = wgs84_to_gcj02(lng, lat)
    assert (float(out_lng), float(out_lat)) != (lng, lat)


def test_mixed_arrays_convert_only_the_points_inside() -> None:
    lng = np.array([2.2945, 121.531541859215, 139.6917, 113.9171764808363])
    lat = np.array([48.8584, 31.17530398364597, 35.6895, 22.540796131694766])
    out_lng, out_lat = gcj02_to_wgs84(lng, lat)
    np.testing.assert_array_equal(out_lng[[0, 2]], lng[[0, 2]])
    np.testing.assert_array_equal(out_lat[[0, 2]], lat[[0, 2]])
    np.testing.assert_allclose(out_lng[[1, 3]], [121.5272106, 113.912316], atol=ROUND_TRIP_TOL)
    np.testing.assert_allclose(out_lat[[1, 3]], [31.1774276, 22.543847], atol=ROUND_TRIP_TOL)


# --- shapes and dtypes --------------------------------------------------------------------------


@pytest.mark.parametrize("func", ALL_FUNCTIONS, ids=ALL_IDS)
def test_scalars_give_zero_dimensional_float64_arrays(func: Transform) -> None:
    out_lng, out_lat = func(116, 40)  # ints are accepted
    for out in (out_lng, out_lat):
        assert isinstance(out, np.ndarray)
        assert out.shape == ()
        assert out.dtype == np.float64


def test_inputs_broadcast_and_keep_their_shape() -> None:
    lng = np.array([[116.0], [121.0]])
    lat = np.array([30.0, 35.0, 40.0])
    out_lng, out_lat = bd09_to_wgs84(lng, lat)
    assert out_lng.shape == out_lat.shape == (2, 3)
    want_lng, want_lat = bd09_to_wgs84(121.0, 35.0)
    assert out_lng[1, 1] == want_lng and out_lat[1, 1] == want_lat


@pytest.mark.parametrize("func", PRIMITIVES)
def test_empty_input_gives_empty_output(func: Transform) -> None:
    out_lng, out_lat = func([], [])
    assert out_lng.shape == out_lat.shape == (0,)
    assert out_lng.dtype == np.float64


@pytest.mark.parametrize("func", PRIMITIVES)
def test_inputs_are_not_modified(func: Transform) -> None:
    lng = np.array([116.404, 2.2945])
    lat = np.array([39.915, 48.8584])
    func(lng, lat)
    np.testing.assert_array_equal(lng, [116.404, 2.2945])
    np.testing.assert_array_equal(lat, [39.915, 48.8584])


def test_lists_and_float32_are_accepted() -> None:
    a = wgs84_to_gcj02([116.404], [39.915])
    b = wgs84_to_gcj02(np.float32(116.404), 39.915)
    assert a[0].dtype == b[0].dtype == np.float64
    assert abs(float(a[0][0]) - float(b[0])) < 1e-5  # float32 input is only ~1e-5 degree exact


# --- parsing coordinate systems -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("wgs84", CoordSystem.WGS84),
        ("WGS84", CoordSystem.WGS84),
        ("EPSG:4326", CoordSystem.WGS84),
        ("epsg:4326", CoordSystem.WGS84),
        ("4326", CoordSystem.WGS84),
        ("cgcs2000", CoordSystem.CGCS2000),
        ("CGCS2000", CoordSystem.CGCS2000),
        ("EPSG:4490", CoordSystem.CGCS2000),
        ("4490", CoordSystem.CGCS2000),
        ("gcj02", CoordSystem.GCJ02),
        ("GCJ-02", CoordSystem.GCJ02),
        ("AMap", CoordSystem.GCJ02),
        ("tencent", CoordSystem.GCJ02),
        ("bd09", CoordSystem.BD09),
        ("BD-09", CoordSystem.BD09),
        ("Baidu", CoordSystem.BD09),
        ("  baidu\n", CoordSystem.BD09),
        (CoordSystem.GCJ02, CoordSystem.GCJ02),
    ],
)
def test_parse_coord_system_accepts_names_and_aliases(value: str, expected: CoordSystem) -> None:
    assert parse_coord_system(value) is expected


@pytest.mark.parametrize("value", ["", "gcj", "wgs-84", "EPSG:3857", "bd09mc", "google"])
def test_parse_coord_system_rejects_unknown_names_listing_accepted(value: str) -> None:
    with pytest.raises(ValueError, match="unknown coordinate system") as exc:
        parse_coord_system(value)
    for accepted in ("wgs84", "epsg:4490", "gcj-02", "amap", "tencent", "baidu"):
        assert accepted in str(exc.value)


@pytest.mark.parametrize("value", [None, 4326, b"wgs84"])
def test_parse_coord_system_rejects_non_strings(value: object) -> None:
    with pytest.raises(TypeError, match="must be a string"):
        parse_coord_system(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("convert", [to_wgs84, from_wgs84])
def test_conversions_reject_unknown_systems(convert: Callable[..., tuple]) -> None:
    with pytest.raises(ValueError, match="unknown coordinate system 'mars'"):
        convert(116.4, 39.9, "mars")


# --- bad coordinates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lng", "lat", "message"),
    [
        pytest.param([116.4, np.nan], [39.9, 39.9], r"lng contains 1 NaN .* index 1", id="nan-lng"),
        pytest.param(116.4, np.nan, "lat contains 1 NaN or infinite", id="nan-lat"),
        pytest.param(np.inf, 39.9, "lng contains 1 NaN or infinite", id="inf-lng"),
        pytest.param(116.4, -np.inf, "lat contains 1 NaN or infinite", id="minus-inf-lat"),
        pytest.param(180.5, 39.9, r"lng must be within \[-180, 180\]", id="lng-too-big"),
        pytest.param(-181.0, 39.9, r"lng must be within \[-180, 180\]", id="lng-too-small"),
        pytest.param(116.4, 90.1, r"lat must be within \[-90, 90\]", id="lat-too-big"),
        pytest.param([116.4] * 3, [0, 40, -91], r"lat .* 1 value\(s\) outside", id="lat-south"),
        pytest.param(39.9, 116.4, r"lat must be within", id="swapped-lng-lat"),
        pytest.param(["116.4"], [39.9], "lng must be numeric", id="string"),
        pytest.param(116.4, None, "lat must be numeric", id="none"),
        pytest.param(True, 39.9, "lng must be numeric", id="bool"),
        pytest.param([116.4, 116.5], [39.9, 39.8, 39.7], "cannot be broadcast", id="shapes"),
    ],
)
@pytest.mark.parametrize("func", ALL_FUNCTIONS, ids=ALL_IDS)
def test_bad_coordinates_raise(func: Transform, lng: object, lat: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        func(lng, lat)


@pytest.mark.parametrize("func", PRIMITIVES)
def test_extreme_valid_coordinates_are_accepted(func: Transform) -> None:
    out_lng, out_lat = func([-180.0, 180.0, 0.0], [-90.0, 90.0, 0.0])
    np.testing.assert_array_equal(out_lng, [-180.0, 180.0, 0.0])
    np.testing.assert_array_equal(out_lat, [-90.0, 90.0, 0.0])


@pytest.mark.parametrize("func", [gcj02_to_wgs84, bd09_to_gcj02])
def test_inverse_that_cannot_converge_raises(
    func: Transform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(crs, "_MAX_ITERATIONS", 1)
    with pytest.raises(ArithmeticError, match="did not converge"):
        func(116.404, 39.915)


# --- documentation ------------------------------------------------------------------------------


def test_docstring_examples_hold() -> None:
    result = doctest.testmod(crs, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 9
    assert result.failed == 0
