"""The newer write surfaces never crash on a bad file either: the ``roads`` and ``door_numbers``
import kinds, the 17-digit micro-grid rows of a grids file, and the register's GB/T 31000
exchange import (CSV and Excel). Each bad row is a rejection with its row number and a Chinese
reason, a file that cannot be read is a 4xx with a message; never a 500 or a traceback.

A few named cases with hand-written expectations first, then hypothesis feeds generated and
corrupted files (wrong encodings, a BOM, missing and extra columns, empty cells, huge numbers,
coordinates that are not numbers, bad ID numbers, duplicate rows, truncated workbooks).
Same approach and same bounds as tests/imports/test_never_crash.py.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import text

from app.auth.policy import system_principal
from app.auth.scope import scope_of
from app.errors import GridgovError
from app.imports.service import run_import
from app.register import exchange
from app.register.keys import register_keys
from app.settings import Settings
from tests.factories import C1 as C1_CODE
from tests.factories import COUNTY, G11, tiny_county
from tests.imports.test_never_crash import corruption  # generated damage, one definition
from tests.register.conftest import ID_A, ID_B, ID_BAD_CHECK

KEYS = register_keys(Settings(environment="test"))
SYSTEM = scope_of(system_principal("qa-fuzz"))
MICRO = G11 + "01"
# G11 is box(113.000, 34.000, 113.005, 34.010) in tests/factories.py.
INSIDE_G11 = "POLYGON((113.001 34.001, 113.002 34.001, 113.002 34.002, 113.001 34.002, 113.001 34.001))"  # fmt: skip
PERSON_HEADER = [column for _, column in exchange.COLUMNS["person"]]


def _county(db) -> None:  # type: ignore[no-untyped-def]
    """The tiny county and one road with numbers 1–99 along a centre line (once per test)."""
    if db.execute(text("SELECT 1 FROM areas WHERE code = :c"), {"c": COUNTY}).first():
        return
    tiny_county(db)
    db.execute(
        text(
            "INSERT INTO roads (county_code, name, aliases, first_number, last_number, odd_side, geom)"
            " VALUES (:c, '人民路', '{}', 1, 99, 'left',"
            " ST_GeomFromText('LINESTRING(113.001 34.005, 113.019 34.005)', 4490))"
        ),
        {"c": COUNTY},
    )
    db.flush()


def _reasons(report) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    return [(r.feature, r.reason) for r in report.rejected]


def _csv_file(tmp_path: Path, body: str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_text(body, "utf-8")
    return path


# --------------------------------------------------------------------------- named cases
def test_road_rows_that_cannot_be_used_are_rejected_with_their_numbers(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _county(db)
    path = _csv_file(
        tmp_path,
        "name,county_code,first_number,last_number,odd_side\n"
        "建设路,419901,1,99,left\n"
        ",419901,,,\n"
        "中山路,999999,,,\n"
        "长江路,419901,abc,9,\n"
        "黄河路,419901,50,10,\n"
        "淮河路,419901,,,up\n"
        "建设路,419901,1,99,left\n"
        "珠江路,419901,1,99999999999999999999,\n",
    )
    report = run_import(db, kind="roads", path=path)
    assert report.inserted == 1 and report.total == 8
    assert _reasons(report) == [
        (2, "缺少道路名称（字段 name）"),
        (3, "县级编码 '999999' 不是已导入的县（6位编码）"),
        (4, "起止门牌号应为非负整数"),
        (5, "起止门牌号须同时给出，且终止号大于起始号（不超过99999）"),
        (6, "单号一侧应为 left/right（左/右）"),
        (7, "文件中道路名称重复（同一县内道路名称唯一）"),
        (8, "起止门牌号应为非负整数"),
    ]


def test_door_rows_that_cannot_be_used_are_rejected_with_their_numbers(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _county(db)
    path = _csv_file(
        tmp_path,
        "road,number,lng,lat,building_codes\n"
        "人民路,15,113.003,34.005,\n"
        "无名路,3,113.003,34.005,\n"
        "人民路,门,113.003,34.005,\n"
        "人民路,15,113.003,34.005,\n"
        "人民路,17,2.35,48.85,\n"
        "人民路,19,113.003,34.005,B404\n"
        "人民路,21,abc,34.005,\n",
    )
    report = run_import(db, kind="door_numbers", path=path)
    assert report.inserted == 1 and report.total == 7
    reasons = dict(_reasons(report))
    assert reasons[2] == "道路“无名路”不存在：请先导入道路（gridgov import roads）"
    assert reasons[3].startswith("门牌号 '门' 无效")
    assert reasons[4] == "文件中门牌重复"
    assert reasons[5] == "坐标不在中国范围内：请检查坐标系（--crs）或经纬度是否颠倒"
    assert reasons[6] == "楼栋编码 B404 不存在：请先导入楼栋"
    assert reasons[7] == "lng 的值 'abc' 不是数字"


def test_micro_grid_rows_of_a_grids_file(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _county(db)
    outside = "POLYGON((113.011 34.001, 113.012 34.001, 113.012 34.002, 113.011 34.001))"
    path = _csv_file(
        tmp_path,
        "code,name,wkt\n"
        f'{MICRO},一号微网格,"{INSIDE_G11}"\n'
        f'{MICRO},重复,"{INSIDE_G11}"\n'
        f'{G11}99,网格外,"{outside}"\n'
        f"{G11}02,无边界,\n"
        f'4199010010010011,16位,"{INSIDE_G11}"\n',
    )
    report = run_import(db, kind="grids", path=path)
    assert report.inserted == 1 and report.total == 5
    reasons = dict(_reasons(report))
    assert reasons[2] == f"文件中微网格编码 {MICRO} 重复（第1条已有）"
    assert 3 in reasons and 4 in reasons  # outside its grid; no outline
    assert reasons[5] == (
        "网格编码（字段 code）应为15位数字（12位社区/村编码 + 3位序号），微网格为17位（网格编码 + 2位序号）"
    )


def _person_csv(*lines: str, header: list[str] = PERSON_HEADER) -> bytes:
    return ("\n".join([",".join(header), *lines]) + "\n").encode("utf-8")


def test_register_rows_with_bad_ids_are_rejected_and_the_rest_read(db) -> None:  # type: ignore[no-untyped-def]
    _county(db)
    blank = [""] * len(PERSON_HEADER)

    def row(**by_column: str) -> str:
        cells = list(blank)
        for column, value in by_column.items():
            cells[PERSON_HEADER.index(column)] = value
        return ",".join(cells)

    data = _person_csv(
        row(证件号码=ID_A, 姓名="张三", 所属网格编码=G11),
        row(证件号码=ID_BAD_CHECK, 姓名="李四", 所属网格编码=G11),
        row(证件号码="", 姓名="王五", 所属网格编码=G11),
        row(证件号码=ID_A, 姓名="张三", 所属网格编码=G11),
        row(证件号码=ID_B, 姓名="", 所属网格编码=G11),
        row(证件号码=ID_B, 姓名="赵六", 所属网格编码="999999999999999"),
    )
    report = exchange.import_rows(
        db, scope=SYSTEM, keys=KEYS, kind="person",
        rows=exchange.read_rows("p.csv", data), dry_run=True, by="qa",
    )  # fmt: skip
    assert (report.rows, report.added) == (6, 1)
    assert sorted(r["row"] for r in report.rejected) == [3, 4, 5, 6, 7]
    by_row = {r["row"]: r for r in report.rejected}
    assert by_row[5]["message"] == "同一文件中此证件号码重复出现"
    assert by_row[6]["message"] == "姓名不能为空"
    assert all(r["field"] == "证件号码" for r in (by_row[3], by_row[4]))


def test_register_csv_with_a_bare_carriage_return_is_read(db) -> None:  # type: ignore[no-untyped-def]
    # Old Mac line ends, or a CR typed into a cell: a row ends there (no 500).
    data = "姓名,证件号码,所属网格编码\r\n张三,,\r李四,,\n".encode()
    rows = list(exchange.read_rows("p.csv", data))
    assert [r["姓名"] for r in rows] == ["张三", "李四"]


def test_register_csv_with_an_unclosed_quote_is_a_422(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    _county(db)
    data = ",".join(PERSON_HEADER).encode() + b'\n"' + b"x" * 200_000 + b"\n"
    answer = client.post(
        "/api/v1/register/import",
        files={"file": ("p.csv", data)},
        data={"kind": "person"},
        headers=token_for("county_admin", COUNTY, "qa-admin"),
    )
    assert answer.status_code == 422, answer.text
    assert "无法读取" in answer.json()["detail"]


def test_register_import_of_a_truncated_workbook_is_a_422(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    _county(db)
    book = Workbook()
    book.active.append(PERSON_HEADER)
    for n in range(200):
        book.active.append([f"人{n}"] * len(PERSON_HEADER))
    buffer = io.BytesIO()
    book.save(buffer)
    whole = buffer.getvalue()
    for cut in (0, 30, len(whole) // 2, len(whole) - 40):
        answer = client.post(
            "/api/v1/register/import",
            files={"file": ("p.xlsx", whole[:cut])},
            data={"kind": "person"},
            headers=token_for("county_admin", COUNTY, "qa-admin"),
        )
        assert answer.status_code == 422, (cut, answer.text)
        assert "Excel" in answer.json()["detail"]


def test_register_workbook_whose_sheet_is_cut_off_is_a_422(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    # The package opens (its directory is whole) but the sheet's XML ends mid-row: openpyxl fails
    # only while reading the rows.
    _county(db)
    book = Workbook()
    book.active.append(PERSON_HEADER)
    for n in range(50):
        book.active.append([f"人{n}"] * len(PERSON_HEADER))
    whole = io.BytesIO()
    book.save(whole)
    cut = io.BytesIO()
    with zipfile.ZipFile(whole) as source, zipfile.ZipFile(cut, "w") as target:
        for member in source.namelist():
            data = source.read(member)
            target.writestr(
                member, data[: len(data) // 2] if member.endswith("sheet1.xml") else data
            )
    answer = client.post(
        "/api/v1/register/import",
        files={"file": ("p.xlsx", cut.getvalue())},
        data={"kind": "person"},
        headers=token_for("county_admin", COUNTY, "qa-admin"),
    )
    assert answer.status_code == 422, answer.text
    assert "无法读取" in answer.json()["detail"]


def test_register_import_of_a_file_that_is_neither_csv_nor_xlsx(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    answer = client.post(
        "/api/v1/register/import",
        files={"file": ("p.pdf", b"%PDF-1.4")},
        data={"kind": "house"},
        headers=token_for("county_admin", COUNTY, "qa-admin"),
    )
    assert answer.status_code == 422
    assert answer.json()["detail"] == "仅支持 .csv 或 .xlsx 文件"


# --------------------------------------------------------------------------- generated files
ROAD_NAMES = ["name", "county_code", "aliases", "first_number", "last_number", "odd_side",
              "road", "number", "suffix", "community_code", "building_codes", "道路名称",
              "门牌号", "县级编码", "lng", "lat", "wkt", "code", "type"]  # fmt: skip
ROAD_VALUES = ["", " ", "nan", "inf", "-1e309", "1e400", "人民路", "建设路", "419901",
               "419901001001", "999999", "0", "1", "15", "15-1", "十五", "15号", "99999",
               "100000", "99999999999999999999", "-3", "left", "right", "左", "右", "up",
               "B1", "B1;B404", "113.003", "34.005", "abc", "200", "-95", "²", "٣",
               "LINESTRING(113.001 34.005, 113.019 34.005)", "LINESTRING(113.001 34.005)",
               "LINESTRING EMPTY", "POINT(113.003 34.005)", "POINT(2.35 48.85)",
               "POLYGON((", "x" * 400]  # fmt: skip
GRID_NAMES = ["code", "name", "type", "community_code", "wkt", "lng", "lat", "网格编码"]
GRID_VALUES = [G11, MICRO, G11 + "02", G11 + "99", G11 + "1", G11 + "001", "4199010010010010１",
               "", "nan", "micro", "微网格", "comprehensive", "419901001001", "1e17",
               INSIDE_G11,
               "POLYGON((113.011 34.001, 113.012 34.001, 113.012 34.002, 113.011 34.001))",
               "POLYGON((113.0 34.0, 113.005 34.0, 113.005 34.01, 113.0 34.01, 113.0 34.0))",
               "POLYGON((113.001 34.001, 113.002 34.002, 113.002 34.001, 113.001 34.002, 113.001 34.001))",
               "POINT(113.001 34.001)", "POLYGON EMPTY", "abc", "x" * 300]  # fmt: skip
PERSON_VALUES = [ID_A, ID_B, ID_BAD_CHECK, "11010519700101002X", "11010519700101002x",
                 "4101021990030712", "41010219900307123４", "410102199013071230", "", " ",
                 "111", "414", "990", "男", "1", "9", "2026-13-40", "1990-03-07", "汉",
                 "floating", "registered", "B1", "1", "101", "户主", "02", "99",
                 "elderly;disabled", "no_such_group", "是", "否", "2", "active", G11, MICRO,
                 "999999999999999", "13800138000", "abc", "1e400", "-1", "x" * 400,
                 "=cmd|' /C calc'!A0", "\x00"]  # fmt: skip
ORG_VALUES = ["", "饭店", "shop", "91350100M000100Y43", "91350100M000100Y44", "B1", "113.003",
              "34.005", "200", "-95", "nan", "inf", "1e400", "abc", "99999999999", G11, "active",
              "3", "-1", "x" * 400]  # fmt: skip
cell_any = st.one_of(st.text(max_size=8), st.integers(-(10**20), 10**20).map(str),
                     st.floats().map(repr))  # fmt: skip


def _cells(values: list[str]) -> Any:
    return st.one_of(st.sampled_from(values), st.sampled_from(values), cell_any)


@st.composite
def tables(draw: Any, names: list[str], values: list[str]) -> tuple[list[str], list[list[str]]]:
    """A header (sometimes missing a column or with one the kind does not know) and rows that
    may be shorter or longer than the header, may repeat, and may have empty cells."""
    header = draw(st.lists(st.sampled_from(names), min_size=1, max_size=7, unique=True))
    row = st.lists(_cells(values), min_size=max(0, len(header) - 1), max_size=len(header) + 1)
    rows = draw(st.lists(row, max_size=6))
    if rows and draw(st.booleans()):
        rows.append(list(rows[0]))  # a duplicate row
    return header, rows


ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "gbk", "utf-16", "latin-1"])


def _quoted(value: str) -> str:
    return f'"{value}"' if ("," in value or '"' in value or "\n" in value) else value


def _encode(table: tuple[list[str], list[list[str]]], encoding: str) -> bytes:
    header, rows = table
    body = "\n".join(",".join(_quoted(c.replace('"', '""')) for c in r) for r in [header, *rows])
    return body.encode(encoding, errors="replace")


FUZZ = settings(
    # 25 a test in the suite; GRIDGOV_FUZZ_EXAMPLES=500 for a long run by hand.
    max_examples=int(os.environ.get("GRIDGOV_FUZZ_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _attempt(db, kind: str, path: Path, crs: str | None = None) -> None:  # type: ignore[no-untyped-def]
    """One import as a dry run: a report, or a refusal with a message; anything else is a crash."""
    try:
        report = run_import(db, kind=kind, path=path, crs=crs)
    except GridgovError as exc:
        assert exc.message and exc.status_code < 500
        return
    assert report.committed is False
    assert all(r.feature >= 1 and r.reason for r in report.rejected)
    assert len(report.rejected) <= report.total


@FUZZ
@given(table=tables(ROAD_NAMES, ROAD_VALUES), kind=st.sampled_from(["roads", "door_numbers"]),
       damage=corruption(), encoding=ENCODINGS, crs=st.sampled_from([None, "gcj02", "4547"]))  # fmt: skip
def test_generated_address_csv_never_crashes(
    db, tmp_path_factory, table, kind, damage, encoding, crs
) -> None:  # type: ignore[no-untyped-def]
    _county(db)
    path = tmp_path_factory.mktemp("addr") / "f.csv"
    path.write_bytes(damage(_encode(table, encoding)))
    _attempt(db, kind, path, crs)


@FUZZ
@given(table=tables(ROAD_NAMES, ROAD_VALUES), kind=st.sampled_from(["roads", "door_numbers"]),
       damage=corruption(), numbers=st.booleans())  # fmt: skip
def test_generated_address_excel_never_crashes(
    db, tmp_path_factory, table, kind, damage, numbers
) -> None:  # type: ignore[no-untyped-def]
    _county(db)
    path = tmp_path_factory.mktemp("addrx") / "f.xlsx"
    path.write_bytes(damage(_workbook(table, numbers)))
    _attempt(db, kind, path)


@FUZZ
@given(table=tables(GRID_NAMES, GRID_VALUES), damage=corruption(), encoding=ENCODINGS)
def test_generated_micro_grid_rows_never_crash(
    db, tmp_path_factory, table, damage, encoding
) -> None:  # type: ignore[no-untyped-def]
    _county(db)
    path = tmp_path_factory.mktemp("micro") / "f.csv"
    path.write_bytes(damage(_encode(table, encoding)))
    _attempt(db, "grids", path)


def _workbook(table: tuple[list[str], list[list[str]]], numbers: bool) -> bytes:
    """The table as an .xlsx; with ``numbers`` every cell that reads as a number is one (as a
    typed-in ID number or code is in a spreadsheet: 4.10102199003071e+17)."""
    header, rows = table
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        cells: list[Any] = []
        for value in row:
            try:
                cells.append(float(value) if numbers and value.strip() else value)
            except ValueError:
                cells.append(value)
        try:  # what openpyxl refuses to write (control characters) no workbook holds
            sheet.append(cells)
        except Exception:
            assume(False)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


REGISTER_KINDS = st.sampled_from(["person", "house", "organisation"])


def _register_names(kind: str) -> list[str]:
    return [column for _, column in exchange.COLUMNS[kind]] + ["姓名 ", "id_number", "备注"]


@st.composite
def register_tables(draw: Any) -> tuple[str, tuple[list[str], list[list[str]]]]:
    kind = draw(REGISTER_KINDS)
    names = _register_names(kind)
    if draw(st.booleans()):  # the whole header, as an exported file has it
        header = [column for _, column in exchange.COLUMNS[kind]]
        values = PERSON_VALUES if kind == "person" else ORG_VALUES + PERSON_VALUES[:12]
        row = st.lists(_cells(values), min_size=len(header) - 1, max_size=len(header) + 1)
        rows = draw(st.lists(row, max_size=6))
        return kind, (header, rows)
    return kind, draw(tables(names, PERSON_VALUES + ORG_VALUES))


def _register_attempt(db, kind: str, name: str, data: bytes, dry_run: bool) -> None:  # type: ignore[no-untyped-def]
    """One register import (writing ones inside a savepoint rolled back after): a report whose
    rejections name their row, or a refusal with a message; anything else is a crash."""
    savepoint = db.begin_nested()
    try:
        report = exchange.import_rows(
            db, scope=SYSTEM, keys=KEYS, kind=kind,
            rows=exchange.read_rows(name, data), dry_run=dry_run, by="qa-fuzz",
        )  # fmt: skip
    except GridgovError as exc:
        assert exc.message and exc.status_code < 500
        return
    finally:
        savepoint.rollback()
    assert all(r["row"] >= 2 and r["message"] for r in report.rejected)
    assert report.added + report.changed + report.unchanged + len(report.rejected) == report.rows
    assert all(re.search(r"[\u4e00-\u9fff]", r["message"]) for r in report.rejected)


@FUZZ
@given(drawn=register_tables(), damage=corruption(), encoding=ENCODINGS, dry_run=st.booleans())
def test_generated_register_csv_never_crashes(db, drawn, damage, encoding, dry_run) -> None:  # type: ignore[no-untyped-def]
    _county(db)
    kind, table = drawn
    _register_attempt(db, kind, "r.csv", damage(_encode(table, encoding)), dry_run)


@FUZZ
@given(drawn=register_tables(), damage=corruption(), numbers=st.booleans(), dry_run=st.booleans())
def test_generated_register_excel_never_crashes(db, drawn, damage, numbers, dry_run) -> None:  # type: ignore[no-untyped-def]
    _county(db)
    kind, table = drawn
    _register_attempt(db, kind, "r.xlsx", damage(_workbook(table, numbers)), dry_run)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(drawn=register_tables(), damage=corruption(), excel=st.booleans())
def test_register_import_over_http_is_never_a_500(
    db, client, token_for, drawn, damage, excel
) -> None:  # type: ignore[no-untyped-def]
    _county(db)
    kind, table = drawn
    data = _workbook(table, False) if excel else _encode(table, "utf-8")
    answer = client.post(
        "/api/v1/register/import",
        files={"file": ("r.xlsx" if excel else "r.csv", damage(data))},
        data={"kind": kind, "dry_run": "true"},
        headers=token_for("county_admin", COUNTY, "qa-admin"),
    )
    assert answer.status_code in (200, 413, 422), answer.text
    assert answer.headers["content-type"].startswith("application/json")


# --------------------------------------------------------------------------- the new JSON writes
# A valid body per new write route, then one to three of its fields replaced by values a client
# might send by mistake (or on purpose): never a 500, always JSON.
SQUARE = {"type": "Polygon", "coordinates": [[[113.001, 34.001], [113.002, 34.001],
          [113.002, 34.002], [113.001, 34.002], [113.001, 34.001]]]}  # fmt: skip
BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/roads": {"county_code": COUNTY, "name": "解放路", "aliases": ["老街"],
                      "first_number": 1, "last_number": 99, "odd_side": "left",
                      "line": [[113.001, 34.006], [113.019, 34.006]]},
    "/api/v1/door-numbers": {"road_id": 0, "number": "15", "lng": 113.003, "lat": 34.005,
                             "building_codes": ["B1"]},
    "/api/v1/micro-grids": {"grid_code": G11, "name": "一号微网格", "geometry": SQUARE},
    "/api/v1/party/orgs": {"name": "幸福社区党支部", "kind": "branch", "area_code": C1_CODE,
                           "grid_codes": [G11]},
    "/api/v1/task-kinds": {"name": "入户走访", "description": "", "active": True},
    "/api/v1/grid-tasks": {"kind": "入户走访", "grid_code": G11, "title": "走访", "detail": "",
                           "due_on": "2026-12-31"},
    "/api/v1/party/dual": {"community_code": C1_CODE, "unit_code": "U1", "name": "王五",
                           "phone": "13800138000"},
    "/api/v1/register/proposals": {"client_id": "3f0b8a7e-0000-4000-8000-000000000001",
                                   "kind": "person", "action": "create",
                                   "fields": {"name": "张三", "id_number": ID_A, "grid_code": G11}},
}  # fmt: skip
NASTY = st.sampled_from(
    [None, "", " ", "\x00", "x" * 5000, -1, 0, 2**31, 2**63, -(2**63), 1e308, "NaN", "Infinity",
     True, [], [[]], {}, {"type": "Point", "coordinates": [113.0, 34.0]},
     {"type": "Polygon", "coordinates": []},
     {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
     {"type": "Polygon", "coordinates": [[[500, 500], [501, 500], [501, 501], [500, 500]]]},
     [[113.0, 34.0]], [[1e308, 1e308], [-1e308, -1e308]], "419901", "4199010010010010",
     G11 + "01", G11 + "99", "99999", "100000", "十五", "15-1", "2026-02-30", "9999-12-31",
     ID_BAD_CHECK, "99999999999999999999", "<script>", "'; DROP TABLE roads; --"]
)  # fmt: skip


@st.composite
def json_writes(draw: Any) -> tuple[str, dict[str, Any]]:
    route = draw(st.sampled_from(sorted(BODIES)))
    body = dict(BODIES[route])
    for name in draw(st.lists(st.sampled_from(sorted(body)), min_size=1, max_size=3)):
        body[name] = draw(NASTY)
    if route == "/api/v1/register/proposals" and draw(st.booleans()):
        body["fields"] = {**BODIES[route]["fields"], draw(st.sampled_from(
            ["name", "id_number", "birth_date", "phone", "grid_code", "household_id",
             "special_groups", "party_member", "gender", "relation"])): draw(NASTY)}  # fmt: skip
    return route, body


@settings(max_examples=int(os.environ.get("GRIDGOV_FUZZ_EXAMPLES", "40")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
@given(write=json_writes())
def test_new_json_writes_are_never_a_500(db, client, token_for, write) -> None:  # type: ignore[no-untyped-def]
    _county(db)
    route, body = write
    if route == "/api/v1/door-numbers" and body.get("road_id") == 0:
        body["road_id"] = db.execute(text("SELECT id FROM roads WHERE name = '人民路'")).scalar()
    answer = client.post(route, json=body, headers=token_for("county_admin", COUNTY, "qa-admin"))
    assert answer.status_code < 500, (route, body, answer.text[:500])
    assert answer.headers["content-type"].startswith("application/json")
