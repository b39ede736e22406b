"""The hierarchy above the county: province (2 digits) and prefecture (4) codes, the one canonical
form of padded codes, jurisdictions at either level (the access layer's range and row-level
security), and the areas of any point (``GET /api/v1/areas/at``, locate's answer)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import text

from app.auth.policy import scope_range
from app.auth.schemas import UserCreate
from app.auth.service import create_user
from app.imports.service import run_import
from gis.codes import BadAreaCode, ancestors, canonical, level_of, parent_of
from tests.factories import tiny_county

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
# A point in 城关街道 of 甲县 (the samples' 990101001), and the same in GCJ-02.
IN_STREET = (100.2, 30.5)


@pytest.mark.parametrize(
    ("code", "short", "level"),
    [
        ("33", "33", "province"),
        ("330000", "33", "province"),
        ("330000000000", "33", "province"),
        ("3302", "3302", "prefecture"),
        ("330200", "3302", "prefecture"),
        ("330200000000", "3302", "prefecture"),
        ("330203", "330203", "county"),
        ("330203000000", "330203", "county"),
        ("330203001000", "330203001", "township"),
        ("330203001001", "330203001001", "community"),
        ("330203001001001", "330203001001001", "grid"),
        ("441900003", "441900003", "township"),  # 东莞: towns straight under the prefecture
    ],
)
def test_canonical_form_and_level(code: str, short: str, level: str) -> None:
    assert canonical(code) == short
    assert level_of(code) == level


@pytest.mark.parametrize(
    "code", ["", "3", "330", "33020", "3302000", "00", "000000", "33a2", "３３"]
)
def test_not_a_code(code: str) -> None:
    with pytest.raises(BadAreaCode, match="格式有误（2、4、6、9、12或15位数字）"):
        canonical(code)


def test_ancestors_and_parent() -> None:
    assert ancestors("330203001001001") == ["33", "3302", "330203", "330203001", "330203001001"]
    assert ancestors("441900003") == ["44", "4419"]
    assert ancestors("33") == []
    assert (parent_of("3302"), parent_of("330203"), parent_of("33")) == ("33", "3302", None)


def test_scope_range_holds_a_province_and_a_prefecture(db) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)  # three staff assignments in grids of 419901001001
    counts = {}
    for scope in ("41", "4199", "419901", "42", "4198"):
        with db.begin_nested():
            db.execute(
                text("SELECT set_config('role', 'gridgov_app', true), set_config('gridgov.scope', :s, true)"),
                {"s": scope},
            )  # fmt: skip
            counts[scope] = db.scalar(text("SELECT count(*) FROM staff_assignments"))
            lo, hi = scope_range(scope)
            counts[scope + " app filter"] = db.scalar(
                text("SELECT count(*) FROM staff_assignments WHERE grid_code >= :lo AND grid_code < :hi"),
                {"lo": lo, "hi": hi},
            )  # fmt: skip
            db.execute(text("RESET ROLE"))
    assert counts == {
        "41": 3, "41 app filter": 3, "4199": 3, "4199 app filter": 3,
        "419901": 3, "419901 app filter": 3, "42": 0, "42 app filter": 0,
        "4198": 0, "4198 app filter": 0,
    }  # fmt: skip


def test_a_jurisdiction_written_with_zeros_is_the_prefecture(db) -> None:  # type: ignore[no-untyped-def]
    run_import(db, kind="areas", path=SAMPLES / "datav_990000_full.json", crs="gcj02", commit=True)
    user = create_user(
        db,
        data=UserCreate(
            username="city", password="x", role="dispatcher", jurisdiction_code="990100"
        ),
        demo_password=True,
    )
    assert user.jurisdiction_code == "9901"
    province = UserCreate(username="prov", password="x", role="auditor", jurisdiction_code="990000000000")  # fmt: skip
    assert province.jurisdiction_code == "99"
    with pytest.raises(ValueError, match="是网格编码"):
        UserCreate(username="g", password="x", role="auditor", jurisdiction_code="990101001001001")


def test_a_padded_jurisdiction_that_does_not_exist_is_named_short(db) -> None:  # type: ignore[no-untyped-def]
    from app.errors import NotFound

    with pytest.raises(NotFound, match="辖区编码 3302 不存在"):
        create_user(
            db,
            data=UserCreate(username="nb", password="x", role="dispatcher", jurisdiction_code="330200"),
            demo_password=True,
        )  # fmt: skip


def test_areas_at_answers_every_level_outside_any_grid(db, client) -> None:  # type: ignore[no-untyped-def]
    run_import(db, kind="areas", path=SAMPLES / "datav_990000_full.json", crs="gcj02", commit=True)
    db.flush()  # the client shares the test's connection
    answer = client.get("/api/v1/areas/at", params={"lng": IN_STREET[0], "lat": IN_STREET[1], "crs": "cgcs2000"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {k: (v or {}).get("name") for k, v in body.items() if k in (
        "province", "prefecture", "county", "township", "community")} == {
        "province": "示范省", "prefecture": "示范市", "county": "甲县",
        "township": "城关街道", "community": None,
    }  # fmt: skip
    assert body["prefecture"]["code"] == "9901"
    assert body["message"] == "示范省示范市甲县城关街道（村/社区一级无区划数据）"
    before = client.get(
        "/api/v1/areas/at", params={"lng": 100.2, "lat": 30.5, "date": "2020-01-01"}
    )
    assert before.json()["province"] is None
    assert before.json()["message"] == "2020-01-01 该位置不在任何已导入的区划内"
    bad = client.get("/api/v1/areas/at", params={"lng": 100.2, "lat": 30.5, "crs": "mars"})
    assert bad.status_code == 422
    assert dt.date.fromisoformat(body["date"])


def test_locate_names_every_level_in_a_grid_and_outside_all(db, client) -> None:  # type: ignore[no-untyped-def]
    from shapely.geometry import box

    from tests.factories import add_area

    tiny_county(db)  # grids of 示范县 419901 near 113.0°E 34.0°N
    add_area(db, "41", "示范省甲", "province", "province", box(112.9, 33.9, 113.1, 34.1))
    add_area(
        db, "4199", "示范市甲", "prefecture", "prefecture", box(112.9, 33.9, 113.1, 34.1), "41"
    )
    run_import(db, kind="areas", path=SAMPLES / "datav_990000_full.json", crs="gcj02", commit=True)
    db.flush()
    inside = client.get("/api/v1/locate", params={"lng": 113.002, "lat": 34.005, "crs": "cgcs2000"})
    assert inside.status_code == 200, inside.text
    body = inside.json()
    assert body["found"] is True
    assert (body["province"], body["prefecture"], body["county"]["code"]) == (
        {"code": "41", "name": "示范省甲"}, {"code": "4199", "name": "示范市甲"}, "419901",
    )  # fmt: skip
    outside = client.get("/api/v1/locate", params={"lng": 100.2, "lat": 30.5, "crs": "cgcs2000"})
    body = outside.json()
    assert body["found"] is False and body["grid"] is None
    levels = ("province", "prefecture", "county", "township", "community")
    codes = [(body[k] or {}).get("code") for k in levels]
    assert codes == ["99", "9901", "990101", "990101001", None]
    assert body["message"].startswith(
        "该点位于示范省示范市甲县城关街道，不在任何网格内；最近的网格是"
    )
