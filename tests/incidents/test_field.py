"""Field work through the API (docs/domain.md#field-tasks-the-phone): 我的待办, duplicates before sending and
"same case", handling photos and the close condition that asks for one.

Expectations are written by hand from the domain description: a case dispatched to the worker's grid
unit is theirs; 0401 垃圾堆积's close condition is "现场清理完毕并有照片" (a photo is required) and
0101 邻里纠纷's "双方达成调解协议…" (none).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from app.staff.models import Staff
from app.units.models import Unit
from tests.factories import G11, G21
from tests.incidents.conftest import IN_G11, IN_G21

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


@pytest.fixture
def people(db, token_for):  # type: ignore[no-untyped-def]
    """A county dispatcher; 李娜 (grid worker of G11 and G12) with her account; a grid unit for G11
    and one for G21 (nobody of ours serves it)."""
    db.add_all(
        [
            Unit(code="GU-G11", name="幸福社区第1网格", kind="grid", area_code=G11),
            Unit(code="GU-G21", name="和平社区第1网格", kind="grid", area_code=G21),
        ]
    )
    db.commit()
    lina = db.scalar(select(Staff).where(Staff.code == "S2"))
    return {
        "d": token_for("dispatcher"),
        "w": token_for("grid_worker", "419901001", "lina", staff_id=lina.id),
    }


def move(api, who, case, action, **extra):  # type: ignore[no-untyped-def]
    r = api.post(
        f"/api/v1/incidents/{case['id']}/transitions",
        json={"action": action, "version": case["version"], **extra},
        headers=who,
    )
    return r


def dispatched(api, people, report, category="0401", unit="GU-G11", where=None):  # type: ignore[no-untyped-def]
    case = report(category, where=where)
    for action, extra in (("accept", {}), ("register", {}), ("dispatch", {"unit": unit})):
        r = move(api, people["d"], case, action, **extra)
        assert r.status_code == 200, r.text
        case = r.json()
    return case


def test_my_tasks_lists_cases_of_my_unit_with_my_moves(api, people, report):
    mine = dispatched(api, people, report)
    dispatched(api, people, report, unit="GU-G21", where=IN_G21)  # another grid's unit
    fresh = report("0101")  # just reported in G11: the worker on the spot may resolve it
    report("0101", where=IN_G21)  # reported in a grid the worker does not serve
    r = api.get("/api/v1/incidents/mine", headers=people["w"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == 2
    cases = {c["case_no"]: c for c in body["data"]}
    assert set(cases) == {mine["case_no"], fresh["case_no"]}
    labels = {a["action"]: a["label"] for a in cases[mine["case_no"]]["actions"]}
    # The unit's moves on a dispatched case (not the dispatcher's: no 改派, no 派遣).
    assert labels["start"] == "开始处置" and labels["return"] == "退回"
    assert "reassign" not in labels and "handle" not in labels
    assert [a["label"] for a in cases[fresh["case_no"]]["actions"]] == ["自行处置"]


def test_on_site_check_asked_of_the_grid(api, people, report):
    case = dispatched(api, people, report, category="0101")
    case = move(api, people["w"], case, "start").json()
    case = move(api, people["w"], case, "handle", note="已调解").json()
    case = move(api, people["d"], case, "request_check").json()
    assert case["state"] == "checking"
    r = api.get("/api/v1/incidents/mine", headers=people["w"])
    (item,) = [c for c in r.json()["data"] if c["id"] == case["id"]]
    assert {a["label"] for a in item["actions"]} == {"核查属实", "核查未解决"}
    r = api.post(
        f"/api/v1/incidents/{case['id']}/photos",
        files=[("photos", ("check.png", PNG, "image/png"))],
        headers=people["w"],
    )
    assert r.status_code == 200, r.text
    assert r.json()["photos"][-1]["stage"] == "check"
    r = move(api, people["w"], r.json(), "check_pass", note="现场已恢复")
    assert r.status_code == 200 and r.json()["state"] == "verified", r.text


def test_my_tasks_most_urgent_first(api, people, report, db):
    slow = dispatched(api, people, report, category="0101")  # 5 working days
    fast = dispatched(api, people, report, category="0803")  # 井盖缺失: hours
    late = dispatched(api, people, report, category="0102")
    # 0102's handling clock ran out an hour ago: red, first, whatever its limit.
    db.execute(
        text(
            "UPDATE incidents SET stage_due_at = now() - interval '1 hour', "
            "amber_at = now() - interval '2 hours' WHERE id = :i"
        ),
        {"i": late["id"]},
    )
    db.commit()
    r = api.get("/api/v1/incidents/mine", headers=people["w"])
    data = r.json()["data"]
    assert [c["case_no"] for c in data] == [late["case_no"], fast["case_no"], slow["case_no"]]
    assert [c["deadline"]["light"] for c in data] == ["red", "green", "green"]


def test_dispatcher_has_no_tasks_of_a_unit(api, people, report):
    dispatched(api, people, report)
    r = api.get("/api/v1/incidents/mine", headers=people["d"])
    assert r.status_code == 200 and r.json()["count"] == 0


def test_public_may_not_list_tasks(api):
    assert api.get("/api/v1/incidents/mine").status_code in (401, 403)


def test_handled_needs_a_photo_when_the_close_condition_says_so(api, people, report, tmp_path):
    case = dispatched(api, people, report)  # 0401 垃圾堆积
    case = move(api, people["w"], case, "start").json()
    r = move(api, people["w"], case, "handle", note="已清理")
    assert r.status_code == 422, r.text
    assert "照片" in r.json()["detail"]
    assert api.get(f"/api/v1/incidents/{case['id']}", headers=people["w"]).json()["state"] == (
        "handling"
    )
    r = api.post(
        f"/api/v1/incidents/{case['id']}/photos",
        data={"version": str(case["version"])},
        files=[("photos", ("site.png", PNG, "image/png"))],
        headers=people["w"],
    )
    assert r.status_code == 200, r.text
    case = r.json()
    assert case["photos"][-1]["stage"] == "handle"
    r = move(api, people["w"], case, "handle", note="已清理")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "handled"
    history = api.get(f"/api/v1/incidents/{case['id']}/history", headers=people["d"]).json()
    assert [e["action"] for e in history][-2:] == ["add_photos", "handle"]


def test_no_photo_needed_for_a_dispute(api, people, report):
    case = dispatched(api, people, report, category="0101")
    case = move(api, people["w"], case, "start").json()
    r = move(api, people["w"], case, "handle", note="已调解")
    assert r.status_code == 200, r.text


def test_categories_say_which_need_a_photo(api):
    cats = {c["code"]: c for c in api.get("/api/v1/incident-categories").json()}
    assert cats["0401"]["close_photo_required"] is True
    assert cats["0803"]["close_photo_required"] is True
    assert cats["0101"]["close_photo_required"] is False
    assert cats["0701"]["close_photo_required"] is False


def test_photo_over_the_limit_is_413_and_nothing_changes(api, people, report):
    case = dispatched(api, people, report)
    case = move(api, people["w"], case, "start").json()
    big = PNG + b"\x00" * 2000  # the test app's limit is 1000 bytes
    r = api.post(
        f"/api/v1/incidents/{case['id']}/photos",
        files=[("photos", ("big.png", big, "image/png"))],
        headers=people["w"],
    )
    assert r.status_code == 413, r.text
    assert "上限" in r.json()["detail"]
    after = api.get(f"/api/v1/incidents/{case['id']}", headers=people["w"]).json()
    assert after["version"] == case["version"] and after["photos"] == []


def test_photo_refused_when_not_handling(api, people, report):
    case = dispatched(api, people, report)  # dispatched, not started
    r = api.post(
        f"/api/v1/incidents/{case['id']}/photos",
        files=[("photos", ("a.png", PNG, "image/png"))],
        headers=people["w"],
    )
    assert r.status_code == 409, r.text
    assert "开始处置" in r.json()["detail"]


def test_photo_of_a_stale_version_is_409(api, people, report):
    case = dispatched(api, people, report)
    started = move(api, people["w"], case, "start").json()
    r = api.post(
        f"/api/v1/incidents/{case['id']}/photos",
        data={"version": str(case["version"])},
        files=[("photos", ("a.png", PNG, "image/png"))],
        headers=people["w"],
    )
    assert r.status_code == 409 and started["version"] > case["version"]


def test_nearby_offers_the_open_case_of_the_same_category(api, people, report):
    first = report("0401")
    near = {"lng": IN_G11["lng"] + 0.0002, "lat": IN_G11["lat"], "crs": "cgcs2000"}
    r = api.get(
        "/api/v1/incidents/nearby", params={"category_code": "0401", **near}, headers=people["w"]
    )
    assert r.status_code == 200, r.text
    (dup,) = r.json()["data"]
    assert dup["case_no"] == first["case_no"] and dup["state_label"] == "已上报"
    assert 10 < dup["distance_m"] < 30  # 0.0002° of longitude at 34°N ≈ 18 m
    other = api.get(
        "/api/v1/incidents/nearby", params={"category_code": "0402", **near}, headers=people["w"]
    )
    assert other.json()["count"] == 0


def test_nearby_bad_category_is_422(api, people):
    r = api.get(
        "/api/v1/incidents/nearby",
        params={"category_code": "04", **IN_G11},
        headers=people["w"],
    )
    assert r.status_code == 422 and "小类" in r.json()["detail"]


def test_same_case_links_the_report_and_a_replay_answers_it_again(api, people, report):
    first = report("0401")
    body = {"category_code": "0401", "description": "楼下垃圾又堆起来了", **IN_G11,
            "same_as": first["id"]}  # fmt: skip
    key = {"Idempotency-Key": "phone-q-1", **people["w"]}
    r = api.post("/api/v1/incidents", json=body, headers=key)
    assert r.status_code == 201, r.text
    assert r.json()["case_no"] == first["case_no"]
    again = api.post("/api/v1/incidents", json=body, headers=key)
    assert again.status_code == 200 and again.json()["case_no"] == first["case_no"]
    history = api.get(f"/api/v1/incidents/{first['id']}/history", headers=people["d"]).json()
    linked = [e for e in history if e["action"] == "same_report"]
    assert len(linked) == 1
    assert linked[0]["actor"] == "lina" and linked[0]["note"] == "楼下垃圾又堆起来了"
    listed = api.get("/api/v1/incidents", headers=people["d"]).json()
    assert listed["count"] == 1  # no second case


def test_same_case_of_another_category_is_422(api, people, report):
    first = report("0401")
    body = {"category_code": "0402", "description": "污水", **IN_G11, "same_as": first["id"]}
    r = api.post("/api/v1/incidents", json=body, headers=people["w"])
    assert r.status_code == 422 and "不是同一事件" in r.json()["detail"]


def test_same_case_unknown_is_422(api, people):
    body = {"category_code": "0401", "description": "x", **IN_G11, "same_as": 999999}
    r = api.post("/api/v1/incidents", json=body, headers=people["w"])
    assert r.status_code == 422 and "找不到案件" in r.json()["detail"]
