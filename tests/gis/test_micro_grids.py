"""Micro-grids (微网格) in pure geometry: the write check and the audit on hand-made shapes whose
answers are known by looking (docs/domain.md#micro-grids).

Grid G = box(113.000, 34.000, 113.002, 34.001), about 185 m × 111 m (near 34°N one metre is
about 1.0835e-5° of longitude and 9.017e-6° of latitude). Its micro-grids:

    A = west half  box(113.000, 34.000, 113.001, 34.001)
    B = east half  box(113.001, 34.000, 113.002, 34.001)
"""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from gis.codes import BadAreaCode, SerialsExhausted, allocate_micro, level_of, micro_grid_parent
from gis.coverage import CoverageTolerances, audit_coverage
from gis.coverage.micro import MicroGridRefused, audit_micro_grids, fit_micro_grid

M_LON, M_LAT = 1.0835e-5, 9.017e-6
G_CODE = "419901001001001"
G = box(113.0, 34.0, 113.002, 34.001)
A = box(113.0, 34.0, 113.001, 34.001)
B = box(113.001, 34.0, 113.002, 34.001)
A_CODE, B_CODE = G_CODE + "01", G_CODE + "02"


def _grids(*items):  # type: ignore[no-untyped-def]
    return gpd.GeoDataFrame(
        {"code": [c for c, _ in items]}, geometry=[g for _, g in items], crs=4490
    )


def _micro(*items):  # type: ignore[no-untyped-def]
    return gpd.GeoDataFrame(
        {"code": [c for c, _ in items], "grid_code": [c[:15] for c, _ in items]},
        geometry=[g for _, g in items],
        crs=4490,
    )


def _homes(*points):  # type: ignore[no-untyped-def]
    return gpd.GeoDataFrame(
        {"id": list(range(1, len(points) + 1))},
        geometry=[Point(x, y) for x, y in points],
        crs=4490,
    )


def _kinds(found):  # type: ignore[no-untyped-def]
    return [(k, list(o)) for k, o in zip(found["kind"], found["objects"], strict=True)]


# ------------------------------------------------------------------------------------- codes
def test_a_micro_grid_code_is_its_grid_and_two_digits() -> None:
    assert level_of(A_CODE) == "micro_grid"
    assert micro_grid_parent(A_CODE) == G_CODE
    with pytest.raises(BadAreaCode, match="共17位数字"):
        micro_grid_parent("4199010010010011")
    with pytest.raises(BadAreaCode, match="序号应为01–99"):
        micro_grid_parent(G_CODE + "00")
    # Reading order (north row first, west to east); serial 01 is taken.
    north, sw, se = box(0, 1, 1, 2), box(0, 0, 1, 1), box(1, 0, 2, 1)
    assert allocate_micro(G_CODE, [se, sw, north], {1}) == [
        G_CODE + "04",
        G_CODE + "03",
        G_CODE + "02",
    ]
    with pytest.raises(SerialsExhausted, match="01–99"):
        allocate_micro(G_CODE, [sw], set(range(1, 100)))


# ------------------------------------------------------------------------------- write check
def test_inside_its_grid_is_kept_as_drawn() -> None:
    out = fit_micro_grid(A_CODE, A, parent_code=G_CODE, parent=G, siblings={})
    assert out.equals(A)


@pytest.mark.parametrize(
    ("past_m", "refused"),
    [
        (1.0, False),  # a 1 m × 111 m strip past the edge: thinner than 1:60, a sliver, cut off
        (2.0, True),  # 2 m × 111 m (1:55, 222 m²): neither small nor thin enough
        (30.0, True),  # 30 m × 111 m ≈ 3,300 m²: a real piece outside the grid
    ],
)
def test_outside_its_grid_by_a_sliver_is_cut_by_more_is_refused(past_m, refused) -> None:  # type: ignore[no-untyped-def]
    drawn = box(113.001, 34.0, 113.002 + past_m * M_LON, 34.001)
    if refused:
        with pytest.raises(MicroGridRefused, match=f"微网格 {B_CODE} 超出所属网格 {G_CODE} 边界"):
            fit_micro_grid(B_CODE, drawn, parent_code=G_CODE, parent=G, siblings={})
    else:
        out = fit_micro_grid(B_CODE, drawn, parent_code=G_CODE, parent=G, siblings={})
        assert out.bounds == pytest.approx(B.bounds)


def test_a_small_square_outside_is_a_sliver_too() -> None:
    # A 3 m × 3 m (9 m² ≤ 10 m²) bump past the east edge.
    bump = box(113.002, 34.0005, 113.002 + 3 * M_LON, 34.0005 + 3 * M_LAT)
    out = fit_micro_grid(B_CODE, B.union(bump), parent_code=G_CODE, parent=G, siblings={})
    assert out.bounds == pytest.approx(B.bounds)


def test_over_a_sibling_is_refused_and_a_sliver_over_it_is_cut() -> None:
    over = box(113.0008, 34.0, 113.002, 34.001)  # 0.0002° ≈ 18 m over A along 111 m
    with pytest.raises(
        MicroGridRefused, match=f"微网格 {B_CODE} 与同一网格内的微网格重叠：{A_CODE}"
    ):
        fit_micro_grid(B_CODE, over, parent_code=G_CODE, parent=G, siblings={A_CODE: A})
    touch = box(113.001 - 1 * M_LON, 34.0, 113.002, 34.001)  # 1 m over A: a sliver
    out = fit_micro_grid(B_CODE, touch, parent_code=G_CODE, parent=G, siblings={A_CODE: A})
    assert out.bounds == pytest.approx(B.bounds)
    assert out.intersection(A).area == pytest.approx(0, abs=1e-15)


