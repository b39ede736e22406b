"""Map layers, tiles, OGC collections and pages through the one access layer.

Two townships: A (419901001, the tiny county of tests/factories.py) and B (419901002, added here),
each with a grid, a leader, a building with two households (one in a special group), a visit and an
open case. Callers: the public, a county planner, a township dispatcher of A and a county admin.
Each surface is asked by each caller, and again with the application's jurisdiction filters
switched off (``access_app_filters=False``): row-level security alone must keep B's households,
visits, cases and leaders from A's dispatcher.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from geoalchemy2.shape import from_shape
from shapely.geometry import Point, box

from app.buildings.models import Building, Household
from app.incidents.models import Incident, IncidentCategory
from app.staff.models import Staff, StaffAssignment
from app.visits.models import Visit
from tests.factories import C1, COUNTY, G11, G12, G21, TOWNSHIP, add_area, add_grid, tiny_county

TOWNSHIP_B = "419901002"
CB = TOWNSHIP_B + "001"
GB = CB + "001"
GRIDS_A = [G11, G12, G21]
TODAY = dt.date.today()
PERIOD = {"start": (TODAY - dt.timedelta(days=7)).isoformat(), "end": TODAY.isoformat()}
BJ = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def county(db) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Township A (tiny county) and township B, with a visit and an open case in each."""
    tiny_county(db)
    add_area(db, TOWNSHIP_B, "东城镇", "township", "town", box(113.02, 34.0, 113.04, 34.01), COUNTY)
    add_area(db, CB, "东城村", "community", "village", box(113.02, 34.0, 113.04, 34.01), TOWNSHIP_B)
    add_grid(db, GB, box(113.02, 34.0, 113.04, 34.01), name="东城村第1网格")
    leader_b = Staff(code="S9", name="赵敏", phone="13700009999", employment="full_time")
    db.add(leader_b)
    db.flush()
    db.add(
        StaffAssignment(staff_id=leader_b.id, grid_code=GB, role="leader", start_date="2026-01-01")
    )
    building_b = Building(
        code="B9",
        name="9号楼",
        community_code=CB,
        household_count=2,
        location=from_shape(Point(113.03, 34.005), srid=4490),
    )
    db.add(building_b)
    db.flush()
    homes_b = [
        Household(building_id=building_b.id, unit="1", room="201", location=building_b.location),
        Household(
            building_id=building_b.id,
            unit="1",
            room="202",
            location=building_b.location,
            special_groups=["elderly_alone"],
        ),
    ]
    db.add_all(homes_b)
    db.flush()
    homes_a = db.query(Household).order_by(Household.id).all()[:2]
    worker = db.query(Staff).filter_by(code="S2").one()
    at = dt.datetime.combine(TODAY, dt.time(10), BJ)
    visits = {}
    for name, home, grid, x in (("A", homes_a[0], G11, 113.002), ("B", homes_b[0], GB, 113.03)):
        v = Visit(
            worker_id=worker.id,
            household_id=home.id,
            grid_code=grid,
            visited_at=at,
            kind="routine",
            recorded_by="t",
            location=from_shape(Point(x, 34.005), srid=4490),
        )
        db.add(v)
        db.flush()
        visits[name] = v.id
    db.add(IncidentCategory(code="T01", name="测试"))
    db.flush()
    now = dt.datetime.now(dt.UTC)
    cases = {}
    for name, grid, x, state in (
        ("A", G11, 113.002, "dispatched"),
        ("B", GB, 113.03, "dispatched"),
        ("A-closed", G11, 113.003, "closed"),  # on no map, in no open-case collection
    ):
        inc = Incident(
            case_no=f"CASE-{name}-0001",
            token=f"token-{name}",
            category_code="T01",
            description="路灯坏了",
            grid_code=grid,
            community_code=grid[:12],
            township_code=grid[:9],
            locate={},
            reported_at=now,
            deadline=now + dt.timedelta(days=2),
            state=state,
            assignee=f"处置人{name}",
            location=from_shape(Point(x, 34.005), srid=4490),
        )
        db.add(inc)
        db.flush()
        cases[name] = inc.id
    db.commit()
    return {"visits": visits, "cases": cases, "homes_a": [h.id for h in homes_a]}


