"""Building leaders and unit stewards: the county gives them a login, their desk shows their own
building and the cases open there, nothing of the rest of their grid (hand-made community in
conftest.py: building DB1 at 113.002,34.005 in G1, DB2 at 113.007,34.005 in G2)."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from app.staff.models import Staff, StaffAssignment
from tests.duties.conftest import G1, G2, NOW, _incident

STRONG = "Lou-dong-zhang-2026!"


def _leader(db, code: str, role: str, grid: str, building: str, unit: str | None = None) -> int:  # type: ignore[no-untyped-def]
    person = Staff(code=code, name="楼长" + code, employment="part_time")
    db.add(person)
    db.flush()
    bid = db.scalar(text("SELECT id FROM buildings WHERE code = :c"), {"c": building})
    db.add(
        StaffAssignment(
            staff_id=person.id, grid_code=grid, role=role, building_id=bid, unit=unit,
            start_date="2026-01-01",
        )
    )  # fmt: skip
    db.flush()
    return person.id


def test_the_county_gives_a_building_leader_a_login_for_their_grid(
    client, token_for, db, duty_county
):
    _leader(db, "BL1", "building_leader", G1, "DB1")
    admin = token_for("county_admin", "419902")
    body = {"staff_code": "BL1", "username": "bl1", "password": STRONG}
    r = client.post("/api/v1/desk/logins", json=body, headers=admin)
    assert r.status_code == 201, r.text
    assert (r.json()["role"], r.json()["role_label"], r.json()["jurisdiction_code"]) == (
        "building_leader", "楼栋长", G1,
    )  # fmt: skip
    assert client.post("/api/v1/desk/logins", json=body, headers=admin).status_code == 409
    # Not a building leader: W1 is a grid worker.
    r = client.post(
        "/api/v1/desk/logins", json={**body, "staff_code": "W1", "username": "x1"}, headers=admin
    )
    assert r.status_code == 422 and "不是本辖区内的楼栋长或单元管家" in r.json()["detail"]
    r = client.post(
        "/api/v1/desk/logins", json={**body, "staff_code": "NOPE", "username": "x2"}, headers=admin
    )
    assert r.status_code == 404
    r = client.post(
        "/api/v1/desk/logins", json={**body, "username": "x3", "password": "123"}, headers=admin
    )
    assert r.status_code == 422
    # Another county's administrator cannot give it; a dispatcher gives no logins.
    other = token_for("county_admin", "419901")
    r = client.post("/api/v1/desk/logins", json={**body, "username": "x4"}, headers=other)
    assert r.status_code == 422
    disp = token_for("dispatcher", "419902")
    assert (
        client.post(
            "/api/v1/desk/logins", json={**body, "username": "x5"}, headers=disp
        ).status_code
        == 403
    )


def test_the_desk_shows_the_own_building_only(client, token_for, db, duty_county):
    bl = _leader(db, "BL2", "building_leader", G1, "DB1")
    st = _leader(db, "US1", "unit_steward", G2, "DB2", unit="1")
    # A case at DB1 (within 30 m), one at DB2, and G1's dispute 46 m from DB1.
    db.execute(
        text(
            "UPDATE incidents SET location = ST_SetSRID(ST_MakePoint(113.0021, 34.005), 4490) WHERE case_no = 'DUTYE'"
        )
    )
    _incident(db, "DESK2", "0401", G2, NOW)
    db.execute(
        text(
            "UPDATE incidents SET location = ST_SetSRID(ST_MakePoint(113.007, 34.0051), 4490) WHERE case_no = 'DESK2'"
        )
    )
    leader = token_for("building_leader", G1, "bl2", staff_id=bl)
    d = client.get("/api/v1/desk", headers=leader).json()
    assert [(p["building_name"], p["unit"]) for p in d["posts"]] == [("1号楼", None)]
    assert [c["case_no"] for c in d["cases"]] == ["DUTYE"]
    steward = token_for("unit_steward", G2, "us1", staff_id=st)
    d = client.get("/api/v1/desk", headers=steward).json()
    assert d["role_label"] == "单元管家"
    assert [(p["building_name"], p["unit"]) for p in d["posts"]] == [("2号楼", "1")]
    assert [c["case_no"] for c in d["cases"]] == ["DESK2"]
    # Least privilege: no case list, household list, duty list or audit for them.
    for path in (
        "/api/v1/incidents",
        "/api/v1/duties/mine",
        "/api/v1/audits",
        "/api/v1/households",
    ):
        assert client.get(path, headers=leader).status_code == 403, path
    # The residents' changes awaiting their confirmation: the list opens to them.
    r = client.get("/api/v1/register/proposals", params={"state": "submitted"}, headers=leader)
    assert r.status_code == 200, r.text
    # A grid worker has no desk.
    w1 = token_for("grid_worker", "419902", staff_id=duty_county["staff"]["W1"])
    assert client.get("/api/v1/desk", headers=w1).status_code == 403


def test_the_desk_page_opens_for_a_building_leader(client, token_for, db, duty_county):
    bl = _leader(db, "BL3", "building_leader", G1, "DB1")
    leader = token_for("building_leader", G1, "bl3", staff_id=bl)
    token = leader["Authorization"].split()[1]
    client.cookies.set("gridgov_token", token)
    r = client.get("/b/")
    assert r.status_code == 200 and "我负责的楼栋" in r.text


def test_the_desk_lists_and_confirms_only_changes_at_the_own_building(
    client, token_for, db, duty_county
):
    # Hand-made: a third building 3号楼 in G1 beside 1号楼 (DB1); a leader of DB1, a steward of
    # DB1's unit 2; the grid worker of G1 files residents' changes for the leader to confirm.
    db.execute(
        text(
            "INSERT INTO buildings (code, name, community_code, location) VALUES "
            "('DB3', '3号楼', :c, ST_SetSRID(ST_MakePoint(113.004, 34.008), 4490))"
        ),
        {"c": G1[:12]},
    )
    bl = _leader(db, "BL4", "building_leader", G1, "DB1")
    st = _leader(db, "US4", "unit_steward", G1, "DB1", unit="2")
    ids = dict(db.execute(text("SELECT code, id FROM buildings WHERE code LIKE 'DB%'")).all())
    worker = token_for("grid_worker", "419902", staff_id=duty_county["staff"]["W1"])

    def file(fields: dict) -> int:  # type: ignore[type-arg]
        body = {
            "client_id": str(uuid.uuid4()),
            "kind": "house",
            "action": "create",
            "fields": {"grid_code": G1, **fields},
            "confirm": True,
        }
        r = client.post("/api/v1/register/proposals", json=body, headers=worker)
        assert r.status_code == 201, r.text
        assert r.json()["state"] == "submitted"
        return int(r.json()["id"])

    at_db1_unit1 = file({"building_id": ids["DB1"], "unit": "1", "room": "201"})
    at_db1_unit2 = file({"building_id": ids["DB1"], "unit": "2", "room": "202"})
    at_db3 = file({"building_id": ids["DB3"], "unit": "1", "room": "301"})
    leader = token_for("building_leader", G1, "bl4", staff_id=bl)
    steward = token_for("unit_steward", G1, "us4", staff_id=st)

    def listed(headers: dict) -> list[int]:  # type: ignore[type-arg]
        r = client.get("/api/v1/register/proposals", params={"state": "submitted"}, headers=headers)
        assert r.status_code == 200, r.text
        return sorted(p["id"] for p in r.json()["data"])

    assert listed(leader) == sorted([at_db1_unit1, at_db1_unit2])
    assert listed(steward) == [at_db1_unit2]
    # Another building of the same grid: not there, not readable, not confirmable (naming nothing).
    for who, pid in ((leader, at_db3), (steward, at_db3), (steward, at_db1_unit1)):
        r = client.get(f"/api/v1/register/proposals/{pid}", headers=who)
        assert r.status_code == 404
        r = client.post(f"/api/v1/register/proposals/{pid}/confirm", headers=who)
        assert r.status_code == 404 and "3号楼" not in r.text and "301" not in r.text
    state = "SELECT state FROM register_proposals WHERE id = :i"
    assert db.scalar(text(state), {"i": at_db3}) == "submitted"
    r = client.post(f"/api/v1/register/proposals/{at_db1_unit1}/confirm", headers=leader)
    assert r.status_code == 200 and r.json()["state"] == "pending"
    r = client.post(f"/api/v1/register/proposals/{at_db1_unit2}/confirm", headers=steward)
    assert r.status_code == 200 and r.json()["state"] == "pending"
    # The grid's community staff still see every change of the grid.
    admin = token_for("county_admin", "419902")
    r = client.get("/api/v1/register/proposals", params={"state": "submitted"}, headers=admin)
    assert [p["id"] for p in r.json()["data"]] == [at_db3]


def test_the_county_lists_its_building_leaders_and_the_server_makes_the_password(
    client, token_for, db, duty_county
):
    _leader(db, "BL5", "building_leader", G1, "DB1")
    _leader(db, "US5", "unit_steward", G2, "DB2", unit="1")
    admin = token_for("county_admin", "419902")
    r = client.get("/api/v1/desk/logins", headers=admin)
    assert r.status_code == 200, r.text
    rows = [
        (p["staff_code"], p["role_label"], p["building_name"], p["unit"], p["username"])
        for p in r.json()["data"]
    ]
    assert rows == [("BL5", "楼栋长", "1号楼", None, None), ("US5", "单元管家", "2号楼", "1", None)]
    # Narrowed to one grid; no password given: the server makes one, answered once, and it works.
    r = client.get("/api/v1/desk/logins", params={"area": G2}, headers=admin)
    assert [p["staff_code"] for p in r.json()["data"]] == ["US5"]
    r = client.post(
        "/api/v1/desk/logins", json={"staff_code": "US5", "username": "us5"}, headers=admin
    )
    assert r.status_code == 201, r.text
    password = r.json()["initial_password"]
    assert len(password) >= 12
    signed = client.post("/api/v1/auth/token", data={"username": "us5", "password": password})
    assert signed.status_code == 200, signed.text
    r = client.get("/api/v1/desk/logins", params={"area": G2}, headers=admin)
    assert r.json()["data"][0]["username"] == "us5"
    # Not for those who may not give logins, nor another county's administrator's area.
    disp = token_for("dispatcher", "419902")
    assert client.get("/api/v1/desk/logins", headers=disp).status_code == 403
    other = token_for("county_admin", "419901")
    assert client.get("/api/v1/desk/logins", headers=other).json()["data"] == []
    assert client.get("/api/v1/desk/logins", params={"area": G2}, headers=other).status_code == 403
