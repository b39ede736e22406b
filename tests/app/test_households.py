"""Household records: masking by role, special groups only for those who need them, every
sensitive read logged, the log append-only."""

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.households.models import AccessLog
from tests.factories import G11, G12, tiny_county


@pytest.fixture
def county(db):
    tiny_county(db)
    db.execute(text("UPDATE households SET head_name = '王小明', phone = '13512345678'"))
    db.commit()


def _log_count(db) -> int:  # type: ignore[no-untyped-def]
    return int(db.scalar(select(func.count()).select_from(AccessLog)))


def _staff(db, code: str) -> int:  # type: ignore[no-untyped-def]
    return int(db.scalar(text("SELECT id FROM staff WHERE code = :c"), {"c": code}))


def test_grid_worker_sees_details_in_a_grid_they_serve_and_the_read_is_logged(
    client, county, token_for, db
):
    # S2 (李娜) works in G11 and G12 (tests/factories.py).
    worker = token_for("grid_worker", "419901001", "w1", staff_id=_staff(db, "S2"))
    r = client.get("/api/v1/households", params={"grid": G11}, headers=worker)
    assert r.status_code == 200, r.text
    rows = {h["room"]: h for h in r.json()["data"]}
    assert rows["102"]["head_name"] == "王小明" and rows["102"]["phone"] == "13512345678"
    assert rows["102"]["special_groups"] == ["hardship"] and rows["101"]["special_groups"] == []
    # Only the special-group household is a sensitive record.
    log = db.execute(select(AccessLog.username, AccessLog.role)).all()
    assert [tuple(x) for x in log] == [("w1", "grid_worker")]


def test_grid_worker_sees_masked_details_in_grids_they_do_not_serve(client, county, token_for, db):
    """The township is the worker's jurisdiction, but residents' names, phones and groups are
    shown only in the grids the worker serves (docs/domain.md#households-and-privacy)."""
    db.execute(text("DELETE FROM staff_assignments WHERE grid_code = :g"), {"g": G11})
    db.commit()
    for headers in (
        token_for("grid_worker", "419901001", staff_id=_staff(db, "S2")),  # now serves G12 only
        token_for("grid_worker", "419901001"),  # an account linked to no staff record
    ):
        r = client.get("/api/v1/households", params={"grid": G11}, headers=headers)
        assert r.status_code == 200, r.text
        rows = {h["room"]: h for h in r.json()["data"]}
        assert (rows["102"]["head_name"], rows["102"]["phone"]) == ("王*明", "135****5678")
        assert rows["102"]["special_groups"] is None and rows["102"]["masked"] is True
    assert _log_count(db) == 0  # nothing sensitive was shown


def test_auditor_sees_groups_but_masked_names_and_phones(client, county, token_for):
    r = client.get(
        "/api/v1/households",
        params={"grid": G11, "special_only": True},
        headers=token_for("auditor"),
    )
    [h] = r.json()["data"]
    assert (h["head_name"], h["phone"], h["masked"]) == ("王*明", "135****5678", True)
    assert h["special_groups"] == ["hardship"]


def test_dispatcher_sees_contact_details_but_not_groups_and_the_read_is_logged(
    client, county, token_for, db
):
    r = client.get("/api/v1/households", params={"grid": G11}, headers=token_for("dispatcher"))
    assert all(h["special_groups"] is None for h in r.json()["data"])
    assert {h["phone"] for h in r.json()["data"]} == {"13512345678"}
    # Unmasked contact details of a special-group household are a sensitive read, groups shown or not.
    assert _log_count(db) == 1


@pytest.mark.parametrize(("role", "status"), [("planner", 403), ("public", 403)])
def test_roles_without_business_with_residents_are_refused(client, county, token_for, role, status):
    assert (
        client.get("/api/v1/households", params={"grid": G11}, headers=token_for(role)).status_code
        == status
    )


def test_anonymous_is_401_and_a_grid_outside_jurisdiction_is_403(client, county, token_for):
    assert client.get("/api/v1/households", params={"grid": G11}).status_code == 401
    r = client.get(
        "/api/v1/households", params={"grid": G11}, headers=token_for("grid_worker", "419901002")
    )
    # The caller named the grid, so naming it back tells them nothing; no household is shown.
    assert r.status_code == 403 and r.json()["detail"] == f"区域 {G11} 不在您的辖区内"
    assert "王" not in r.text


def test_a_household_outside_jurisdiction_is_answered_as_missing(client, county, token_for, db):
    hid = db.scalar(text("SELECT id FROM households WHERE room = '102'"))
    outside = token_for("dispatcher", "419901002")
    r = client.get(f"/api/v1/households/{hid}", headers=outside)
    missing = client.get("/api/v1/households/999999", headers=outside)
    assert (r.status_code, r.json()) == (404, missing.json())
    assert r.json()["detail"] == "住户不存在"
    assert _log_count(db) == 0
    log = client.get("/api/v1/access-log", headers=token_for("auditor", "419901002")).json()
    assert log == {"data": [], "count": 0}


def test_single_record_and_the_access_log_api(client, county, token_for, db):
    hid = db.scalar(text("SELECT id FROM households WHERE room = '102'"))
    r = client.get(f"/api/v1/households/{hid}", headers=token_for("county_admin", "419901", "boss"))
    assert r.status_code == 200 and r.json()["grid_code"] == G11
    assert (
        client.get("/api/v1/households/999999", headers=token_for("county_admin")).status_code
        == 404
    )
    log = client.get(
        "/api/v1/access-log", params={"household": hid}, headers=token_for("auditor")
    ).json()
    assert log["count"] == 1 and log["data"][0]["username"] == "boss"
    assert "/api/v1/households/" in log["data"][0]["purpose"]
    assert client.get("/api/v1/access-log", headers=token_for("grid_worker")).status_code == 403


def test_access_log_cannot_be_edited(client, county, token_for, db):
    client.get("/api/v1/households", params={"grid": G11}, headers=token_for("dispatcher"))
    assert _log_count(db) == 1
    with pytest.raises(DBAPIError) as info, db.begin_nested():
        db.execute(text("DELETE FROM access_log"))
    assert "只能追加" in str(info.value)


def test_an_empty_grid_lists_nothing(client, county, token_for):
    r = client.get(
        "/api/v1/households", params={"grid": G12}, headers=token_for("grid_worker", "419901001")
    )
    assert r.json() == {"data": [], "count": 0}


def test_the_database_alone_keeps_households_outside_the_area_missing(
    app_factory, county, token_for, db
):
    """The test switch turns the application's jurisdiction filters off: row-level security alone
    still shows a caller of another township none of these households, by grid or by id."""
    from fastapi.testclient import TestClient

    hid = db.scalar(text("SELECT id FROM households WHERE room = '102'"))
    outside = token_for("dispatcher", "419901002")
    with TestClient(app_factory(access_app_filters=False)) as bare:
        r = bare.get("/api/v1/households", params={"grid": G11}, headers=outside)
        assert r.status_code == 200 and r.json() == {"data": [], "count": 0}
        r = bare.get(f"/api/v1/households/{hid}", headers=outside)
        assert (r.status_code, r.json()["detail"]) == (404, "住户不存在")
        log = bare.get("/api/v1/access-log", headers=token_for("auditor", "419901002")).json()
        assert log == {"data": [], "count": 0}
        assert _log_count(db) == 0  # nothing was shown, so nothing was logged
        inside = bare.get("/api/v1/households", params={"grid": G11}, headers=token_for("auditor"))
        assert inside.json()["count"] == 2