@pytest.fixture
def callers(token_for) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    return {
        "anonymous": {},
        "public": token_for("public", COUNTY),
        "planner": token_for("planner", COUNTY),
        "dispatcher": token_for("dispatcher", TOWNSHIP),  # township A
        "admin": token_for("county_admin", COUNTY),
    }


@pytest.fixture
def rls_only(app_factory):  # type: ignore[no-untyped-def]
    """The app with its own jurisdiction filters off: only the database's row-level security."""
    with TestClient(app_factory(access_app_filters=False)) as c:
        yield c


def _codes(fc: dict[str, Any]) -> list[str]:
    return sorted(f["properties"]["code"] for f in fc["features"])


def _props(fc: dict[str, Any], key: str) -> list[Any]:
    return sorted(f["properties"][key] for f in fc["features"])


# --------------------------------------------------------------------------- who may read at all
REFUSED = [
    # (path, params, caller, status): the policy table's answer, never a 200 with data.
    ("/api/v1/layers/grids", {}, "anonymous", 401),
    ("/api/v1/layers/grids", {}, "public", 403),
    ("/api/v1/layers/areas", {}, "public", 403),
    ("/api/v1/layers/buildings", {}, "public", 403),
    ("/api/v1/layers/names", {"level": "grid"}, "public", 403),
    ("/tiles/grids/12/3381/1631.mvt", {}, "public", 403),
    ("/api/v1/layers/cases", {}, "anonymous", 401),
    ("/api/v1/layers/cases", {}, "public", 403),
    ("/api/v1/layers/cases", {}, "planner", 403),
    ("/api/v1/layers/visits", PERIOD, "public", 403),
    ("/api/v1/layers/visits", PERIOD, "planner", 403),
    ("/api/v1/layers/households", PERIOD, "anonymous", 401),
    ("/api/v1/layers/households", PERIOD, "public", 403),
    ("/api/v1/layers/households", PERIOD, "planner", 403),
]


@pytest.mark.parametrize(("path", "params", "who", "status"), REFUSED)
def test_roles_the_policy_refuses(client, county, callers, path, params, who, status) -> None:  # type: ignore[no-untyped-def]
    r = client.get(path, params=params, headers=callers[who])
    assert r.status_code == status, r.text
    assert GB not in r.text and "赵敏" not in r.text


def test_planner_refusal_names_who_may_read_household_points(client, county, callers) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/layers/households", params=PERIOD, headers=callers["planner"])
    assert r.status_code == 403
    assert "网格规划员" in r.json()["detail"]  # "当前角色为网格规划员"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/layers/grids", {"area": TOWNSHIP_B}),
        ("/api/v1/layers/areas", {"parent": TOWNSHIP_B}),
        ("/api/v1/layers/buildings", {"area": CB}),
        ("/api/v1/layers/names", {"level": "grid", "area": TOWNSHIP_B}),
        ("/tiles/grids/12/3381/1631.mvt", {"area": TOWNSHIP_B}),
        ("/api/v1/layers/cases", {"area": GB}),
        ("/api/v1/layers/visits", {"area": TOWNSHIP_B, **PERIOD}),
        ("/api/v1/layers/households", {"area": CB, **PERIOD}),
    ],
)
def test_an_area_outside_the_jurisdiction_is_refused(client, county, callers, path, params) -> None:  # type: ignore[no-untyped-def]
    r = client.get(path, params=params, headers=callers["dispatcher"])
    assert r.status_code == 403, r.text
    assert "不在您的辖区内" in r.json()["detail"]


