"""The synthetic province generator: a true nested coverage, the same every time, and the disk
check that refuses a province the machine cannot hold."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from app.errors import InvalidInput
from app.scale.province import check_disk, estimated_bytes
from gis.synthetic import synthetic_province


@pytest.fixture(scope="module")
def province():  # type: ignore[no-untyped-def]
    return synthetic_province(counties=2, grids_per_county=100, households_per_grid=60)


def test_levels_nest_and_cover_their_parent_exactly(province):
    areas = province.areas.set_index("code")
    counts = areas["level"].value_counts().to_dict()
    assert counts == {"province": 1, "county": 2, "township": 2, "community": 20}
    assert len(province.grids) == 200
    for level, parent_level in (
        ("county", "province"),
        ("township", "county"),
        ("community", "township"),
    ):
        children = areas[areas["level"] == level]
        for parent_code, group in children.groupby("parent_code"):
            parent = areas.loc[parent_code, "geometry"]
            assert areas.loc[parent_code, "level"] == parent_level
            assert abs(shapely.union_all(group.geometry.values).area - parent.area) < 1e-9
    # Every grid lies in its community, and grids do not overlap.
    grids = province.grids
    for code, group in grids.groupby("community_code"):
        community = areas.loc[code, "geometry"]
        assert abs(group.area.sum() - community.area) < 1e-9
        assert all(community.buffer(1e-9).contains(g) for g in group.geometry)


def test_codes_follow_the_hierarchy(province):
    codes = province.grids["code"]
    assert codes.str.len().eq(15).all()
    assert (codes.str[:12] == province.grids["community_code"]).all()
    counties = province.areas[province.areas["level"] == "county"]["code"]
    assert set(counties) == {"410101", "410102"}  # never a code ending in 00


def test_buildings_stand_in_their_grids_with_the_households_asked_for(province):
    b = province.buildings
    assert b.groupby("grid_code")["households"].sum().eq(60).all()
    grid_of = province.grids.set_index("code").geometry
    inside = [grid_of[g].covers(p) for g, p in zip(b["grid_code"], b.geometry, strict=True)]
    assert np.mean(inside) == 1.0


def test_the_same_arguments_give_the_same_province():
    a = synthetic_province(counties=1, grids_per_county=30, seed=5)
    b = synthetic_province(counties=1, grids_per_county=30, seed=5)
    assert a.grids.geometry.geom_equals_exact(b.grids.geometry, 0).all()


def test_a_province_bigger_than_the_disk_is_refused_before_writing(tmp_path):
    needed = estimated_bytes(counties=100_000, grids_per_county=1500, households_per_grid=300)
    with pytest.raises(InvalidInput, match="磁盘"):
        check_disk(tmp_path, needed)
