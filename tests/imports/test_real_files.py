"""Real boundary files as they come: DataV/Aliyun GeoJSON, the statistical area code table (CSV and
Excel), a survey's own field names through ``--map``; rejections that name the field looked for
and the fields the file has. The files are the synthetic samples in data/samples/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.areas.models import Area
from app.errors import InvalidInput
from app.imports.service import run_import

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
DATAV = SAMPLES / "datav_990000_full.json"
CODES_CSV = SAMPLES / "tjyqhdm_99.csv"
CODES_XLSX = SAMPLES / "tjyqhdm_99.xlsx"
VILLAGES = SAMPLES / "villages_99.geojson"
SURVEY_MAP = ["code=ZLDWDM", "name=ZLDWMC"]


def _areas(db, prefix: str = "99") -> dict[str, tuple[str, str, str, str | None, str | None]]:  # type: ignore[no-untyped-def]
    rows = db.execute(
        select(Area.code, Area.name, Area.level, Area.kind, Area.parent_code, Area.urban_rural)
        .where(Area.code.startswith(prefix), Area.valid_to.is_(None))
        .order_by(Area.code)
    )
    return {r.code: (r.name, r.level, r.kind, r.parent_code, r.urban_rural) for r in rows}


def test_samples_are_what_the_script_makes(tmp_path: Path) -> None:
    made = (".json", ".geojson", ".csv", ".xlsx")
    before = {p.name: p.read_bytes() for p in SAMPLES.iterdir() if p.suffix in made}
    script = SAMPLES / "make_samples.py"
    copy = tmp_path / "make_samples.py"
    copy.write_text(script.read_text().replace("HERE.parent.parent", repr(str(SAMPLES.parents[1]))))
    subprocess.run([sys.executable, str(copy)], check=True, capture_output=True)
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.suffix in made}
    assert len(after) == 4
    assert after == before
    doc = json.loads(DATAV.read_text("utf-8"))
    assert "合成数据" in doc["note"]


def test_datav_file_builds_the_tree_from_its_parents(db) -> None:  # type: ignore[no-untyped-def]
    report = run_import(db, kind="areas", path=DATAV, crs="gcj02", commit=True)
    assert report.rejected == []
    assert (report.inserted, report.total) == (8, 8)
    assert any("GCJ02" in n for n in report.notes)
    assert _areas(db) == {
        "99": ("示范省", "province", "province", None, None),
        "9901": ("示范市", "prefecture", "prefecture", "99", None),
        "990101": ("甲县", "county", "county", "9901", None),
        "990101001": ("城关街道", "township", "street", "990101", None),
        "990101101": ("东岭镇", "township", "town", "990101", None),
        "990102": ("乙县", "county", "county", "9901", None),
        "990102001": ("河西街道", "township", "street", "990102", None),
        "990102201": ("北坡乡", "township", "township", "990102", None),
    }
    # GCJ-02 shifted back: the province is the box it was drawn as, to about a metre.
    west, south, east, north = db.execute(
        select(
            func.ST_XMin(Area.geom), func.ST_YMin(Area.geom),
            func.ST_XMax(Area.geom), func.ST_YMax(Area.geom),
        ).where(Area.code == "99")
    ).one()  # fmt: skip
    assert (west, south, east, north) == pytest.approx((100.0, 30.0, 101.0, 30.6), abs=2e-5)


def test_datav_reimport_changes_nothing(db) -> None:  # type: ignore[no-untyped-def]
    run_import(db, kind="areas", path=DATAV, crs="gcj02", commit=True)
    again = run_import(db, kind="areas", path=DATAV, crs="gcj02", commit=True)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 8)


@pytest.mark.parametrize("table", [CODES_CSV, CODES_XLSX], ids=["csv", "xlsx"])
def test_code_table_names_and_classes_existing_areas(db, table: Path) -> None:  # type: ignore[no-untyped-def]
    run_import(db, kind="areas", path=DATAV, crs="gcj02", commit=True)
    report = run_import(db, kind="areas", path=table, commit=True)
    # The villages have no outline anywhere yet: refused, saying what the table lacks.
    assert [(r.feature, r.code) for r in report.rejected] == [
        (5, "990101001001"),
        (6, "990101001002"),
        (7, "990101001201"),
        (8, "990101001202"),
    ]
    assert all("这一行没有边界" in r.reason for r in report.rejected)
    assert report.unchanged == 8
    villages = run_import(db, kind="areas", path=VILLAGES, mapping=SURVEY_MAP, commit=True)
    assert villages.inserted == 4 and villages.rejected == []
    classes = run_import(db, kind="areas", path=table, commit=True)
    assert (classes.updated, classes.unchanged, classes.rejected) == (4, 8, [])
    assert {c: a[2:] for c, a in _areas(db, "990101001").items()} == {
        "990101001": ("street", "990101", None),
        "990101001001": ("residents", "990101001", "111"),
        "990101001002": ("residents", "990101001", "112"),
        "990101001201": ("villagers", "990101001", "220"),
        "990101001202": ("villagers", "990101001", "220"),
    }


def test_code_table_over_villages_builds_the_levels_above_from_them(db) -> None:  # type: ignore[no-untyped-def]
    run_import(db, kind="areas", path=VILLAGES, mapping=SURVEY_MAP, commit=True)
    report = run_import(db, kind="areas", path=CODES_XLSX, commit=True)
    assert report.inserted == 4 and report.updated == 4
    # Only 城关街道 has villages: its county, prefecture and province follow from it; the others
    # have no outline to take.
    assert sorted(r.code for r in report.rejected) == ["990101101", "990102", "990102001", "990102201"]  # fmt: skip
    assert sorted(r.code for r in report.repaired) == ["99", "9901", "990101", "990101001"]
    assert set(_areas(db)) == {
        "99", "9901", "990101", "990101001",
        "990101001001", "990101001002", "990101001201", "990101001202",
    }  # fmt: skip
    # The township's outline is its four villages together: 0.5° × 0.3°.
    area = db.scalar(select(Area.geom.ST_Area()).where(Area.code == "990101001"))
    assert area == pytest.approx(0.5 * 0.3, rel=1e-6)


def test_a_missing_field_names_what_was_looked_for_and_what_the_file_has(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as missing:
        run_import(db, kind="areas", path=VILLAGES)
    message = missing.value.message
    assert "找不到区划编码字段" in message
    assert "code、编码、区划编码、区划代码、统计用区划代码、adcode" in message
    assert "文件的字段有：ZLDWDM、ZLDWMC、BSM" in message
    assert "--map code=" in message
    with pytest.raises(
        InvalidInput, match="文件中没有字段 XZQDM；文件的字段有：ZLDWDM、ZLDWMC、BSM"
    ):
        run_import(db, kind="areas", path=VILLAGES, mapping=["code=XZQDM"])
    with pytest.raises(InvalidInput, match="不是areas的字段"):
        run_import(db, kind="areas", path=VILLAGES, mapping=["colour=ZLDWDM"])
    with pytest.raises(InvalidInput, match="格式有误"):
        run_import(db, kind="areas", path=VILLAGES, mapping=["ZLDWDM"])


def test_a_row_rejection_names_the_field(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "a.csv"
    path.write_text("adcode,name,level\n33020,宁波,city\n330200,宁波市,district\n", "utf-8")
    report = run_import(db, kind="areas", path=path)
    reasons = [r.reason for r in report.rejected]
    assert reasons[0].startswith("区划编码（字段 code）的值 33020 不是区划编码")
    assert reasons[1] == "层级（字段 level）为 district，与编码 3302 的层级 prefecture 不符"


def test_upload_takes_the_mapping_too(client, token_for) -> None:  # type: ignore[no-untyped-def]
    data = VILLAGES.read_bytes()
    planner = token_for("planner")
    refused = client.post(
        "/api/v1/imports/areas", files={"file": ("v.geojson", data)}, headers=planner
    )
    assert refused.status_code == 422
    assert "文件的字段有：ZLDWDM、ZLDWMC、BSM" in refused.json()["detail"]
    mapped = client.post(
        "/api/v1/imports/areas",
        files={"file": ("v.geojson", data)},
        data={"map": SURVEY_MAP},
        headers=planner,
    )
    assert mapped.status_code == 200, mapped.text
    assert (mapped.json()["inserted"], mapped.json()["committed"]) == (4, False)
    one_field = client.post(
        "/api/v1/imports/areas",
        files={"file": ("v.geojson", data)},
        data={"map": "code=ZLDWDM,name=ZLDWMC"},
        headers=planner,
    )
    assert one_field.status_code == 200 and one_field.json()["inserted"] == 4
