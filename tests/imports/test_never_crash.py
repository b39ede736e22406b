"""Imports never crash: each row-level problem is a rejected row with its number and reason (dry
run included), a file that cannot be opened is a 422 with a message, never a traceback or a 500.

The named cases first, with hand-written reasons; then hypothesis feeds the import generated and
corrupted files of every format (CSV, GeoJSON, zipped Shapefile, GeoPackage, Excel) for every kind.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from shapely.geometry import LineString, Point, Polygon, box

from app.errors import InvalidInput, PayloadTooLarge
from app.imports.readers import SHAPEFILE_PARTS
from app.imports.service import run_import

KINDS = ("areas", "grids", "buildings", "households", "staff", "barriers")


def _reasons(report) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    return [(r.feature, r.reason) for r in report.rejected]


# --------------------------------------------------------------------------- named cases
def test_csv_coordinates_that_cannot_be_used_are_rejected_rows(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "b.csv"
    path.write_text(
        "code,name,lng,lat\n"
        "B1,好楼,113.6,34.5\n"
        "B2,空坐标,,\n"
        "B3,半个,113.6,\n"
        "B4,字母,abc,34.5\n"
        "B5,越界,113.6,95\n"
        "B6,无穷,inf,34.5\n"
        "B1,重复,113.6,34.5\n"
        "B8,国外,2.35,48.85\n",
        "utf-8",
    )
    report = run_import(db, kind="buildings", path=path)
    assert report.inserted == 1 and report.total == 8
    assert _reasons(report) == [
        (2, "缺少位置：需要点坐标（lng/lat）或楼栋轮廓"),
        (3, "lat 为空"),
        (4, "lng 的值 'abc' 不是数字"),
        (5, "lat 的值 95 超出 ±90"),
        (6, "lng 的值 'inf' 不是有限的数"),
        (7, "文件中楼栋编码重复"),
        (8, "坐标不在中国范围内：请检查坐标系（--crs）或经纬度是否颠倒"),
    ]


def test_geojson_null_empty_wrong_and_broken_geometries(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    square = [[[114.0, 35.0], [114.01, 35.0], [114.01, 35.01], [114.0, 35.01], [114.0, 35.0]]]
    features: list[Any] = [
        {"type": "Feature", "properties": {"code": "419902", "name": "好县"},
         "geometry": {"type": "Polygon", "coordinates": square}},
        {"type": "Feature", "properties": {"code": "419903", "name": "无几何"}, "geometry": None},
        {"type": "Feature", "properties": {"code": "419904", "name": "空"},
         "geometry": {"type": "Polygon", "coordinates": []}},
        {"type": "Feature", "properties": {"code": "419905", "name": "点"},
         "geometry": {"type": "Point", "coordinates": [114.0, 35.0]}},
        {"type": "Feature", "properties": {"code": "419906", "name": "字"},
         "geometry": {"type": "Polygon", "coordinates": [[["a", "b"], [1, 2], [3, 4], ["a", "b"]]]}},
        {"type": "Feature", "properties": {"code": "419907", "name": "非数"},
         "geometry": {"type": "Point", "coordinates": [float("nan"), 35.0]}},
        {"type": "Feature", "properties": {"code": "419902", "name": "重复"},
         "geometry": {"type": "Polygon", "coordinates": square}},
        "not a feature",
    ]  # fmt: skip
    path = tmp_path / "a.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    report = run_import(db, kind="areas", path=path)
    assert report.inserted == 1 and report.total == 8
    reasons = dict(_reasons(report))
    assert reasons[2].startswith("无几何：这一行没有边界，库中也没有该区划或其下级区划可合成边界")
    assert reasons[3] == "缺少几何图形"
    assert reasons[4] == "不是面状几何（Point）"
    assert reasons[5].startswith("几何坐标无法读取（Polygon）")
    assert reasons[6] == "几何含有非数值坐标（NaN 或无穷大）"
    assert reasons[7] == "文件中编码 419902 重复（第1条已有）"
    assert reasons[8] == "不是 GeoJSON Feature"


def test_bad_encoding_rejects_the_rows_it_spoils(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "b.csv"
    good = "code,name,lng,lat\nB1,第一栋,113.6,34.5\n".encode()
    path.write_bytes(good + b"B2,\xff\xfe\xfa,113.6,34.5\nB3,third,113.61,34.5\n")
    report = run_import(db, kind="buildings", path=path)
    assert report.inserted == 2
    assert _reasons(report) == [
        (2, "字段 name 含有无法识别的字符：文件编码有误（可用 --encoding 指定）")
    ]
    assert any("都无法识别" in n for n in report.notes)


def test_csv_line_with_wrong_number_of_fields(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "b.csv"
    path.write_text("code,name,lng,lat\nB1,a,113.6,34.5\nB2,b,113.6,34.5,extra\nB3\n", "utf-8")
    report = run_import(db, kind="buildings", path=path)
    assert report.inserted == 1
    assert _reasons(report) == [
        (2, "字段数 5 与表头的 4 个不符"),
        (3, "字段数 1 与表头的 4 个不符"),
    ]


def test_numbers_that_do_not_fit_are_rejected(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "b.csv"
    path.write_text(
        "code,households,lng,lat\nB1,99999999999,113.6,34.5\nB2,²,113.6,34.5\nB3,-1,113.6,34.5\n"
        f"{'B' * 40},1,113.6,34.5\n",
        "utf-8",
    )
    report = run_import(db, kind="buildings", path=path)
    assert report.inserted == 0
    assert _reasons(report) == [
        (1, "户数 '99999999999' 不是0到100000之间的整数"),
        (2, "户数 '²' 不是0到100000之间的整数"),
        (3, "户数 '-1' 不是0到100000之间的整数"),
        (4, "字段 code 过长：40 个字符，最多 32 个"),
    ]


def test_bare_shapefile_asks_for_the_zip(db, client, token_for, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    frame = gpd.GeoDataFrame({"code": ["419902"]}, geometry=[box(114, 35, 114.01, 35.01)], crs=4490)
    frame.to_file(tmp_path / "a.shp")
    shp = (tmp_path / "a.shp").read_bytes()
    answer = client.post(
        "/api/v1/imports/areas", files={"file": ("a.shp", shp)}, headers=token_for("planner")
    )
    assert answer.status_code == 422
    assert answer.json()["detail"] == "请将 .shp 与同名的 .dbf、.shx、.prj 打包为一个 zip 上传"
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "a.shp").write_bytes(shp)
    with pytest.raises(InvalidInput, match=SHAPEFILE_PARTS):
        run_import(db, kind="areas", path=alone / "a.shp")
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as zf:
        zf.writestr("a.shp", shp)
    zipped = client.post(
        "/api/v1/imports/areas",
        files={"file": ("a.zip", packed.getvalue())},
        headers=token_for("planner"),
    )
    assert zipped.status_code == 422 and zipped.json()["detail"] == SHAPEFILE_PARTS


def test_http_gets_a_report_not_a_500(client, token_for) -> None:  # type: ignore[no-untyped-def]
    body = b"code,lng,lat\nB1,,\nB2,abc,1\n"
    answer = client.post(
        "/api/v1/imports/buildings", files={"file": ("b.csv", body)}, headers=token_for("planner")
    )
    assert answer.status_code == 200
    assert [(r["feature"], r["reason"]) for r in answer.json()["rejected"]] == [
        (1, "缺少位置：需要点坐标（lng/lat）或楼栋轮廓"),
        (2, "lng 的值 'abc' 不是数字"),
    ]


# --------------------------------------------------------------------------- generated files
NAMES = ["code", "name", "level", "parent_code", "kind", "urban_rural", "adcode", "统计用区划代码",
         "type", "community_code", "households", "aliases", "building_code", "unit", "room", "size",
         "special_groups", "staff_code", "role", "grid_code", "employment", "start_date", "class",
         "lng", "lat", "wkt", "经度", "parent.adcode"]  # fmt: skip
VALUES = ["", " ", "nan", "NaN", "inf", "-1e309", "1e400", "113.6", "34.5", "200", "-95", "abc",
          "41", "4199", "419901", "419901001", "419901001001", "419901001001001", "330200",
          "100000_JD", "²", "٣", "province", "city", "district", "street", "country", "村", "111",
          "999", "网格长", "leader", "micro", "2026-13-40", "2026-01-01", "river", "道路",
          "POLYGON((113.6 34.5, 113.61 34.5, 113.61 34.51, 113.6 34.5))", "POINT(113.6 34.5)",
          "POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))", "LINESTRING(113.6 34.5, 113.7 34.6)",
          "POINT EMPTY", "POLYGON((", "{\"adcode\": 1}", "x" * 400]  # fmt: skip
cell = st.one_of(
    st.sampled_from(VALUES),
    st.text(max_size=8),
    st.integers(-(10**15), 10**15).map(str),
    st.floats().map(repr),
)
coord = st.one_of(
    st.floats(min_value=113.5, max_value=114.2),
    st.floats(min_value=34.3, max_value=35.1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["a", None, [], True]),
)
position = st.lists(coord, min_size=0, max_size=3)
ring = st.lists(position, min_size=0, max_size=6)
near = st.tuples(st.floats(113.5, 114.2), st.floats(34.3, 35.1), st.floats(1e-9, 0.05))
shapes = st.one_of(
    st.none(),
    near.map(lambda t: box(t[0], t[1], t[0] + t[2], t[1] + t[2])),
    near.map(
        lambda t: Polygon(
            [(t[0], t[1]), (t[0] + t[2], t[1] + t[2]), (t[0] + t[2], t[1]), (t[0], t[1] + t[2])]
        )
    ),
    near.map(lambda t: Point(t[0], t[1])),
    near.map(lambda t: LineString([(t[0], t[1]), (t[0] + t[2], t[1])])),
    st.just(Polygon()),
    st.just(Point(2.35, 48.85)),
)
geojson_geometry = st.one_of(
    shapes.map(
        lambda g: (
            None
            if g is None
            else json.loads(gpd.GeoSeries([g]).to_json())["features"][0]["geometry"]
        )
    ),
    st.fixed_dictionaries({"type": st.just("Point"), "coordinates": position}),
    st.fixed_dictionaries({"type": st.just("Polygon"), "coordinates": st.lists(ring, max_size=2)}),
    st.fixed_dictionaries(
        {
            "type": st.just("MultiPolygon"),
            "coordinates": st.lists(st.lists(ring, max_size=2), max_size=2),
        }
    ),
    st.fixed_dictionaries({"type": st.just("LineString"), "coordinates": ring}),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["GeometryCollection", "Foo", ""]), "geometries": st.just([])}
    ),
    st.sampled_from([[], "POINT(1 2)", 7, {"coordinates": [1, 2]}]),
)


@st.composite
def tables(draw: Any) -> tuple[list[str], list[list[str]]]:
    header = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=6, unique=True))
    rows = draw(st.lists(st.lists(cell, min_size=len(header), max_size=len(header)), max_size=6))
    return header, rows


@st.composite
def corruption(draw: Any) -> Any:
    """Nothing, a truncation, or a few bytes overwritten."""
    how = draw(st.sampled_from(["none", "none", "truncate", "flip"]))
    cut = draw(st.floats(0.0, 1.0))
    flips = draw(
        st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), min_size=1, max_size=8)
    )

    def apply(data: bytes) -> bytes:
        if how == "truncate":
            return data[: int(len(data) * cut)]
        if how == "flip" and data:
            out = bytearray(data)
            for where, value in flips:
                out[min(int(len(out) * where), len(out) - 1)] = value
            return bytes(out)
        return data

    return apply


def _attempt(db, kind: str, path: Path, crs: str | None) -> None:  # type: ignore[no-untyped-def]
    """One import as a dry run: a report, or a refusal with a message; anything else is a crash."""
    try:
        report = run_import(db, kind=kind, path=path, crs=crs)
    except (InvalidInput, PayloadTooLarge) as exc:
        assert exc.message  # a person can act on it
        return
    assert report.committed is False
    assert all(r.feature >= 1 and r.reason for r in report.rejected)
    assert len(report.rejected) <= report.total


FUZZ = settings(
    # 25 a format in the suite; GRIDGOV_FUZZ_EXAMPLES=500 for a long run by hand.
    max_examples=int(os.environ.get("GRIDGOV_FUZZ_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
crs_choice = st.sampled_from([None, None, "gcj02", "4547", "4490"])


@FUZZ
@given(table=tables(), kind=st.sampled_from(KINDS), damage=corruption(), crs=crs_choice,
       encoding=st.sampled_from(["utf-8", "gbk", "utf-16"]))  # fmt: skip
def test_generated_csv_never_crashes(
    db, tmp_path_factory, table, kind, damage, crs, encoding
) -> None:  # type: ignore[no-untyped-def]
    header, rows = table
    text = "\n".join(",".join(r) for r in [header, *rows])
    data = damage(text.encode(encoding, errors="replace"))
    path = tmp_path_factory.mktemp("csv") / "f.csv"
    path.write_bytes(data)
    _attempt(db, kind, path, crs)


@FUZZ
@given(
    props=st.lists(st.dictionaries(st.sampled_from(NAMES), cell, max_size=5), max_size=6),
    geoms=st.lists(geojson_geometry, max_size=6),
    kind=st.sampled_from(KINDS),
    damage=corruption(),
    crs=crs_choice,
)
def test_generated_geojson_never_crashes(
    db, tmp_path_factory, props, geoms, kind, damage, crs
) -> None:  # type: ignore[no-untyped-def]
    features = [{"type": "Feature", "properties": p, "geometry": g} for p, g in zip(props, geoms, strict=False)]  # fmt: skip
    data = damage(json.dumps({"type": "FeatureCollection", "features": features}).encode())
    path = tmp_path_factory.mktemp("geojson") / "f.geojson"
    path.write_bytes(data)
    _attempt(db, kind, path, crs)


def _frame(table: tuple[list[str], list[list[str]]], geoms: list[Any]) -> gpd.GeoDataFrame:
    header, rows = table
    names = [h for h in header if h not in ("wkt", "lng", "lat", "经度")] or ["code"]
    data = {n: [r[header.index(n)] if n in header else "" for r in rows] for n in names}
    padded = (geoms + [None] * len(rows))[: len(rows)]
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(padded, dtype="geometry"), crs=4490)


@FUZZ
@given(table=tables(), geoms=st.lists(shapes, max_size=6), kind=st.sampled_from(KINDS),
       damage=corruption(), part=st.sampled_from([".shp", ".dbf", ".shx", ".prj"]))  # fmt: skip
def test_generated_zipped_shapefile_never_crashes(
    db, client, token_for, tmp_path_factory, table, geoms, kind, damage, part
) -> None:  # type: ignore[no-untyped-def]
    frame = _frame(table, [g for g in geoms if g is None or g.geom_type == "Polygon"])
    where = tmp_path_factory.mktemp("shp")
    try:
        frame.to_file(where / "f.shp", encoding="GBK")
    except Exception:  # what the writer cannot write is not a file anyone will upload
        assume(False)
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as zf:
        for member in sorted(where.iterdir()):
            data = member.read_bytes()
            zf.writestr(member.name, damage(data) if member.suffix == part else data)
    answer = client.post(
        f"/api/v1/imports/{kind}", files={"file": ("f.zip", packed.getvalue())},
        headers=token_for("planner", username="fuzzer"),
    )  # fmt: skip
    assert answer.status_code in (200, 413, 422), answer.text
    assert answer.headers["content-type"].startswith("application/json")


@FUZZ
@given(table=tables(), geoms=st.lists(shapes, max_size=6), kind=st.sampled_from(KINDS),
       damage=corruption(), crs=crs_choice)  # fmt: skip
def test_generated_geopackage_never_crashes(
    db, tmp_path_factory, table, geoms, kind, damage, crs
) -> None:  # type: ignore[no-untyped-def]
    frame = _frame(table, geoms)
    path = tmp_path_factory.mktemp("gpkg") / "f.gpkg"
    try:
        frame.to_file(path, driver="GPKG")
    except Exception:
        assume(False)
    path.write_bytes(damage(path.read_bytes()))
    _attempt(db, kind, path, crs)


@FUZZ
@given(table=tables(), kind=st.sampled_from(KINDS), damage=corruption(),
       numbers=st.booleans())  # fmt: skip
def test_generated_excel_never_crashes(db, tmp_path_factory, table, kind, damage, numbers) -> None:  # type: ignore[no-untyped-def]
    header, rows = table
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        cells: list[Any] = []
        for value in row:
            try:  # as a spreadsheet holds a typed-in code or coordinate: a number
                cells.append(float(value) if numbers and value.strip() else value)
            except ValueError:
                cells.append(value)
        try:  # what openpyxl refuses to write (control characters) no workbook holds
            sheet.append(cells)
        except Exception:
            assume(False)
    buffer = io.BytesIO()
    book.save(buffer)
    path = tmp_path_factory.mktemp("xlsx") / "f.xlsx"
    path.write_bytes(damage(buffer.getvalue()))
    _attempt(db, kind, path, None)
