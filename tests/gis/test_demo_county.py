"""The committed synthetic demo county (data/boundaries/demo_*) is internally consistent.

Pure: reads the files, no database. Areas are compared in metres (gis.projection.to_metric).
The deliberate defects below are the ones data/boundaries/README.md documents; audits must find
exactly these, so the data must contain exactly these.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis.projection import distance_m, to_metric

DATA = Path(__file__).resolve().parents[2] / "data" / "boundaries"
COUNTY = "419901"
LEADERLESS = {"419901001004003", "419901002001004", "419901100203002", "419901200202003"}
ENDED_LEADER_GRID = "419901101201003"
STRADDLERS = {"4199010010020015", "4199010010050007", "4199010020030005"}
SPECIAL_GROUPS = {
    "hardship",
    "critically_ill",
    "empty_nest_elderly",
    "left_behind_child",
    "petitioner",
    "disabled",
    "community_correction",
}
TINY_M2 = 0.01  # shared edges are identical vertex for vertex: only float noise remains


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def areas() -> gpd.GeoDataFrame:
    return to_metric(gpd.read_file(DATA / "demo_areas.geojson"))


@pytest.fixture(scope="module")
def grids() -> gpd.GeoDataFrame:
    return to_metric(gpd.read_file(DATA / "demo_grids.gpkg", layer="grids"))


@pytest.fixture(scope="module")
def buildings() -> gpd.GeoDataFrame:
    return to_metric(gpd.read_file(DATA / "demo_buildings.gpkg", layer="buildings"))


@pytest.fixture(scope="module")
def entrances() -> gpd.GeoDataFrame:
    df = _csv("demo_buildings.csv")
    pts = gpd.points_from_xy(df.lng.astype(float), df.lat.astype(float), crs=4490)
    return to_metric(gpd.GeoDataFrame(df, geometry=pts))


@pytest.fixture(scope="module")
def grid_households(grids, entrances) -> pd.Series:
    joined = gpd.sjoin(entrances, grids[["code", "geometry"]], predicate="within")
    assert len(joined) == len(entrances), "every building entrance lies in exactly one grid"
    per_grid = joined.groupby("code_right").households.apply(lambda s: s.astype(int).sum())
    return per_grid.reindex(grids.code, fill_value=0)


@pytest.fixture(scope="module")
def staff() -> pd.DataFrame:
    return _csv("demo_staff.csv")


def _assert_tiles(parent, children, what: str) -> None:
    union = shapely.union_all(children.geometry.values)
    overlap = children.area.sum() - union.area
    mismatch = shapely.symmetric_difference(parent, union).area
    assert overlap < TINY_M2, f"{what}: children overlap by {overlap:.3f} m²"
    assert mismatch < TINY_M2, f"{what}: gaps or spill-over of {mismatch:.3f} m²"


@pytest.mark.parametrize(
    ("parent_level", "child_level"), [("county", "township"), ("township", "community")]
)
def test_areas_tile_their_parent(areas, parent_level, child_level):
    parents = areas[areas.level == parent_level]
    for _, p in parents.iterrows():
        kids = areas[(areas.level == child_level) & (areas.parent_code == p.code)]
        assert len(kids) >= 3, p.code
        _assert_tiles(p.geometry, kids, f"{p['name']} {p.code}")


def test_grids_tile_each_community(areas, grids):
    communities = areas[areas.level == "community"]
    assert set(grids.community_code) == set(communities.code)
    for _, c in communities.iterrows():
        _assert_tiles(c.geometry, grids[grids.community_code == c.code], f"{c['name']} {c.code}")


def test_area_codes_follow_domain_ranges(areas):
    county = areas[areas.level == "county"]
    assert county.code.tolist() == [COUNTY] and county["name"].tolist() == ["示范县"]
    assert county.parent_code.isna().all()
    towns = areas[areas.level == "township"]
    assert len(towns) >= 3
    ranges = {"street": (1, 99), "town": (100, 199), "township": (200, 399)}
    for _, t in towns.iterrows():
        lo, hi = ranges[t.kind]
        assert (
            re.fullmatch(r"\d{9}", t.code) and t.code.startswith(COUNTY) and t.parent_code == COUNTY
        )
        assert lo <= int(t.code[6:]) <= hi, t.code
    coms = areas[areas.level == "community"]
    assert len(coms) >= 12
    parent_kind = dict(zip(towns.code, towns.kind, strict=True))
    for _, c in coms.iterrows():
        assert re.fullmatch(r"\d{12}", c.code) and c.code[:9] == c.parent_code, c.code
        serial = int(c.code[9:])
        if c.kind == "residents":
            assert 1 <= serial <= 199 and c["name"].endswith("社区"), c.code
        else:
            assert serial >= 200 and c["name"].endswith("村"), c.code
            assert parent_kind[c.parent_code] != "street", "streets have residents' committees only"


def test_grid_codes_and_names(grids):
    assert grids.code.is_unique and grids.crs.to_epsg() is not None
    for _, g in grids.iterrows():
        assert re.fullmatch(r"\d{15}", g.code) and g.code[:12] == g.community_code, g.code
        assert g.geometry.is_valid and g.geometry.geom_type == "MultiPolygon", g.code
        if g["type"] == "comprehensive":
            assert g["name"].endswith(f"第{int(g.code[12:])}网格"), g["name"]
        else:
            assert g["type"] == "dedicated" and g["name"].endswith("专属网格"), g["name"]
    assert 120 <= (grids["type"] == "comprehensive").sum() <= 150
    assert (grids["type"] == "dedicated").sum() == 3


def test_grid_serials_run_west_to_east_then_north_to_south(grids):
    """Row bands one typical grid high, counted from the community's northern edge; in a band,
    west to east (README.md, "Grid serials")."""
    for _, g in grids.groupby("community_code"):
        top = g.total_bounds[3]
        band = max(10.0, round(float(np.sqrt(g.area.sum() / len(g))) / 10) * 10)
        c = g.centroid
        key = [(int((top - y) // band), x) for x, y in zip(c.x, c.y, strict=True)]
        expected = [g.code.iloc[i] for i in sorted(range(len(g)), key=key.__getitem__)]
        assert sorted(g.code) == expected


def test_households_total_and_per_building(entrances):
    hh = _csv("demo_households.csv")
    assert 38_000 <= len(hh) <= 42_000
    per_building = hh.groupby("building_code").size()
    declared = entrances.set_index("code").households.astype(int)
    assert per_building.reindex(declared.index, fill_value=0).equals(declared)
    assert not hh.duplicated(["building_code", "unit", "room"]).any()


def test_grid_households_mostly_in_band(grids, grid_households):
    comprehensive = grid_households[grids.set_index("code")["type"] == "comprehensive"]
    in_band = comprehensive.between(250, 500)
    assert in_band.mean() >= 0.9, comprehensive[~in_band]
    assert (comprehensive > 0).all()
    dedicated = grid_households[grids.set_index("code")["type"] == "dedicated"]
    assert (dedicated == 0).all()


def test_household_fields():
    hh = _csv("demo_households.csv")
    assert hh["size"].astype(int).between(1, 6).all()
    assert hh.phone.str.fullmatch(r"170-\d{4}-\d{4}").all()
    urban = hh.unit != ""
    assert hh.unit[urban].astype(int).between(1, 6).all()
    assert hh.room[urban].str.fullmatch(r"\d{3,4}").all()
    assert hh.room[~urban].str.fullmatch(r"\d+号").all()
    flags = hh.special_groups[hh.special_groups != ""].str.split(";").explode()
    assert set(flags) <= SPECIAL_GROUPS
    assert 0.03 <= (hh.special_groups != "").mean() <= 0.05


def test_buildings_lie_in_their_community(areas, buildings):
    coms = areas[areas.level == "community"].set_index("code").geometry
    assert buildings.code.is_unique
    assert buildings.code.str.fullmatch(r"\d{16}").all()
    assert (buildings.code.str[:12] == buildings.community_code).all()
    outside = buildings.geometry.difference(coms.loc[buildings.community_code], align=False)
    assert (outside.area < TINY_M2).all()


def test_building_names_addresses_aliases():
    b = _csv("demo_buildings.csv")
    assert b.groupby(["community_code", "compound"]).ngroups >= 130
    assert 1_800 <= len(b) <= 2_400
    for _, r in b.head(500).iterrows():
        assert r.address.startswith("示范县") and r.address.endswith(r.compound + r["name"])
        assert len(r.aliases.split("|")) >= 2 and r.compound in r.aliases


def test_exactly_the_documented_buildings_straddle_grids(buildings, grids):
    pairs = gpd.sjoin(buildings[["code", "geometry"]], grids[["code", "geometry"]])
    cut = shapely.intersection(
        buildings.set_index("code").geometry.loc[pairs.code_left].values,
        grids.set_index("code").geometry.loc[pairs.code_right].values,
    )
    pairs["share"] = (
        shapely.area(cut) / buildings.set_index("code").area.loc[pairs.code_left].values
    )
    split = pairs[pairs.share > 0.01].groupby("code_left").size()
    assert set(split[split > 1].index) == STRADDLERS


def test_exactly_the_documented_grids_lack_a_leader(grids, staff):
    leaders = staff[staff.role == "leader"]
    assert set(grids.code) - set(leaders.grid_code) == LEADERLESS
    current = leaders[leaders.end_date == ""]
    assert set(grids.code) - set(current.grid_code) == LEADERLESS | {ENDED_LEADER_GRID}
    ended = leaders[leaders.end_date != ""]
    assert ended.grid_code.tolist() == [ENDED_LEADER_GRID]
    assert ended.end_date.tolist() == ["2026-06-30"]
    assert current.grid_code.is_unique, "exactly one current leader per grid"


def test_staff_roles_and_assignments(grids, staff):
    assert set(staff.role) == {"leader", "worker", "building_leader", "unit_steward"}
    assert set(staff.employment) == {"full_time", "part_time"}
    assert set(staff.grid_code) <= set(grids.code)
    workers = staff[staff.role == "worker"]
    assert workers.groupby("grid_code").size().between(1, 2).all()
    assert set(workers.grid_code) == set(grids.code)
    multi = workers.groupby("staff_code").grid_code.nunique()
    assert (multi == 2).sum() >= 5
    assert (
        staff.set_index("staff_code").loc[multi[multi == 2].index].employment == "part_time"
    ).all()
    chain = staff[staff.role.isin(["building_leader", "unit_steward"])]
    assert len(chain) >= 5 and (chain.building_code.str.len() == 16).all()
    assert (staff[~staff.index.isin(chain.index)].building_code == "").all()
    assert staff.phone.str.fullmatch(r"170-\d{4}-\d{4}").all()


def test_survey_is_gcj02_shifted_from_its_truth():
    s = _csv("demo_survey_gcj02.csv")
    assert 15 <= len(s) <= 25
    known = set(_csv("demo_buildings.csv").code)
    assert not set(s.code) & known, "surveyed buildings are new"
    d = distance_m(
        s.lng.astype(float).values,
        s.lat.astype(float).values,
        s.wgs84_lng.astype(float).values,
        s.wgs84_lat.astype(float).values,
    )
    assert ((d > 300) & (d < 800)).all(), d  # GCJ-02 is a few hundred metres off here


def test_roads_and_labels():
    roads = gpd.read_file(DATA / "demo_roads.geojson")
    assert set(roads["class"]) == {"arterial", "county_road", "local", "river"}
    assert (roads.geometry.geom_type == "LineString").all() and roads["name"].is_unique
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert "合成数据" in readme
    for code in sorted(LEADERLESS | STRADDLERS | {ENDED_LEADER_GRID}):
        assert code in readme, f"README.md does not document {code}"
    assert "合成数据" in (DATA / "demo_areas.geojson").read_text(encoding="utf-8")[:400]
