"""The register's exchange files and the demo step: a GB/T 31000-shaped round trip of the
county's synthetic register, idempotent imports, dry runs and row rejections."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from sqlalchemy import text

from app.auth.policy import system_principal
from app.auth.scope import scope_of
from app.register import exchange
from app.register.demo import demo_register_step
from app.register.keys import attach_keys, register_keys
from app.settings import Settings
from tests.factories import COUNTY, G11
from tests.register.conftest import ID_A, ID_B, ID_BAD_CHECK

KEYS = register_keys(Settings(environment="test"))
SYSTEM = scope_of(system_principal("test"))
HEADER = "证件代码,证件号码,姓名,性别,出生日期,民族,人口类型,户籍地详址,联系方式,现住址楼栋编码,现住址单元号,现住址房间号,与户主关系,重点人群类别,是否党员,人员状态,所属网格编码"


def _csv(*lines: str) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode("utf-8")


def _import(db, data: bytes, *, dry_run: bool, name: str = "p.csv", kind: str = "person"):  # type: ignore[no-untyped-def]
    return exchange.import_rows(
        db,
        scope=SYSTEM,
        keys=KEYS,
        kind=kind,
        rows=exchange.read_rows(name, data),
        dry_run=dry_run,
        by="test",
    )


def test_demo_register_round_trips_through_the_exchange_file(db):
    from tests.factories import tiny_county

    tiny_county(db)
    assert "未配置" in demo_register_step(db)  # no keys handed over: skipped, nothing written
    attach_keys(db, Settings(environment="test"))
    said = demo_register_step(db)
    assert "合成数据" in said
    persons = db.execute(text("SELECT count(*) FROM persons")).scalar()
    assert persons >= 2  # at least the two households' heads
    assert (
        db.execute(
            text("SELECT count(*) FROM persons WHERE registered_address LIKE '合成数据%'")
        ).scalar()
        == persons
    )
    assert "跳过" in demo_register_step(db)

    exported = "".join(
        exchange.to_csv(exchange.export_rows(db, scope=SYSTEM, keys=KEYS, kind="person"))
    )
    table = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
    assert len(table) == persons
    assert list(table[0])[:3] == ["证件代码", "证件号码", "姓名"]
    assert all(len(r["证件号码"]) == 18 for r in table)  # the full number, for the platform

    # The same file back: nothing to add or change.
    again = _import(db, exported.encode("utf-8"), dry_run=False)
    assert (again.added, again.changed, again.unchanged, again.rejected) == (0, 0, persons, [])

    # Into an empty register: the same persons, field for field.
    before = db.execute(
        text(
            "SELECT id_hash, name, gender, birth_date, residence_type, special_groups, relation, "
            "household_id, grid_code, party_member FROM persons ORDER BY id_hash"
        )
    ).all()
    db.execute(text("DELETE FROM register_history"))
    db.execute(text("UPDATE houses SET landlord_person_id = NULL"))
    db.execute(text("DELETE FROM persons"))
    restored = _import(db, exported.encode("utf-8"), dry_run=False)
    assert (restored.added, restored.rejected) == (persons, [])
    after = db.execute(
        text(
            "SELECT id_hash, name, gender, birth_date, residence_type, special_groups, relation, "
            "household_id, grid_code, party_member FROM persons ORDER BY id_hash"
        )
    ).all()
    assert [tuple(r) for r in after] == [tuple(r) for r in before]


def test_a_dry_run_reports_and_writes_nothing_with_reasons_per_row(db):
    from tests.factories import tiny_county

    tiny_county(db)
    data = _csv(
        f"111,{ID_A},王一,,,,registered,,13700000001,,,,,,0,,{G11}",
        f"111,{ID_BAD_CHECK},王二,,,,registered,,,,,,,,0,,{G11}",
        f"111,{ID_B},,,,,registered,,,,,,,,0,,{G11}",
        f"111,{ID_B},王三,,,,floating,,,B1,1,101,02,留守妇女;吸毒人员,是,,",
        f"111,{ID_A},王一,,,,registered,,13700000001,,,,,,0,,999999999999999",
    )
    report = _import(db, data, dry_run=True)
    assert (report.rows, report.added, report.changed, report.unchanged) == (5, 2, 0, 0)
    assert [(r["row"], r["field"]) for r in report.rejected] == [
        (3, "证件号码"),
        (4, "姓名"),
        (6, "所属网格编码"),
    ]
    assert "校验码" in report.rejected[0]["message"]
    assert db.execute(text("SELECT count(*) FROM persons")).scalar() == 0

    written = _import(db, data, dry_run=False)
    assert written.added == 2
    wang3 = db.execute(
        text(
            "SELECT grid_code, special_groups, party_member, household_id FROM persons WHERE name = '王三'"
        )
    ).one()
    assert wang3.grid_code == G11  # from the household at B1 1-101
    assert wang3.special_groups == ["drug_user", "left_behind_woman", "floating_population"]
    assert wang3.party_member is True
    # Idempotent: the same file again adds nothing; a changed phone is one change.
    assert _import(db, data, dry_run=False).added == 0
    changed = _import(
        db, _csv(f"111,{ID_A},王一,,,,registered,,13799999999,,,,,,0,,{G11}"), dry_run=False
    )
    assert (changed.changed, changed.added) == (1, 0)
    versions = (
        db.execute(
            text(
                "SELECT h.version FROM register_history h JOIN persons p ON p.id = h.record_id "
                "AND h.kind = 'person' WHERE p.name = '王一' ORDER BY h.version"
            )
        )
        .scalars()
        .all()
    )
    assert versions == [1, 2]


def test_excel_export_and_houses_and_shops_import(db):
    from tests.factories import tiny_county

    tiny_county(db)
    houses = (
        "房屋楼栋编码,单元号,房间号,房屋用途,房主姓名,房主联系方式,建筑面积,房屋状态,所属网格编码\n"
        "B1,2,201,出租,陈房东,13600001111,88.5,,\n"
        "NOPE,1,1,自住,,,,,\n"
    ).encode()
    report = _import(db, houses, dry_run=False, kind="house")
    assert (report.added, [r["row"] for r in report.rejected]) == (1, [3])
    assert (
        db.execute(
            text("SELECT count(*) FROM households h JOIN houses s ON s.household_id = h.id")
        ).scalar()
        == 1
    )
    shops = (
        "单位名称,统一社会信用代码,单位类别,单位地址,楼栋编码,经度,纬度,联系人,联系方式,从业人数,单位状态,所属网格编码\n"
        "阳光便利店,,商业门点,阳光花园3号楼底商,B1,,,赵老板,13500000000,3,,\n"
    ).encode()
    assert _import(db, shops, dry_run=False, kind="organisation").added == 1
    assert _import(db, shops, dry_run=False, kind="organisation").unchanged == 1
    book = load_workbook(
        io.BytesIO(
            exchange.to_xlsx(
                exchange.export_rows(
                    db, scope=SYSTEM.narrow(COUNTY), keys=KEYS, kind="organisation"
                ),
                "单位",
            )
        )
    )
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:3] == ("单位名称", "统一社会信用代码", "单位类别")
    assert rows[1][0] == "阳光便利店" and rows[1][2] == "shop"


def test_the_import_route_is_for_administrators_and_dry_runs_by_default(client, world, db):
    data = _csv(f"111,{ID_A},王一,,,,registered,,,,,,,,0,,{G11}")
    files = {"file": ("p.csv", data, "text/csv")}
    r = client.post("/api/v1/register/import", files=files, headers=world.worker)
    assert r.status_code == 403
    r = client.post("/api/v1/register/import", files=files, headers=world.admin)
    assert r.status_code == 200, r.text
    assert (r.json()["dry_run"], r.json()["added"]) == (True, 1)
    assert db.execute(text("SELECT count(*) FROM persons")).scalar() == 0
    r = client.post(
        "/api/v1/register/import", files=files, data={"dry_run": "false"}, headers=world.admin
    )
    assert r.json()["added"] == 1
    csv_out = client.get("/api/v1/register/export", params={"kind": "person"}, headers=world.admin)
    assert csv_out.status_code == 200
    assert ID_A in csv_out.text
    assert client.get("/api/v1/register/export", headers=world.dispatcher).status_code == 403


def test_shops_count_toward_the_grid_load_beside_households(db):
    from app.grids.service import households_per_grid
    from tests.factories import tiny_county

    tiny_county(db)
    assert households_per_grid(db, SYSTEM)[G11] == 2  # the two households of B1
    shops = (
        "单位名称,统一社会信用代码,单位类别,单位地址,楼栋编码,经度,纬度,联系人,联系方式,从业人数,单位状态,所属网格编码\n"
        "阳光便利店,,商业门点,,B1,,,,,,,\n"
        "阳光物业公司,,企业,,B1,,,,,,,\n"
    ).encode()
    assert _import(db, shops, dry_run=False, kind="organisation").added == 2
    assert households_per_grid(db, SYSTEM)[G11] == 3  # the shop counts, the company does not
