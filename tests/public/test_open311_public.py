"""What anyone may read of cases through Open311: public fields, coarse cells, no sensitive cases."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

BASE = "/open311/v2"
# Two points in one 0.001° cell (113.002–113.003 E, 34.005–34.006 N) of grid G11, and its centre.
P1 = {"lng": 113.0023, "lat": 34.0052, "crs": "cgcs2000"}
P2 = {"lng": 113.0028, "lat": 34.0059, "crs": "cgcs2000"}
CENTRE = (113.0025, 34.0055)
# Metres per 0.001° at 34° N: 111 north–south, 111 × cos 34° = 92 east–west.
M_LAT, M_LNG = 111.0, 92.0

PERSONAL = ("王明", "13812345678", "138****5678", "张伟", "李娜", "阳光花园", "门口堆了三天")


def _anonymous(api, category: str, where: dict, **extra):  # type: ignore[no-untyped-def]
    body = {
        "category_code": category,
        "description": "王明家门口堆了三天",
        "reporter_name": "王明",
        "reporter_phone": "13812345678",
        "address": "阳光花园3号楼",
        **where,
        **extra,
    }
    r = api.post("/api/v1/incidents", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_the_public_list_shows_public_fields_only(api):
    case = _anonymous(api, "0401", P1)
    r = api.get(f"{BASE}/requests.json")
    assert r.status_code == 200
    (one,) = r.json()
    assert one == {
        "service_request_id": str(case["id"]),
        "status": "open",
        "status_notes": "已上报",
        "service_name": "垃圾堆积",
        "service_code": "0401",
        "service_notice": f"案件编号 {case['case_no']}",
        "requested_datetime": one["requested_datetime"],
        "updated_datetime": one["updated_datetime"],
        "lat": CENTRE[1],
        "long": CENTRE[0],
    }
    requested = dt.datetime.fromisoformat(one["requested_datetime"])
    reported = dt.datetime.fromisoformat(case["reported_at"].replace("Z", "+00:00"))
    assert requested.utcoffset() == dt.timedelta(hours=8)  # Beijing time, like the deadlines
    assert requested == reported.replace(microsecond=0)
    for secret in (*PERSONAL, "113.0023", "34.0052", "419901001001001"):
        assert secret not in r.text
    xml = api.get(f"{BASE}/requests.xml")
    assert ET.fromstring(xml.content).find("request/lat").text == str(CENTRE[1])
    for secret in (*PERSONAL, "113.0023", "34.0052"):
        assert secret not in xml.text


def test_positions_are_cell_centres_within_a_cell_of_the_truth(api):
    a = _anonymous(api, "0401", P1)
    b = _anonymous(api, "0402", P2)
    rows = {x["service_request_id"]: x for x in api.get(f"{BASE}/requests.json").json()}
    for case, truth in ((a, P1), (b, P2)):
        shown = rows[str(case["id"])]
        # Both cases of the cell show the same centre: neither reveals where in the cell it is.
        assert (shown["long"], shown["lat"]) == CENTRE
        dx = abs(shown["long"] - truth["lng"]) * 1000 * M_LNG
        dy = abs(shown["lat"] - truth["lat"]) * 1000 * M_LAT
        assert dx <= M_LNG / 2 + 0.01 and dy <= M_LAT / 2 + 0.01  # half a cell each way
        assert 0 < (dx**2 + dy**2) ** 0.5 <= 100


@pytest.mark.parametrize("category", ["0101", "0304", "0602", "0704"])
def test_sensitive_categories_are_never_listed(api, category):
    public = _anonymous(api, "0401", P1)
    hidden = _anonymous(api, category, P2)
    listed = api.get(f"{BASE}/requests.json").json()
    assert [x["service_request_id"] for x in listed] == [str(public["id"])]
    assert api.get(f"{BASE}/requests.json", params={"service_code": category}).json() == []
    both = f"{public['id']},{hidden['id']}"
    by_id = api.get(f"{BASE}/requests.json", params={"service_request_id": both}).json()
    assert [x["service_request_id"] for x in by_id] == [str(public["id"])]


def test_a_sensitive_request_is_answered_like_a_missing_one(api):
    hidden = _anonymous(api, "0102", P1)
    sensitive = api.get(f"{BASE}/requests/{hidden['id']}.json")
    missing = api.get(f"{BASE}/requests/{hidden['id'] + 1000}.json")
    assert sensitive.status_code == missing.status_code == 404
    assert sensitive.json() == missing.json()
    assert hidden["case_no"] not in sensitive.text
    # The reporter's own token still finds their request.
    mine = api.get(f"{BASE}/tokens/{hidden['token']}.json").json()
    assert mine == [{"service_request_id": str(hidden["id"]), "token": hidden["token"]}]


def test_closed_cases_are_listed_as_closed(api, report, token_for):
    case = report("0401", P1)
    r = api.post(
        f"/api/v1/incidents/{case['id']}/transitions",
        json={"action": "void", "version": 1, "note": "重复上报"},
        headers=token_for("dispatcher"),
    )
    assert r.status_code == 200
    (one,) = api.get(f"{BASE}/requests.json", params={"status": "closed"}).json()
    assert (one["status"], one["status_notes"]) == ("closed", "已作废")
    assert api.get(f"{BASE}/requests.json", params={"status": "open"}).json() == []
    bad = api.get(f"{BASE}/requests.json", params={"status": "pending"})
    assert bad.status_code == 422 and "open 或 closed" in bad.text


def test_the_view_serves_the_public_where_the_table_shows_nothing(api, db):
    """Row-level security hides ``incidents`` from the app's role without a jurisdiction; the
    ``public_incidents`` view (its owner's rights) still answers, with its public columns only."""
    from sqlalchemy import text

    _anonymous(api, "0401", P1)
    _anonymous(api, "0101", P2)
    with db.begin_nested():
        db.execute(text("SELECT set_config('role', 'gridgov_app', true)"))
        db.execute(text("SELECT set_config('gridgov.scope', '', true)"))
        assert db.scalar(text("SELECT count(*) FROM incidents")) == 0
        rows = db.execute(text("SELECT * FROM public_incidents")).mappings().all()
        db.execute(text("RESET ROLE"))
    assert [r["category_code"] for r in rows] == ["0401"]
    assert set(rows[0]) == {
        "id", "case_no", "category_code", "state", "reported_at", "updated_at", "lng", "lat",
    }  # fmt: skip
