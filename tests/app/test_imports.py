"""Import core: every format, dry run vs commit, repairs, rejections, idempotency, CRS handling."""

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point, Polygon, box
from sqlalchemy import func, select

from app.areas.models import Area
from app.buildings.models import Building, Household
from app.errors import InvalidInput
from app.grids.models import Grid
from app.imports.service import run_import
from gis.crs import from_wgs84
from tests.factories import C1, C2, G11, tiny_county

AREAS = gpd.GeoDataFrame(
    {"code": ["419902", "419902001", "419902001001"], "name": ["测试县", "测试街道", "测试社区"]},
    geometry=[box(114.0, 35.0, 114.01, 35.01)] * 3,
    crs=4490,
)


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    return int(db.scalar(select(func.count()).select_from(model)))


@pytest.mark.parametrize(
    ("suffix", "driver", "encoding"),
    [
        (".geojson", "GeoJSON", None),
        (".gpkg", "GPKG", None),
        (".shp", "ESRI Shapefile", "GBK"),
        (".kml", "KML", None),
    ],
)
def test_areas_from_every_vector_format(db, tmp_path: Path, suffix, driver, encoding):
    path = tmp_path / f"areas{suffix}"
    frame = AREAS.copy()
    kwargs = {"encoding": encoding} if encoding else {}
    frame.to_file(path, driver=driver, **kwargs)
    if driver == "ESRI Shapefile":
        path.with_suffix(".cpg").unlink(
            missing_ok=True
        )  # as Chinese desktop GIS leaves it: GBK, unsaid
        assert "测试".encode("gbk") in path.with_suffix(".dbf").read_bytes()
    report = run_import(db, kind="areas", path=path, commit=True)
    assert report.rejected == [] and report.inserted == 3
    names = set(db.scalars(select(Area.name).where(Area.code.like("419902%"))))
    assert names == {"测试县", "测试街道", "测试社区"}
    levels = dict(db.execute(select(Area.code, Area.kind).where(Area.code.like("419902%"))).all())
    assert levels == {"419902": "county", "419902001": "street", "419902001001": "residents"}


def test_dry_run_reports_but_writes_nothing(db, tmp_path: Path):
    path = tmp_path / "areas.geojson"
    AREAS.to_file(path, driver="GeoJSON")
    report = run_import(db, kind="areas", path=path)
    assert report.inserted == 3 and report.committed is False
    assert _count(db, Area) == 0
    assert "试运行" in report.render()


def test_reimport_is_idempotent(db, tmp_path: Path):
    path = tmp_path / "areas.geojson"
    AREAS.to_file(path, driver="GeoJSON")
    run_import(db, kind="areas", path=path, commit=True)
    again = run_import(db, kind="areas", path=path, commit=True)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert _count(db, Area) == 3


def test_self_intersecting_polygon_is_repaired_and_reported(db, tmp_path: Path):
    bowtie = Polygon([(114.0, 35.0), (114.01, 35.01), (114.01, 35.0), (114.0, 35.01)])
    frame = gpd.GeoDataFrame({"code": ["419902"], "name": ["测试县"]}, geometry=[bowtie], crs=4490)
    path = tmp_path / "bad.geojson"
    frame.to_file(path, driver="GeoJSON")
    report = run_import(db, kind="areas", path=path, commit=True)
    assert report.inserted == 1 and len(report.repaired) == 1
    assert "Self-intersection" in report.repaired[0].reason and report.repaired[0].feature == 1


