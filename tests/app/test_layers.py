"""What the cases and visits layers hold: the cases as one GeoJSON text built by PostgreSQL in the
incident service, with the API list's filters (state, category, area) and each case classed by its
deadline; visit and household points from the visits service, with nothing personal on them.
(Who may read which layer where: tests/access/test_surfaces.py.)"""

from __future__ import annotations

import datetime as dt

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import Point

from app.incidents.models import Incident, IncidentCategory
from tests.factories import G11, G21, tiny_county

URL = "/api/v1/layers/cases"
TODAY = dt.date.today()
BJ = dt.timezone(dt.timedelta(hours=8))
WEEK = {"start": (TODAY - dt.timedelta(days=6)).isoformat(), "end": TODAY.isoformat()}


@pytest.fixture
def cases(db):  # type: ignore[no-untyped-def]
    tiny_county(db)
    db.add_all(
        [
            IncidentCategory(code="T1", name="测试大类"),
            IncidentCategory(code="T1%", name="百分号"),
        ]
    )
    db.flush()
    db.add(
        IncidentCategory(
            code="T101", name="测试小类", parent_code="T1", limit_value=2, limit_unit="working_days"
        )
    )
    db.flush()
    now = dt.datetime.now(dt.UTC)
    rows = [
        # (case_no, category, grid, state, deadline from now, x)
        ("LATE", "T101", G11, "dispatched", dt.timedelta(hours=-3), 113.0021234567),
        ("SOON", "T1", G21, "handling", dt.timedelta(hours=5), 113.015),
        ("LATER", "T1%", G11, "accepted", dt.timedelta(days=3), 113.003),
        ("DONE", "T1", G11, "closed", dt.timedelta(hours=-1), 113.004),
    ]
    for no, cat, grid, state, left, x in rows:
        db.add(
            Incident(
                case_no=no,
                token=no,
                category_code=cat,
                description="路灯坏了，" + "很暗" * 40,
                grid_code=grid,
                community_code=grid[:12],
                locate={},
                reported_at=now - dt.timedelta(days=1),
                deadline=now + left,
                # The current stage's clock (app/incidents/deadlines.py): the overdue filter and
                # the light read it.
                stage_started_at=now - dt.timedelta(days=1),
                stage_due_at=now + left,
                state=state,
                assignee="处置人" + no,
                location=from_shape(Point(x, 34.005), srid=4490),
            )
        )
    db.flush()


def _nos(body: dict) -> list[str]:  # type: ignore[type-arg]
    return [f["properties"]["case_no"] for f in body["features"]]


def test_open_cases_by_deadline_with_urgency(client, token_for, cases) -> None:  # type: ignore[no-untyped-def]
    r = client.get(URL, headers=token_for("dispatcher"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    body = r.json()
    assert body["type"] == "FeatureCollection" and body["numberMatched"] == 3
    assert _nos(body) == ["LATE", "SOON", "LATER"]  # closed cases are not on the map
    late = body["features"][0]
    assert late["geometry"] == {"type": "Point", "coordinates": [113.002123, 34.005]}
    p = late["properties"]
    assert (p["urgency"], p["category_name"], p["grid_code"], p["assignee"]) == (
        "overdue",
        "测试小类",
        G11,
        "处置人LATE",
    )
    assert -181 <= p["minutes_left"] <= -180
    assert p["summary"] == ("路灯坏了，" + "很暗" * 40)[:60]
    assert p["id"] == late["id"] and p["state"] == "dispatched"
    urgencies = [f["properties"]["urgency"] for f in body["features"]]
    assert urgencies == ["overdue", "due_soon", "on_time"]


def test_due_soon_follows_soon_hours(client, token_for, cases) -> None:  # type: ignore[no-untyped-def]
    body = client.get(URL, params={"soon_hours": 2}, headers=token_for("dispatcher")).json()
    assert [f["properties"]["urgency"] for f in body["features"]] == [
        "overdue",
        "on_time",
        "on_time",
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"overdue": "true"}, ["LATE"]),
        ({"category": "T1"}, ["LATE", "SOON", "LATER"]),  # a class code takes its small classes
        ({"category": "T101"}, ["LATE"]),
        ({"category": "T1%"}, ["LATER"]),  # a code, not a pattern
        ({"state": ["handling", "closed"]}, ["DONE", "SOON"]),  # by deadline
        ({"area": G21}, ["SOON"]),
        ({"limit": 2}, ["LATE", "SOON"]),
    ],
)
def test_filters(client, token_for, cases, params, expected) -> None:  # type: ignore[no-untyped-def]
    r = client.get(URL, params=params, headers=token_for("dispatcher"))
    assert r.status_code == 200, r.text
    assert _nos(r.json()) == expected


def test_no_case_is_an_empty_collection(client, token_for, cases) -> None:  # type: ignore[no-untyped-def]
    body = client.get(URL, params={"category": "X9"}, headers=token_for("dispatcher")).json()
    assert body == {"type": "FeatureCollection", "numberMatched": 0, "features": []}


@pytest.mark.parametrize(
    "params", [{"soon_hours": 0}, {"limit": 0}, {"category": "1" * 17}, {"area": "41990"}]
)
def test_bad_parameters_are_422(client, token_for, cases, params) -> None:  # type: ignore[no-untyped-def]
    assert client.get(URL, params=params, headers=token_for("dispatcher")).status_code == 422