def test_nothing_left_is_refused() -> None:
    far = box(113.01, 34.0, 113.011, 34.001)
    with pytest.raises(MicroGridRefused):
        fit_micro_grid(B_CODE, far, parent_code=G_CODE, parent=G, siblings={})


# ------------------------------------------------------------------------------------- audit
def test_a_full_clean_split_has_no_findings_and_never_overlaps_its_grid() -> None:
    homes = _homes(*[(113.0005, 34.0005)] * 60, *[(113.0015, 34.0005)] * 70)
    found = audit_micro_grids(
        _grids((G_CODE, G)), _micro((A_CODE, A), (B_CODE, B)), households=homes
    )
    assert _kinds(found) == []
    # Through the whole audit too: the micro-grids are not overlaps of their grid.
    whole = audit_coverage(
        gpd.GeoDataFrame({"code": ["419901001001"]}, geometry=[G], crs=4490),
        gpd.GeoDataFrame(
            {"code": [G_CODE], "community_code": ["419901001001"]}, geometry=[G], crs=4490
        ),
        households=homes,
        micro_grids=_micro((A_CODE, A), (B_CODE, B)),
        tolerances=CoverageTolerances(band=(0, 1000)),
    )
    assert _kinds(whole) == []


def test_gap_inside_the_grid_and_households_in_none() -> None:
    west = box(113.0, 34.0, 113.0008, 34.001)  # leaves 113.0008–113.001 (≈ 18 m × 111 m) uncovered
    homes = _homes((113.0009, 34.0005), (113.0005, 34.0005))
    found = audit_micro_grids(
        _grids((G_CODE, G)), _micro((A_CODE, west), (B_CODE, B)), households=homes,
        tolerances=CoverageTolerances(micro_band=(0, 100)),
    )  # fmt: skip
    assert _kinds(found) == [
        ("micro_gap", [G_CODE, A_CODE, B_CODE]),
        ("household_no_micro", ["1", G_CODE]),
    ]
    gap = found[found["kind"] == "micro_gap"].iloc[0]
    assert gap["area_m2"] == pytest.approx(0.0002 / M_LON * 0.001 / M_LAT, rel=0.02)
    assert "未被任何微网格覆盖" in gap["message"]


def test_a_grid_without_micro_grids_is_not_asked_for_them() -> None:
    other = box(113.002, 34.0, 113.004, 34.001)
    homes = _homes((113.003, 34.0005))
    found = audit_micro_grids(
        _grids((G_CODE, G), ("419901001001002", other)),
        _micro((A_CODE, A), (B_CODE, B)),
        households=homes,
        tolerances=CoverageTolerances(micro_band=(0, 100)),
    )
    assert _kinds(found) == []


def test_overlap_between_micro_grids_and_outside_the_grid() -> None:
    wide_b = box(113.0008, 34.0, 113.0025, 34.001)  # ≈ 18 m over A, ≈ 46 m past G's east edge
    found = audit_micro_grids(_grids((G_CODE, G)), _micro((A_CODE, A), (B_CODE, wide_b)))
    assert _kinds(found) == [
        ("micro_outside_grid", [B_CODE, G_CODE]),
        ("micro_overlap", [A_CODE, B_CODE]),
    ]
    outside = found.iloc[0]
    assert outside["area_m2"] == pytest.approx(0.0005 / M_LON * 0.001 / M_LAT, rel=0.02)
    orphan = audit_micro_grids(_grids(), _micro((A_CODE, A)))
    assert _kinds(orphan) == [("micro_outside_grid", [A_CODE, G_CODE])]
    assert "不是在用网格" in orphan["message"].iloc[0]


@pytest.mark.parametrize(
    ("homes_a", "expected"),
    [(49, "少于规定的 50–80 户"), (50, None), (80, None), (81, "多于规定的 50–80 户")],
)
def test_the_micro_grid_band_is_50_to_80_inclusive(homes_a, expected) -> None:  # type: ignore[no-untyped-def]
    homes = _homes(*[(113.0005, 34.0005)] * homes_a, *[(113.0015, 34.0005)] * 60)
    found = audit_micro_grids(
        _grids((G_CODE, G)), _micro((A_CODE, A), (B_CODE, B)), households=homes
    )
    if expected is None:
        assert _kinds(found) == []
    else:
        assert _kinds(found) == [("micro_band", [A_CODE])]
        assert found["message"].iloc[0] == f"微网格 {A_CODE} 有 {homes_a} 户，{expected}"


def test_a_household_on_the_shared_edge_counts_once_in_the_smaller_code() -> None:
    homes = _homes(*[(113.001, 34.0005)] * 50, *[(113.0015, 34.0005)] * 50)
    found = audit_micro_grids(
        _grids((G_CODE, G)), _micro((A_CODE, A), (B_CODE, B)), households=homes
    )
    assert _kinds(found) == []  # A has the 50 on the edge, B its own 50
