"""Visits over the tiny county (tests/factories.py): who may record what, GPS checks, due lists,
coverage. Worker S2 (李娜) works grids G11 and G12; households 101/102 stand in building B1 (G11)."""

from __future__ import annotations

import datetime as dt

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import select, text

from app.buildings.models import Building, Household
from app.staff.models import Staff
from app.visits.cadence import parse_rules, required_visits
from gis.crs import from_wgs84
from tests.factories import C2, G11, G21, tiny_county

BJ = dt.timezone(dt.timedelta(hours=8))


_token_for = None


@pytest.fixture(autouse=True)
def _tokens(token_for):  # type: ignore[no-untyped-def]
    """``headers`` below needs the conftest's ``token_for`` (a real user and session)."""
    global _token_for
    _token_for = token_for
    yield
    _token_for = None


def headers(role: str, jurisdiction: str = "419901", staff_id: int | None = None) -> dict[str, str]:
    assert _token_for is not None
    return _token_for(role, jurisdiction, staff_id=staff_id)  # type: ignore[no-any-return]


@pytest.fixture
def county(db):
    tiny_county(db)
    worker = db.scalar(select(Staff).where(Staff.code == "S2"))
    b = Building(
        code="B2",
        name="1号楼",
        community_code=C2,
        location=from_shape(Point(113.015, 34.005), 4490),
    )
    db.add(b)
    db.flush()
    east = Household(building_id=b.id, unit="1", room="201", location=b.location)
    db.add(east)
    db.flush()
    homes = {h.room: h.id for h in db.scalars(select(Household))}
    return {"worker": worker.id, "homes": homes, "east": east.id}


def body(household_id: int, **over):
    data = {
        "household_id": household_id,
        "visited_at": (dt.datetime.now(BJ) - dt.timedelta(hours=1)).isoformat(),
        "lng": 113.002,
        "lat": 34.005,
        "crs": "wgs84",
        "kind": "routine",
        "notes": "家中一切正常",
    }
    return {**data, **over}


def test_worker_records_own_visit(client, county):
    r = client.post(
        "/api/v1/visits",
        json=body(county["homes"]["101"]),
        headers=headers("grid_worker", staff_id=county["worker"]),
    )
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["grid_code"] == G11 and out["worker"]["name"] == "李娜"
    assert out["distance_m"] == pytest.approx(0, abs=0.5)
    assert out["far_from_household"] is False


def test_far_gps_is_stored_and_flagged(client, county):
    # 0.005° east is about 460 m: beyond the 200 m default.
    r = client.post(
        "/api/v1/visits",
        json=body(county["homes"]["101"], lng=113.007),
        headers=headers("grid_worker", staff_id=county["worker"]),
    )
    assert r.status_code == 201
    out = r.json()
    assert out["far_from_household"] is True and 400 < out["distance_m"] < 520
    assert "已标记待核实" in out["message"]


def test_gcj02_point_is_converted_before_the_distance_check(client, county):
    x, y = from_wgs84(113.002, 34.005, "gcj02")
    r = client.post(
        "/api/v1/visits",
        json=body(county["homes"]["101"], lng=float(x), lat=float(y), crs="gcj02"),
        headers=headers("grid_worker", staff_id=county["worker"]),
    )
    assert r.status_code == 201
    assert r.json()["distance_m"] < 1 and r.json()["input_crs"] == "gcj02"


def test_household_outside_workers_grids_is_403_with_why(client, county):
    r = client.post(
        "/api/v1/visits",
        json=body(county["east"], lng=113.015),
        headers=headers("grid_worker", staff_id=county["worker"]),
    )
    assert r.status_code == 403
    assert G21 in r.json()["detail"] and "李娜" in r.json()["detail"]


@pytest.mark.parametrize(
    "over, field",
    [
        ({"visited_at": (dt.datetime.now(BJ) + dt.timedelta(hours=2)).isoformat()}, "visited_at"),
        ({"crs": "epsg:3857"}, "crs"),
        ({"lng": 12_580_000.0}, "lng"),
        ({"kind": "chat"}, "kind"),
    ],
)
def test_bad_input_is_422(client, county, over, field):
    r = client.post(
        "/api/v1/visits",
        json=body(county["homes"]["101"], **over),
        headers=headers("grid_worker", staff_id=county["worker"]),
    )
    assert r.status_code == 422
    assert field in r.text