def test_bad_rows_are_rejected_with_feature_number_and_reason(db, tmp_path: Path):
    frame = gpd.GeoDataFrame(
        {
            "code": ["419902", "12345", "419902001", "419902001001"],
            "name": ["测试县", "坏编码", "", "测试社区"],
        },
        geometry=[
            box(114.0, 35.0, 114.01, 35.01),
            box(114.0, 35.0, 114.01, 35.01),
            box(114.0, 35.0, 114.01, 35.01),
            box(14.0, 5.0, 14.01, 5.01),
        ],
        crs=4490,
    )
    path = tmp_path / "mixed.geojson"
    frame.to_file(path, driver="GeoJSON")
    report = run_import(db, kind="areas", path=path, commit=True)
    assert report.inserted == 1
    assert [(r.feature, r.code) for r in report.rejected] == [
        (2, "12345"),
        (3, "419902001"),
        (4, "419902001001"),
    ]
    assert "6位" in report.rejected[0].reason and "名称" in report.rejected[1].reason
    assert "中国范围" in report.rejected[2].reason


def test_truncated_file_is_a_clear_error_and_writes_nothing(db, tmp_path: Path):
    path = tmp_path / "areas.geojson"
    AREAS.to_file(path, driver="GeoJSON")
    path.write_bytes(path.read_bytes()[:150])
    with pytest.raises(InvalidInput, match="无法读取"):
        run_import(db, kind="areas", path=path, commit=True)
    assert _count(db, Area) == 0


def test_overlapping_grids_are_refused_with_grids_and_area(db, tmp_path: Path):
    tiny_county(db, with_staff=False)
    frame = gpd.GeoDataFrame(
        {"code": [C1 + "003"], "name": ["越界网格"]},
        geometry=[box(113.004, 34.0, 113.006, 34.002)],  # over G11 and G12, 0.001° × 0.002° each
        crs=4490,
    )
    path = tmp_path / "grids.gpkg"
    frame.to_file(path, driver="GPKG")
    report = run_import(db, kind="grids", path=path, commit=True)
    assert report.inserted == 0 and len(report.rejected) == 1
    reason = report.rejected[0].reason
    assert G11 in reason and C1 + "002" in reason and "平方米" in reason
    assert db.scalar(select(func.count()).where(Grid.code == C1 + "003")) == 0


def test_changed_grid_gets_a_new_version_and_the_old_one_is_kept(db, tmp_path: Path):
    tiny_county(db, with_staff=False)
    frame = gpd.GeoDataFrame(
        {"code": [C2 + "001"], "name": ["和平社区第1网格"]},
        geometry=[box(113.01, 34.0, 113.02, 34.009)],  # shrunk from the north edge
        crs=4490,
    )
    path = tmp_path / "grids.geojson"
    frame.to_file(path, driver="GeoJSON")
    report = run_import(db, kind="grids", path=path, commit=True)
    assert report.updated == 1
    rows = db.execute(
        select(Grid.version, Grid.status).where(Grid.code == C2 + "001").order_by(Grid.version)
    ).all()
    assert [tuple(r) for r in rows] == [(1, "retired"), (2, "active")]


def test_buildings_and_households_from_csv_with_gcj02(db, tmp_path: Path):
    tiny_county(db, with_staff=False)
    x, y = from_wgs84(113.007, 34.003, "gcj02")
    (tmp_path / "b.csv").write_text(
        f"code,name,compound,households,lng,lat\nB9,5号楼,阳光花园,2,{float(x)},{float(y)}\n",
        encoding="utf-8",
    )
    report = run_import(db, kind="buildings", path=tmp_path / "b.csv", crs="gcj02", commit=True)
    assert report.inserted == 1 and any("GCJ02" in n for n in report.notes)
    b = db.scalar(select(Building).where(Building.code == "B9"))
    from geoalchemy2.shape import to_shape

    p = to_shape(b.location)
    assert abs(p.x - 113.007) < 1e-6 and abs(p.y - 34.003) < 1e-6
    assert b.community_code == C1  # found spatially when the file does not say
    (tmp_path / "h.csv").write_text(
        "building_code,unit,room,size,special_groups\nB9,1,101,3,hardship;信访户\nB9,1,102,2,\nNOPE,1,1,1,\nB9,1,103,x,\nB9,1,104,1,alien\n",
        encoding="gbk",
    )
    report = run_import(db, kind="households", path=tmp_path / "h.csv", commit=True)
    assert report.inserted == 2
    assert [(r.feature, r.reason[:6]) for r in report.rejected] == [
        (3, "楼栋编码 N"),
        (4, "人数 'x'"),
        (5, "未知的重点人"),
    ]
    groups = db.scalar(
        select(Household.special_groups).where(
            Household.room == "101", Household.building_id == b.id
        )
    )
    assert groups == ["hardship", "petitioner"]