def test_an_area_above_the_callers_jurisdiction_is_403(client, token_for, cases) -> None:  # type: ignore[no-untyped-def]
    # 4199 is a prefecture (docs/domain.md#hierarchy-and-codes): a real area, but above a county dispatcher.
    r = client.get(URL, params={"area": "4199"}, headers=token_for("dispatcher"))
    assert r.status_code == 403 and "不在您的辖区内" in r.json()["detail"]


# --------------------------------------------------------------------------- visits map
@pytest.fixture
def visited(db):  # type: ignore[no-untyped-def]
    """The tiny county's two households (both in G11); the first visited yesterday, far away."""
    from app.buildings.models import Household
    from app.staff.models import Staff
    from app.visits.models import Visit

    tiny_county(db)
    home = db.query(Household).order_by(Household.id).first()
    worker = db.query(Staff).filter_by(code="S2").one()
    at = dt.datetime.combine(TODAY - dt.timedelta(days=1), dt.time(9, 30), BJ)
    db.add(
        Visit(
            worker_id=worker.id,
            household_id=home.id,
            grid_code=G11,
            visited_at=at,
            kind="follow_up",
            far_from_household=True,
            recorded_by="t",
            notes="家中老人身体不适",
            location=from_shape(Point(113.0031234567, 34.005), srid=4490),
        )
    )
    db.flush()
    return home.id


def test_visit_points_show_no_notes(client, token_for, visited) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/layers/visits", params=WEEK, headers=token_for("dispatcher"))
    assert r.status_code == 200
    (f,) = r.json()["features"]
    assert f["geometry"]["coordinates"] == [113.003123, 34.005]
    assert f["properties"] == {
        "grid_code": G11,
        "kind": "follow_up",
        "visited_at": f["properties"]["visited_at"],
        "far_from_household": True,
    }
    assert dt.datetime.fromisoformat(f["properties"]["visited_at"]).astimezone(BJ).hour == 9
    assert "身体不适" not in r.text
    # The period is whole days in Beijing time, both ends included.
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
    one_day = {"start": yesterday, "end": yesterday}
    assert (
        len(
            client.get(
                "/api/v1/layers/visits", params=one_day, headers=token_for("dispatcher")
            ).json()["features"]
        )
        == 1
    )
    today = {"start": TODAY.isoformat(), "end": TODAY.isoformat()}
    assert (
        client.get("/api/v1/layers/visits", params=today, headers=token_for("dispatcher")).json()[
            "features"
        ]
        == []
    )


def test_household_points_visited_and_special(client, token_for, visited) -> None:  # type: ignore[no-untyped-def]
    url = "/api/v1/layers/households"
    admin = client.get(url, params=WEEK, headers=token_for("county_admin")).json()
    assert (admin["numberMatched"], admin["visited"]) == (2, 1)
    props = {f["id"]: f["properties"] for f in admin["features"]}
    assert props[visited] == {"visited": True, "special": False}
    (other,) = (p for i, p in props.items() if i != visited)
    assert other == {"visited": False, "special": True}  # the hardship household
    # Auditors see special groups too; dispatchers do not (the policy's UNMASKED table).
    auditor = client.get(url, params=WEEK, headers=token_for("auditor")).json()
    assert sum(f["properties"]["special"] for f in auditor["features"]) == 1
    disp = client.get(url, params=WEEK, headers=token_for("dispatcher")).json()
    assert [f["properties"]["special"] for f in disp["features"]] == [False, False]


@pytest.mark.parametrize("path", ["/api/v1/layers/visits", "/api/v1/layers/households"])
def test_a_period_ending_before_it_starts_is_422(client, token_for, visited, path) -> None:  # type: ignore[no-untyped-def]
    params = {"start": TODAY.isoformat(), "end": (TODAY - dt.timedelta(days=1)).isoformat()}
    r = client.get(path, params=params, headers=token_for("county_admin"))
    assert r.status_code == 422 and "结束日期早于开始日期" in r.text


def test_a_grid_worker_sees_special_groups_only_in_the_grids_they_serve(
    db,
    client,
    token_for,
    visited,  # type: ignore[no-untyped-def]
) -> None:
    from app.buildings.models import Building, Household
    from app.staff.models import Staff

    # A special-group household in G21, which S2 (the worker of G11 and G12) does not serve.
    b = Building(
        code="B21",
        name="21号楼",
        community_code=G21[:12],
        location=from_shape(Point(113.015, 34.005), srid=4490),
    )
    db.add(b)
    db.flush()
    db.add(
        Household(
            building_id=b.id, unit="1", room="1", location=b.location, special_groups=["disabled"]
        )
    )
    db.flush()
    s2 = db.query(Staff).filter_by(code="S2").one()
    worker = token_for("grid_worker", "419901001", staff_id=s2.id)
    body = client.get("/api/v1/layers/households", params=WEEK, headers=worker).json()
    flags = sorted(
        (tuple(f["geometry"]["coordinates"]), f["properties"]["special"]) for f in body["features"]
    )
    # G11's two households at B1 (one in a special group) and G21's household, a plain point.
    assert flags == [
        ((113.002, 34.005), False),
        ((113.002, 34.005), True),
        ((113.015, 34.005), False),
    ]
    admin = client.get("/api/v1/layers/households", params=WEEK, headers=token_for("county_admin"))
    assert sum(f["properties"]["special"] for f in admin.json()["features"]) == 2