def test_dispatcher_names_the_worker(client, county):
    h = county["homes"]["102"]
    r = client.post("/api/v1/visits", json=body(h), headers=headers("dispatcher"))
    assert r.status_code == 422 and "worker_id" in r.text
    r = client.post(
        "/api/v1/visits",
        json=body(h, worker_id=county["worker"], kind="special_group"),
        headers=headers("dispatcher"),
    )
    assert r.status_code == 201


@pytest.mark.parametrize(
    "hdrs, status",
    [
        (lambda w: headers("auditor"), 403),
        (lambda w: headers("grid_worker"), 403),  # no staff record
        (lambda w: headers("grid_worker", staff_id=w, jurisdiction="419901"), 201),
        (lambda w: {}, 401),
    ],
)
def test_who_may_record(client, county, hdrs, status):
    r = client.post(
        "/api/v1/visits", json=body(county["homes"]["101"]), headers=hdrs(county["worker"])
    )
    assert r.status_code == status


def test_unknown_household_is_404(client, county):
    r = client.post(
        "/api/v1/visits",
        json=body(999_999),
        headers=headers("grid_worker", staff_id=county["worker"]),
    )
    assert r.status_code == 404


def _visit(db, worker: int, household: int, days_ago: int, grid: str = G11) -> None:
    db.execute(
        text(
            "INSERT INTO visits (worker_id, household_id, grid_code, visited_at, kind, recorded_by) "
            "VALUES (:w, :h, :g, now() - make_interval(days => :d), 'routine', 't')"
        ),
        {"w": worker, "h": household, "g": grid, "d": days_ago},
    )


def test_due_list_puts_overdue_special_groups_first(client, db, county):
    # 101 (routine, yearly) visited 400 days ago: 35 days overdue. 102 (hardship, monthly)
    # visited 40 days ago: 10 days overdue, and a special group: first (app/visits/ranking.py).
    _visit(db, county["worker"], county["homes"]["101"], 400)
    _visit(db, county["worker"], county["homes"]["102"], 40)
    r = client.get(
        f"/api/v1/visits/due?grid={G11}", headers=headers("grid_worker", staff_id=county["worker"])
    )
    assert r.status_code == 200, r.text
    rows = r.json()["households"]
    assert [row["household_id"] for row in rows] == [county["homes"]["102"], county["homes"]["101"]]
    assert rows[0]["days_overdue"] == 10 and rows[1]["days_overdue"] == 35
    assert rows[0]["special_groups"] == ["困难家庭"] and rows[0]["interval_days"] == 30
    assert "special" not in rows[0]  # the ranking's flag is never sent
    _visit(db, county["worker"], county["homes"]["101"], 3)
    r = client.get(
        f"/api/v1/visits/due?grid={G11}", headers=headers("grid_worker", staff_id=county["worker"])
    )
    assert [row["household_id"] for row in r.json()["households"]] == [county["homes"]["102"]]


def test_due_list_refuses_other_workers_grid(client, county):
    r = client.get(
        f"/api/v1/visits/due?grid={G21}", headers=headers("grid_worker", staff_id=county["worker"])
    )
    assert r.status_code == 403