def test_unknown_crs_is_a_clear_error(db, tmp_path: Path):
    AREAS.to_file(tmp_path / "a.geojson", driver="GeoJSON")
    with pytest.raises(InvalidInput, match="--crs"):
        run_import(db, kind="areas", path=tmp_path / "a.geojson", crs="EPSG:99999")


def test_projected_file_is_converted_and_reported(db, tmp_path: Path):
    AREAS.to_crs(4547).to_file(tmp_path / "a.gpkg", driver="GPKG")
    report = run_import(db, kind="areas", path=tmp_path / "a.gpkg", commit=True)
    assert report.inserted == 3 and any("4547" in n for n in report.notes)
    from geoalchemy2.shape import to_shape

    geom = to_shape(db.scalar(select(Area.geom).where(Area.code == "419902")))
    assert abs(geom.bounds[0] - 114.0) < 1e-6


def test_upload_endpoint_uses_the_same_core(client, token_for, tmp_path: Path):
    AREAS.to_file(tmp_path / "a.geojson", driver="GeoJSON")
    data = (tmp_path / "a.geojson").read_bytes()
    anon = client.post("/api/v1/imports/areas", files={"file": ("a.geojson", data)})
    assert anon.status_code == 401
    worker = client.post(
        "/api/v1/imports/areas",
        files={"file": ("a.geojson", data)},
        headers=token_for("grid_worker"),
    )
    assert worker.status_code == 403
    dry = client.post(
        "/api/v1/imports/areas", files={"file": ("a.geojson", data)}, headers=token_for("planner")
    )
    assert (
        dry.status_code == 200 and dry.json()["inserted"] == 3 and dry.json()["committed"] is False
    )
    bad = client.post(
        "/api/v1/imports/areas", files={"file": ("a.docx", b"xx")}, headers=token_for("planner")
    )
    assert bad.status_code == 422 and ".docx" in bad.json()["detail"]
    done = client.post(
        "/api/v1/imports/areas",
        files={"file": ("a.geojson", data)},
        data={"commit": "true"},
        headers=token_for("planner"),
    )
    assert done.status_code == 200 and done.json()["committed"] is True


def test_staff_import_refuses_a_second_leader(db, tmp_path: Path):
    tiny_county(db)  # G11 already has leader S1 from 2026-01-01
    (tmp_path / "s.csv").write_text(
        "staff_code,name,phone,employment,role,grid_code,start_date,end_date\n"
        f"S7,赵六,13600000000,full_time,leader,{G11},2026-05-01,\n"
        f"S8,钱七,13600000001,兼职,网格员,{G11},2026-05-01,\n"
        "S9,孙八,,full_time,leader,419901001009009,2026-05-01,\n",
        encoding="utf-8",
    )
    report = run_import(db, kind="staff", path=tmp_path / "s.csv", commit=True)
    assert report.inserted == 1
    assert [r.feature for r in report.rejected] == [1, 3]
    assert "网格长" in report.rejected[0].reason and "不存在" in report.rejected[1].reason


def test_point_geometry_for_areas_is_rejected(db, tmp_path: Path):
    frame = gpd.GeoDataFrame(
        {"code": ["419902"], "name": ["x"]}, geometry=[Point(114, 35)], crs=4490
    )
    frame.to_file(tmp_path / "p.geojson", driver="GeoJSON")
    report = run_import(db, kind="areas", path=tmp_path / "p.geojson")
    assert report.rejected[0].reason.startswith("不是面状几何")