# --------------------------------------------------------------------------- registry layers
def test_grids_layer_per_role(client, county, callers) -> None:  # type: ignore[no-untyped-def]
    url = "/api/v1/layers/grids"
    admin = client.get(url, headers=callers["admin"]).json()
    assert _codes(admin) == sorted([*GRIDS_A, GB])
    by_code = {f["properties"]["code"]: f["properties"] for f in admin["features"]}
    assert (by_code[G11]["households"], by_code[GB]["households"]) == (2, 2)
    assert (by_code[G11]["leader_phone"], by_code[GB]["leader_phone"]) == (
        "13812345678",
        "13700009999",
    )
    # Planners see household counts per grid, and leaders' names with masked phones.
    planner = client.get(url, headers=callers["planner"]).json()
    p = {f["properties"]["code"]: f["properties"] for f in planner["features"]}
    assert (p[G11]["households"], p[GB]["households"]) == (2, 2)
    assert (p[G11]["leader"], p[G11]["leader_phone"]) == ("张伟", "138****5678")
    # A township dispatcher: their township's grids only, phones in full.
    disp = client.get(url, headers=callers["dispatcher"]).json()
    assert _codes(disp) == sorted(GRIDS_A) and disp["area"] == TOWNSHIP
    assert next(f for f in disp["features"] if f["id"] == G11)["properties"]["leader_phone"] == (
        "13812345678"
    )
    one = client.get(url, params={"area": C1}, headers=callers["dispatcher"]).json()
    assert _codes(one) == [G11, G12]


def test_grids_layer_without_app_filters_still_hides_other_townships_people(
    rls_only,
    county,
    callers,  # type: ignore[no-untyped-def]
) -> None:
    # The registry itself is not row-secured (grids are the county's shared map), but who leads
    # township B's grid and how many households it has are: the database keeps both from A.
    disp = rls_only.get("/api/v1/layers/grids", headers=callers["dispatcher"]).json()
    b = next(f["properties"] for f in disp["features"] if f["id"] == GB)
    assert (b["leader"], b["leader_phone"], b["households"]) == (None, None, 0)
    a = next(f["properties"] for f in disp["features"] if f["id"] == G11)
    assert (a["leader"], a["households"]) == ("张伟", 2)
    assert "赵敏" not in rls_only.get("/api/v1/layers/grids", headers=callers["dispatcher"]).text


def test_areas_layer_per_role(client, county, callers) -> None:  # type: ignore[no-untyped-def]
    url = "/api/v1/layers/areas"
    county_kids = client.get(url, headers=callers["admin"]).json()
    assert {f["id"]: f["properties"]["households"] for f in county_kids["features"]} == {
        TOWNSHIP: 2,
        TOWNSHIP_B: 2,
    }
    assert {f["id"]: f["properties"]["grids"] for f in county_kids["features"]} == {
        TOWNSHIP: 3,
        TOWNSHIP_B: 1,
    }
    # A township dispatcher drills down from their own township; the county is above them.
    disp = client.get(url, headers=callers["dispatcher"]).json()
    assert disp["parent"] == TOWNSHIP and _codes(disp) == [C1, C1[:-1] + "2"]
    mine = client.get(
        url, params={"parent": TOWNSHIP, "include_self": True}, headers=callers["dispatcher"]
    )
    assert _codes(mine.json()) == [TOWNSHIP, C1, C1[:-1] + "2"]
    assert (
        client.get(url, params={"parent": COUNTY}, headers=callers["dispatcher"]).status_code == 403
    )


def test_names_and_buildings_per_role(client, county, callers) -> None:  # type: ignore[no-untyped-def]
    names = client.get(
        "/api/v1/layers/names", params={"level": "grid"}, headers=callers["dispatcher"]
    )
    assert sorted(names.json()["names"]) == sorted(GRIDS_A)
    towns = client.get(
        "/api/v1/layers/names", params={"level": "township"}, headers=callers["admin"]
    )
    assert towns.json()["names"] == {TOWNSHIP: "城关街道", TOWNSHIP_B: "东城镇"}
    cats = client.get(
        "/api/v1/layers/names", params={"level": "category"}, headers=callers["dispatcher"]
    )
    assert cats.json()["names"]["T01"] == "测试"  # categories are the same everywhere

    url = "/api/v1/layers/buildings"
    assert _codes(client.get(url, headers=callers["dispatcher"]).json()) == ["B1"]
    assert _codes(client.get(url, headers=callers["planner"]).json()) == ["B1", "B9"]
    # A grid is its polygon: B1 (113.002) lies in G11, not in G12.
    assert _codes(client.get(url, params={"area": G11}, headers=callers["admin"]).json()) == ["B1"]
    assert _codes(client.get(url, params={"area": G12}, headers=callers["admin"]).json()) == []