def test_coverage_per_grid_and_rollup(client, db, county):
    _visit(db, county["worker"], county["homes"]["101"], 10)
    _visit(db, county["worker"], county["homes"]["101"], 5)
    _visit(db, county["worker"], county["homes"]["102"], 20)  # hardship: needs 3 in 90 days
    today = dt.datetime.now(BJ).date()
    start = today - dt.timedelta(days=90)
    end = today + dt.timedelta(days=1)
    r = client.get(
        f"/api/v1/visits/coverage?area=419901&start={start}&end={end}",
        headers=headers("auditor"),
    )
    assert r.status_code == 200, r.text
    out = r.json()
    rows = {row["code"]: row for row in out["rows"]}
    assert rows[G11]["households"] == 2 and rows[G11]["visited"] == 2
    assert rows[G11]["special_households"] == 1 and rows[G11]["special_on_cadence"] == 0
    assert rows[G21]["households"] == 1 and rows[G21]["visited_share"] == 0
    assert out["total"]["households"] == 3 and out["total"]["visited"] == 2
    worker = out["workers"][0]
    assert worker["visits"] == 3 and worker["field_days"] == 3
    r = client.get(
        f"/api/v1/visits/coverage?area=419901&start={start}&end={end}&by=community",
        headers=headers("auditor"),
    )
    assert [row["code"] for row in r.json()["rows"]] == ["419901001001", "419901001002"]
    r = client.get(
        f"/api/v1/visits/coverage?area=419901999&start={start}&end={end}",
        headers=headers("auditor"),
    )
    assert r.status_code == 404
    r = client.get(
        f"/api/v1/visits/coverage?area=419999&start={start}&end={end}", headers=headers("auditor")
    )
    assert r.status_code == 403 and r.json()["detail"] == "区域 419999 不在您的辖区内"
    # Without an area: the caller's jurisdiction (community C2 holds only grid G21).
    r = client.get(
        f"/api/v1/visits/coverage?start={start}&end={end}", headers=headers("auditor", C2)
    )
    assert r.status_code == 200 and r.json()["area"] == C2
    assert [row["code"] for row in r.json()["rows"]] == [G21]
    assert r.json()["workers"] == []  # S2's visits were all in G11


def test_outside_jurisdiction_is_answered_as_missing(client, county):
    """A household or grid outside the caller's area gets the same 404 as one that does not exist
    (the caller named it; nothing else about it is said)."""
    dispatcher = headers("dispatcher", C2)
    home = county["homes"]["101"]  # in G11, community C1
    r = client.post(
        "/api/v1/visits", json=body(home, worker_id=county["worker"]), headers=dispatcher
    )
    gone = client.post(
        "/api/v1/visits", json=body(999_999, worker_id=county["worker"]), headers=dispatcher
    )
    assert (r.status_code, r.json()["detail"]) == (404, f"找不到住户 {home}")
    assert gone.status_code == 404 and G11 not in r.text
    r = client.get(f"/api/v1/visits/due?grid={G11}", headers=dispatcher)
    assert (r.status_code, r.json()["detail"]) == (404, f"找不到在用网格 {G11}")
    missing_grid = C2 + "999"
    r = client.get(f"/api/v1/visits/due?grid={missing_grid}", headers=dispatcher)
    assert (r.status_code, r.json()["detail"]) == (404, f"找不到在用网格 {missing_grid}")


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        ("planner", f"/api/v1/visits/due?grid={G11}", 403),  # planners read no household
        ("public", f"/api/v1/visits/due?grid={G11}", 403),
        ("public", "/api/v1/visits/coverage?start=2026-01-01&end=2026-02-01", 403),
        ("planner", "/api/v1/visits/coverage?start=2026-01-01&end=2026-02-01", 200),  # counts
    ],
)
def test_who_may_read(client, county, role, path, status):
    assert client.get(path, headers=headers(role)).status_code == status


def test_a_county_admin_does_not_record_visits(client, county):
    r = client.post(
        "/api/v1/visits",
        json=body(county["homes"]["101"], worker_id=county["worker"]),
        headers=headers("county_admin"),
    )
    assert r.status_code == 403 and r.json()["detail"].startswith("此操作仅限指挥调度员、网格员")


def test_cadence_rules_are_validated():
    with pytest.raises(ValueError, match="unknown groups"):
        parse_rules({"rules": [{"name": "x", "label": "x", "groups": ["vip"], "interval_days": 7}]})
    with pytest.raises(ValueError, match="every household"):
        parse_rules(
            {"rules": [{"name": "x", "label": "x", "groups": ["petitioner"], "interval_days": 7}]}
        )
    assert required_visits(365, 30) == 12 and required_visits(10, 365) == 1


