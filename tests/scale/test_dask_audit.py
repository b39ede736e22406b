"""The audit of an export on a real Dask cluster equals one run over the same data, cross-border
findings included; the export itself; the refusals.

Two hand-made counties side by side (lon 114.00-114.02 and 114.02-114.04, lat 34.00-34.02):

    county 419901, community C_A        county 419902, community C_B
    +---------+----------+ +----------+----------+
    |   A1    |    A2   >|>|    B1    |    B2    |   A2 reaches 0.0005° (about 46 m) into B1
    |         |   [bs]   | |          |----------|   bs: a building split between A2 and B1
    |         |          | |          |  gap  [o]|   B2 stops at 34.015: a gap, with a
    +---------+----------+ +----------+----------+   building [o] and a household in it
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pyarrow.parquet as pq
import pytest
from shapely.geometry import Point, box

from app.cli import main
from app.scale import partitions
from app.scale.dask_audit import audit_in_one_process, audit_on_cluster
from gis.coverage import CoverageTolerances
from gis.coverage.partitioned import finding_keys

CA, CB = "419901001001", "419902001001"
A1, A2, B1, B2 = (f"{CA}001", f"{CA}002", f"{CB}001", f"{CB}002")
TOLERANCES = CoverageTolerances(band=(0, 10_000))  # the band is not what these tests are about


def _write(directory: Path, table: str, county: str, frame: gpd.GeoDataFrame) -> None:
    path = partitions.part_path(directory, table, county)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, write_covering_bbox=True, schema_version="1.1.0", index=False)


def _frame(rows: dict, geoms: list) -> gpd.GeoDataFrame:  # type: ignore[type-arg]
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=4490)


@pytest.fixture
def export(tmp_path: Path) -> Path:
    d = tmp_path / "export"
    for county, community, cbox in (
        ("419901", CA, box(114.00, 34.00, 114.02, 34.02)),
        ("419902", CB, box(114.02, 34.00, 114.04, 34.02)),
    ):
        _write(d, "areas", county, _frame(
            {"code": [county, community], "name": ["县", "社区"], "level": ["county", "community"],
             "parent_code": [None, county]}, [cbox, cbox]))  # fmt: skip
    _write(d, "grids", "419901", _frame(
        {"code": [A1, A2], "name": ["A1", "A2"], "community_code": [CA, CA],
         "type": ["comprehensive"] * 2},
        [box(114.00, 34.00, 114.01, 34.02), box(114.01, 34.00, 114.0205, 34.02)]))  # fmt: skip
    _write(d, "grids", "419902", _frame(
        {"code": [B1, B2], "name": ["B1", "B2"], "community_code": [CB, CB],
         "type": ["comprehensive"] * 2},
        [box(114.0205, 34.00, 114.03, 34.02), box(114.03, 34.00, 114.04, 34.015)]))  # fmt: skip
    # B1 starts where A2 ends here; the overlap comes from A2's piece inside C_B instead:
    _write(d, "buildings", "419901", _frame(
        {"code": ["BA-split"], "community_code": [CA], "household_count": [1]},
        [box(114.0195, 34.010, 114.0215, 34.011)]))  # fmt: skip
    _write(d, "buildings", "419902", _frame(
        {"code": ["BB-gap"], "community_code": [CB], "household_count": [1]},
        [Point(114.035, 34.018)]))  # fmt: skip
    _write(d, "households", "419901", _frame(
        {"id": [1, 2], "building_code": ["BA-split", "BA-split"], "community_code": [CA, CA]},
        [Point(114.005, 34.01), Point(114.015, 34.01)]))  # fmt: skip
    _write(d, "households", "419902", _frame(
        {"id": [3, 4], "building_code": ["BB-gap", "BB-gap"], "community_code": [CB, CB]},
        [Point(114.025, 34.01), Point(114.035, 34.018)]))  # fmt: skip
    return d


def test_the_cluster_answers_as_one_run_does(export, dask_scheduler):
    whole = audit_in_one_process(export, tolerances=TOLERANCES)
    spread = audit_on_cluster(export, dask_scheduler, tolerances=TOLERANCES)
    assert finding_keys(spread) == finding_keys(whole)
    assert len(spread) == len(whole)  # nothing found twice on the two sides of the border
    keys = finding_keys(spread)
    # Hand-read from the drawing above.
    assert ("crosses_community", (A2, CA)) in keys
    assert ("building_split", ("BA-split", A2, B1)) in keys or (
        "building_split", ("BA-split", B1, A2)) in keys  # fmt: skip
    assert any(kind == "gap" and objects[0] == CB for kind, objects in keys)
    assert ("household_outside", ("4", CB)) in keys
    assert ("building_outside", ("BB-gap", CB)) in keys


def test_the_audit_command_on_the_cluster(export, dask_scheduler, tmp_path, capsys):
    out = tmp_path / "findings.geojson"
    code = main(["audit", "--engine", "dask", "--scheduler", dask_scheduler,
                 "--data", str(export), "-o", str(out)])  # fmt: skip
    assert code == 0
    assert "分布式审计" in capsys.readouterr().err
    written = gpd.read_file(out)
    assert set(written["kind"]) >= {"gap", "crosses_community", "household_outside"}


def test_an_unreachable_scheduler_is_a_clear_error_in_seconds(export, capsys):
    import time

    t0 = time.monotonic()
    code = main(["audit", "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9",
                 "--data", str(export)])  # fmt: skip
    assert code == 2 and time.monotonic() - t0 < 30
    assert "无法连接 Dask 调度器" in capsys.readouterr().err


def test_the_dask_engine_needs_its_scheduler_and_data(capsys):
    assert main(["audit", "--engine", "dask"]) == 2
    assert "--scheduler" in capsys.readouterr().err


def test_export_writes_partitions_without_personal_fields(db, tmp_path):
    from app.scale.export import export_geoparquet
    from tests.factories import tiny_county

    tiny_county(db)
    db.flush()
    report = export_geoparquet(db, tmp_path / "x", area_code="4199")
    assert report.counties == ["419901"]
    path = partitions.part_path(tmp_path / "x", "grids", "419901")
    grids = gpd.read_parquet(path)
    assert grids.crs.to_epsg() == 4490
    geo = json.loads(pq.read_schema(path).metadata[b"geo"])
    assert geo["version"].startswith("1.") and "covering" in geo["columns"]["geometry"]
    assert len(grids) == report.rows["grids"] > 0
    for table in ("households", "incidents"):
        path = partitions.part_path(tmp_path / "x", table, "419901")
        if path.exists():
            columns = set(gpd.read_parquet(path).columns)
            assert not columns & {"head_name", "phone", "reporter_phone", "reporter_name",
                                  "description", "address"}  # fmt: skip


def test_export_refuses_a_directory_that_has_files(db, tmp_path):
    from app.errors import Conflict
    from app.scale.export import export_geoparquet

    (tmp_path / "old.txt").write_text("x")
    with pytest.raises(Conflict, match="--overwrite"):
        export_geoparquet(db, tmp_path)
    assert (tmp_path / "old.txt").exists()