def _tile(lng: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lng + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def test_tiles_per_role(client, county, callers) -> None:  # type: ignore[no-untyped-def]
    x, y = _tile(113.02, 34.005, 10)  # one tile holds both townships
    assert (x, y) == _tile(113.0, 34.0, 10) == _tile(113.04, 34.01, 10)
    url = f"/tiles/grids/10/{x}/{y}.mvt"
    admin = client.get(url, headers=callers["admin"]).content
    assert G11.encode() in admin and GB.encode() in admin
    disp = client.get(url, headers=callers["dispatcher"]).content
    assert G11.encode() in disp and GB.encode() not in disp
    planner = client.get(f"/tiles/buildings/10/{x}/{y}.mvt", headers=callers["planner"]).content
    assert b"B1" in planner and b"B9" in planner
    disp_b = client.get(f"/tiles/buildings/10/{x}/{y}.mvt", headers=callers["dispatcher"]).content
    assert b"B1" in disp_b and b"B9" not in disp_b


# --------------------------------------------------------------------------- personal layers
def test_cases_layer_per_role(client, rls_only, county, callers) -> None:  # type: ignore[no-untyped-def]
    url = "/api/v1/layers/cases"
    admin = client.get(url, headers=callers["admin"]).json()
    assert _props(admin, "case_no") == ["CASE-A-0001", "CASE-B-0001"]
    for app in (client, rls_only):
        disp = app.get(url, headers=callers["dispatcher"])
        assert _props(disp.json(), "case_no") == ["CASE-A-0001"]
        assert "CASE-B" not in disp.text and "处置人B" not in disp.text


def test_visits_layer_per_role(client, rls_only, county, callers) -> None:  # type: ignore[no-untyped-def]
    url = "/api/v1/layers/visits"
    admin = client.get(url, params=PERIOD, headers=callers["admin"]).json()
    assert _props(admin, "grid_code") == [G11, GB]
    for app in (client, rls_only):
        disp = app.get(url, params=PERIOD, headers=callers["dispatcher"]).json()
        assert [f["id"] for f in disp["features"]] == [county["visits"]["A"]]


def test_households_layer_per_role(client, rls_only, county, callers) -> None:  # type: ignore[no-untyped-def]
    url = "/api/v1/layers/households"
    admin = client.get(url, params=PERIOD, headers=callers["admin"]).json()
    assert admin["numberMatched"] == 4 and admin["visited"] == 2
    # County admins see which households are in a special group; dispatchers do not (UNMASKED).
    assert sum(f["properties"]["special"] for f in admin["features"]) == 2
    for app in (client, rls_only):
        disp = app.get(url, params=PERIOD, headers=callers["dispatcher"]).json()
        assert sorted(f["id"] for f in disp["features"]) == county["homes_a"]
        assert [f["properties"]["special"] for f in disp["features"]] == [False, False]
    grid = client.get(url, params={"area": G12, **PERIOD}, headers=callers["admin"]).json()
    assert grid["numberMatched"] == 0  # both of A's households lie in G11


# --------------------------------------------------------------------------- OGC
def test_ogc_incidents_are_scoped(client, rls_only, county, callers) -> None:  # type: ignore[no-untyped-def]
    items = "/ogc/collections/incidents/items"
    admin = client.get(items, headers=callers["admin"]).json()
    assert _props(admin, "case_no") == ["CASE-A-0001", "CASE-B-0001"]
    for app in (client, rls_only):
        disp = app.get(items, headers=callers["dispatcher"])
        assert disp.json()["numberMatched"] == 1
        assert _props(disp.json(), "case_no") == ["CASE-A-0001"]
        inside = app.get(f"{items}/{county['cases']['A']}", headers=callers["dispatcher"])
        assert inside.status_code == 200 and inside.json()["properties"]["grid_code"] == G11
        outside = app.get(f"{items}/{county['cases']['B']}", headers=callers["dispatcher"])
        assert outside.status_code == 404
        assert "CASE-B" not in outside.text and GB not in outside.text
    # The extent of the collection is the dispatcher's cases, not the county's.
    coll = client.get("/ogc/collections/incidents", headers=callers["dispatcher"]).json()
    assert coll["extent"]["spatial"]["bbox"] == [[113.002, 34.005, 113.002, 34.005]]
    # Planners and the public have no incidents collection at all.
    for who in ("planner", "public", "anonymous"):
        assert client.get(items, headers=callers[who]).status_code == 404


def test_ogc_outline_map_is_public(client, county, callers) -> None:  # type: ignore[no-untyped-def]
    for who in ("anonymous", "public"):
        r = client.get("/ogc/collections/grids/items", headers=callers[who])
        assert r.status_code == 200 and _codes(r.json()) == sorted([*GRIDS_A, GB])
        assert "赵敏" not in r.text and "13700009999" not in r.text


# --------------------------------------------------------------------------- pages
def _page(client: TestClient, who: dict[str, str], path: str):  # type: ignore[no-untyped-def]
    token = who["Authorization"].removeprefix("Bearer ")
    client.cookies.set("gridgov_token", token)
    try:
        return client.get(path, follow_redirects=False)
    finally:
        client.cookies.clear()


@pytest.mark.parametrize(
    ("who", "allowed", "refused"),
    [
        (
            "planner",
            ["/maps/coverage", "/planner", "/addresses", "/audits"],
            [
                "/console",
                "/maps/cases",
                "/maps/visits",
                "/dashboard",
                "/m/",
                "/admin/units",
                "/wall",
                "/party",
                "/admission",
                "/register",
            ],
        ),
        (
            "dispatcher",
            [
                "/console",
                "/maps/coverage",
                "/maps/visits",
                "/maps/cases",
                "/dashboard",
                "/audits",
                "/register",
                "/m/",
                "/wall",
                "/party",
                "/admission",
            ],
            ["/planner", "/admin/units", "/addresses"],
        ),
        (
            "admin",
            [
                "/console",
                "/maps/coverage",
                "/maps/visits",
                "/maps/cases",
                "/planner",
                "/addresses",
                "/dashboard",
                "/audits",
                "/register",
                "/admin/units",
                "/wall",
                "/party",
                "/admission",
            ],
            ["/m/"],
        ),
    ],
)
def test_pages_and_navigation_follow_the_policy(
    client, county, callers, who, allowed, refused
) -> None:  # type: ignore[no-untyped-def]
    for path in allowed:
        r = _page(client, callers[who], path)
        assert r.status_code == 200, (path, r.text[:300])
        bar = r.text.split("<nav>", 1)[1].split("</nav>", 1)[0]
        assert re.findall(r'href="([^"?]+)', bar) == allowed
    for path in refused:
        r = _page(client, callers[who], path)
        assert r.status_code == 403, path
        assert "此页面仅限" in r.text


def test_pages_check_the_area(client, county, callers) -> None:  # type: ignore[no-untyped-def]
    outside = _page(client, callers["dispatcher"], f"/maps/coverage?area={TOWNSHIP_B}")
    assert outside.status_code == 403 and "无权查看" in outside.text
    bad = _page(client, callers["dispatcher"], "/maps/coverage?area=12345")
    assert bad.status_code == 422 and "格式有误" in bad.text
    inside = _page(client, callers["dispatcher"], f"/maps/coverage?area={C1}")
    assert inside.status_code == 200 and f"/maps/coverage?area={C1}" in inside.text


def test_each_role_lands_on_its_page(client, county, callers, token_for) -> None:  # type: ignore[no-untyped-def]
    landings = {
        "dispatcher": "/console",
        "planner": "/maps/coverage",
        "admin": "/console",
    }
    for who, page in landings.items():
        assert _page(client, callers[who], "/").headers["location"] == page
    worker = token_for("grid_worker", TOWNSHIP)
    assert _page(client, worker, "/").headers["location"] == "/m/"
    auditor = token_for("auditor", COUNTY)
    assert _page(client, auditor, "/").headers["location"] == "/maps/coverage"