def test_a_workers_whole_list_without_naming_a_grid(client, db, county):
    """The phone page asks without a grid: every grid the worker serves, most overdue first."""
    _visit(db, county["worker"], county["homes"]["101"], 400)
    r = client.get("/api/v1/visits/due", headers=headers("grid_worker", staff_id=county["worker"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["grid_code"] is None and G11 in body["grid_codes"]
    assert body["households"][0]["household_id"] == county["homes"]["102"]  # never visited first
    assert {h["grid_code"] for h in body["households"]} <= set(body["grid_codes"])


def test_only_a_worker_may_omit_the_grid(client, county):
    r = client.get("/api/v1/visits/due", headers=headers("dispatcher"))
    assert r.status_code == 422 and "grid" in r.json()["detail"]


def test_a_linked_township_cadre_may_record_visits_in_the_grid(client, db, county):
    """联系网格干部 visit households too (走村不漏户、户户见干部)."""
    from sqlalchemy import text as sql

    cadre = db.execute(
        sql(
            "INSERT INTO staff (code, name, employment) VALUES ('C1', '刘干部', 'full_time') RETURNING id"
        )
    ).scalar_one()
    db.execute(
        sql("INSERT INTO staff_assignments (staff_id, grid_code, role, start_date) "
            "VALUES (:s, :g, 'cadre', '2026-01-01')"),
        {"s": cadre, "g": G11},
    )  # fmt: skip
    db.commit()
    r = client.get("/api/v1/visits/due", headers=headers("grid_worker", staff_id=cadre))
    assert r.status_code == 200 and r.json()["grid_codes"] == [G11]


def test_due_list_shows_special_groups_only_to_those_who_see_them(client, county):
    """The policy shows special groups to county admins, auditors and a grid worker in the grids
    they serve; a dispatcher gets the list without the group or the rule that would name it."""
    seen = {
        role: {
            h["household_id"]: h
            for h in client.get(f"/api/v1/visits/due?grid={G11}", headers=headers(role)).json()[
                "households"
            ]
        }
        for role in ("auditor", "dispatcher")
    }
    hardship = county["homes"]["102"]
    assert seen["auditor"][hardship]["special_groups"] == ["困难家庭"]
    assert seen["auditor"][hardship]["rule"] == "特殊群体每月走访"
    assert seen["dispatcher"][hardship]["special_groups"] == []
    assert seen["dispatcher"][hardship]["rule"] == "按规定周期走访"
    assert seen["dispatcher"][hardship]["interval_days"] == 30  # when it is due is still shown


def test_a_check_in_sent_twice_with_its_key_is_recorded_once(client, db, county):
    """The phone's offline queue retries with the key it made when queuing: one visit, 200."""
    who = {"Idempotency-Key": "visit-q-1", **headers("grid_worker", staff_id=county["worker"])}
    first = client.post("/api/v1/visits", json=body(county["homes"]["102"]), headers=who)
    assert first.status_code == 201, first.text
    again = client.post("/api/v1/visits", json=body(county["homes"]["102"]), headers=who)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["notes"] == "家中一切正常"
    count = db.scalar(
        text("SELECT count(*) FROM visits WHERE household_id = :h"), {"h": county["homes"]["102"]}
    )
    assert count == 1
    other = client.post("/api/v1/visits", json=body(county["homes"]["101"]), headers=who)
    assert other.status_code == 409 and "另一户" in other.json()["detail"]


def test_a_check_in_with_note_and_photo(client, db, county):
    import base64

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    data = body(county["homes"]["102"], notes="老人身体尚可，已送米面", kind="special_group")
    data.update(photo_base64=base64.b64encode(png).decode(), photo_content_type="image/png")
    r = client.post(
        "/api/v1/visits", json=data, headers=headers("grid_worker", staff_id=county["worker"])
    )
    assert r.status_code == 201, r.text
    assert r.json()["has_photo"] is True and r.json()["notes"] == "老人身体尚可，已送米面"
    stored = db.scalar(text("SELECT photo FROM visits WHERE id = :i"), {"i": r.json()["id"]})
    assert bytes(stored) == png


def test_a_photo_over_the_limit_is_413(client, county):
    import base64

    big = b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024)  # over the 5 MB visit photo limit
    data = body(county["homes"]["102"])
    data.update(photo_base64=base64.b64encode(big).decode(), photo_content_type="image/jpeg")
    r = client.post(
        "/api/v1/visits", json=data, headers=headers("grid_worker", staff_id=county["worker"])
    )
    assert r.status_code == 413, r.text
    assert "照片过大" in r.json()["detail"]
