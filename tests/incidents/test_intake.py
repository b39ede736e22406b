"""Intake: routing, idempotency, duplicate suggestion, photos, and the 4xx answers."""

from __future__ import annotations

import pytest

from tests.factories import C1, C2, G11, G21, TOWNSHIP
from tests.incidents.conftest import IN_G11, IN_G21

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


# A resident's report with their name, phone and address.
RESIDENT = {
    "category_code": "0401",
    "description": "垃圾堆积，王明家门口",
    "address": "阳光花园3号楼",
    "reporter_name": "王明",
    "reporter_phone": "13812345678",
    **IN_G11,
}


def test_intake_routes_to_grid_and_commits_history(api, token_for):
    dispatcher = token_for("dispatcher")
    r = api.post("/api/v1/incidents", json=RESIDENT)
    assert r.status_code == 201, r.text
    receipt = r.json()
    case = api.get(f"/api/v1/incidents/{receipt['id']}", headers=dispatcher).json()
    assert (case["grid_code"], case["community_code"], case["township_code"]) == (G11, C1, TOWNSHIP)
    assert case["leader_name"] == "张伟"
    assert case["state"] == "reported" and case["version"] == 1 and case["tier"] == "grid"
    assert case["reporter_phone"] == "13812345678"  # a dispatcher of the area sees it in full
    assert case["due_at"] > case["reported_at"]
    assert case["deadline"]["stage"] == "register"  # the 受理立案 clock runs from the report
    hist = api.get(f"/api/v1/incidents/{case['id']}/history", headers=dispatcher).json()
    assert [(e["action"], e["to_state"]) for e in hist] == [("report", "reported")]


def test_anonymous_reporter_gets_a_receipt_with_public_fields_only(api):
    r = api.post("/api/v1/incidents", json=RESIDENT)
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert set(receipt) == {
        "id", "case_no", "token", "follow_url", "category_code", "category_name", "state",
        "state_label", "reported_at", "deadline", "duplicates",
    }  # fmt: skip
    assert (receipt["category_name"], receipt["state_label"]) == ("垃圾堆积", "已上报")
    for secret in ("张伟", "王明", "13812345678", "138****5678", "阳光花园", G11, "113.002"):
        assert secret not in r.text


def test_staff_outside_the_area_gets_a_receipt_too(api, token_for):
    r = api.post(
        "/api/v1/incidents",
        json={"category_code": "0401", "description": "x", **IN_G11},
        headers=token_for("dispatcher", C2),
    )
    assert r.status_code == 201, r.text
    assert "leader_name" not in r.json() and "张伟" not in r.text


def test_intake_by_address_uses_the_geocoder(api, token_for):
    r = api.post(
        "/api/v1/incidents",
        json={"category_code": "0401", "description": "x", "address": "阳光花园3号楼"},
        headers=token_for("dispatcher"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["grid_code"] == G11


def test_idempotency_key_returns_the_original(api):
    body = {"category_code": "0401", "description": "重试", **IN_G11}
    first = api.post("/api/v1/incidents", json=body, headers={"Idempotency-Key": "k-1"})
    again = api.post("/api/v1/incidents", json=body, headers={"Idempotency-Key": "k-1"})
    other = api.post("/api/v1/incidents", json=body, headers={"Idempotency-Key": "k-2"})
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert again.json()["id"] == first.json()["id"] != other.json()["id"]
    assert again.json()["token"] == first.json()["token"]


def test_idempotency_key_is_scoped_to_the_caller(api, token_for):
    body = {"category_code": "0401", "description": "重试", "reporter_name": "王明", **IN_G11}
    phone_a = {"Idempotency-Key": "k-1", "X-Device-Id": "phone-a"}
    mine = api.post("/api/v1/incidents", json=body, headers=phone_a)
    assert mine.status_code == 201
    # Another device (same address), and a logged-in user, sending the same key: new reports.
    theirs = api.post(
        "/api/v1/incidents", json=body, headers={"Idempotency-Key": "k-1", "X-Device-Id": "phone-b"}
    )
    planner = {"Idempotency-Key": "k-1", **token_for("planner", username="p1")}
    user = api.post("/api/v1/incidents", json=body, headers=planner)
    assert theirs.status_code == user.status_code == 201
    ids = {mine.json()["id"], theirs.json()["id"], user.json()["id"]}
    assert len(ids) == 3
    assert mine.json()["token"] not in theirs.text + user.text
    # The same user again: their own case, nobody else's.
    again = api.post("/api/v1/incidents", json=body, headers=planner)
    assert again.status_code == 200 and again.json()["id"] == user.json()["id"]


def test_anonymous_replay_shows_only_public_fields(api):
    body = {"category_code": "0401", "description": "重试", "reporter_name": "王明",
            "reporter_phone": "13812345678", **IN_G11}  # fmt: skip
    headers = {"Idempotency-Key": "k-9", "X-Device-Id": "phone-a"}
    first = api.post("/api/v1/incidents", json=body, headers=headers)
    again = api.post("/api/v1/incidents", json=body, headers=headers)
    assert again.status_code == 200
    assert again.json() == {**first.json(), "duplicates": []}
    assert "leader_name" not in again.json() and "reporter_name" not in again.json()
    for secret in ("王明", "张伟", "13812345678", "138****5678", G11):
        assert secret not in again.text


def test_a_key_reused_for_another_report_is_409(api):
    headers = {"Idempotency-Key": "k-3"}
    body = {"category_code": "0401", "description": "第一份", **IN_G11}
    assert api.post("/api/v1/incidents", json=body, headers=headers).status_code == 201
    r = api.post("/api/v1/incidents", json={**body, "description": "第二份"}, headers=headers)
    assert r.status_code == 409 and "Idempotency-Key" in r.json()["detail"]
    assert "第一份" not in r.text


def test_duplicate_suggestion_same_category_nearby(api, report, token_for):
    staff = token_for("dispatcher")
    first = report("0401")
    near = {"lng": 113.0025, "lat": 34.005, "crs": "cgcs2000"}  # ~46 m east

    def post(body):  # type: ignore[no-untyped-def]
        return api.post("/api/v1/incidents", json=body, headers=staff).json()

    second = post({"category_code": "0401", "description": "y", **near})
    assert [d["id"] for d in second["duplicates"]] == [first["id"]]
    assert 30 < second["duplicates"][0]["distance_m"] < 60
    assert post({"category_code": "0402", "description": "z", **near})["duplicates"] == []
    far = {"lng": 113.004, "lat": 34.005, "crs": "cgcs2000"}  # ~185 m: beyond 100 m
    assert post({"category_code": "0401", "description": "w", **far})["duplicates"] == []


def test_the_public_is_told_only_that_a_similar_case_exists(api, report):
    first = report("0401")
    near = {"lng": 113.0025, "lat": 34.005, "crs": "cgcs2000"}
    r = api.post("/api/v1/incidents", json={"category_code": "0401", "description": "y", **near})
    assert r.json()["duplicates"] == [
        {"message": "附近已有同类事件", "case_no": first["case_no"], "state_label": "已上报"}
    ]
    # A sensitive category (邻里纠纷): not even that.
    report("0101")
    r = api.post("/api/v1/incidents", json={"category_code": "0101", "description": "y", **near})
    assert r.status_code == 201 and r.json()["duplicates"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"category_code": "9999", "description": "x", **IN_G11}, "category_code"),
        ({"category_code": "04", "description": "x", **IN_G11}, "category_code"),  # a big class
        ({"category_code": "0401", "description": "x", "lng": 113.1, "lat": 34.005}, "location"),
        ({"category_code": "0401", "description": "x"}, "位置"),
        ({"category_code": "0401", "description": "x", "lng": 113.0}, "lat"),
        ({"category_code": "0401", "description": "", **IN_G11}, "description"),
        ({"category_code": "0401", "description": "x", **IN_G11, "crs": "mars"}, "crs"),
        ({"category_code": "0401", "description": "x", "address": "火星基地9号楼"}, "address"),
    ],
)
def test_bad_input_is_422_naming_the_field(api, body, field):
    r = api.post("/api/v1/incidents", json=body)
    assert r.status_code == 422, r.text
    assert field in r.text


def test_outside_every_grid_names_the_nearest(api):
    r = api.post(
        "/api/v1/incidents",
        json={"category_code": "0401", "description": "x", "lng": 113.03, "lat": 34.005},
    )
    assert r.status_code == 422
    assert "最近的网格" in r.json()["detail"]


def test_multipart_with_photo(api, tmp_path, token_for):
    r = api.post(
        "/api/v1/incidents",
        data={
            "category_code": "0401",
            "description": "有图",
            "lng": "113.015",
            "lat": "34.005",
            "crs": "cgcs2000",
        },
        files=[("photos", ("a.png", PNG, "image/png"))],
    )
    assert r.status_code == 201, r.text
    case = api.get(f"/api/v1/incidents/{r.json()['id']}", headers=token_for("dispatcher")).json()
    assert case["grid_code"] == G21
    (photo,) = case["photos"]
    assert photo["content_type"] == "image/png" and photo["bytes"] == len(PNG)
    assert (tmp_path / "incident_photos" / photo["key"]).read_bytes() == PNG


def test_dispatcher_sees_the_photo_and_others_do_not(api, token_for):
    r = api.post(
        "/api/v1/incidents",
        data={"category_code": "0401", "description": "有图", "lng": "113.015", "lat": "34.005",
              "crs": "cgcs2000"},
        files=[("photos", ("a.png", PNG, "image/png"))],
    )  # fmt: skip
    url = f"/api/v1/incidents/{r.json()['id']}/photos/0"
    got = api.get(url, headers=token_for("dispatcher", "419901"))
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert api.get(url).status_code == 401
    outside = api.get(url, headers=token_for("dispatcher", "419901002"))
    assert outside.status_code == 404 and outside.json()["detail"] == "事件不存在"
    missing = api.get(url[:-1] + "1", headers=token_for("dispatcher", "419901"))
    assert missing.status_code == 404 and "第 2 张" in missing.json()["detail"]


@pytest.mark.parametrize(
    ("content", "status"),
    [(b"%PDF-1.4 not an image", 415), (b"\xff\xd8\xff" + b"\x00" * 2000, 413)],
)
def test_upload_checks(api, content, status):
    r = api.post(
        "/api/v1/incidents",
        data={
            "category_code": "0401",
            "description": "x",
            **{k: str(v) for k, v in IN_G21.items()},
        },
        files=[("photos", ("x.jpg", content, "image/jpeg"))],
    )
    assert r.status_code == status, r.text
    assert api.get("/api/v1/incidents").status_code == 401  # and nothing to list anonymously


def test_on_spot_resolution_only_by_grid_worker(api, token_for):
    body = {"category_code": "0401", "description": "顺手清理", "resolved_on_spot": True, **IN_G11}
    assert api.post("/api/v1/incidents", json=body).status_code == 403
    r = api.post("/api/v1/incidents", json=body, headers=token_for("grid_worker", C1, "w1"))
    assert r.status_code == 201, r.text
    case = r.json()
    assert (
        case["state"] == "closed"
        and case["on_spot"]
        and case["closed_at"]
        and case["assignee"] == "w1"
    )
    hist = api.get(
        f"/api/v1/incidents/{case['id']}/history", headers=token_for("dispatcher")
    ).json()
    assert [e["action"] for e in hist] == ["report", "resolve_on_spot"]


def test_urgent_variant_has_shorter_deadline(api, report):
    normal = report("0401")
    urgent = report("0401", urgent=True)
    assert urgent["due_at"] < normal["due_at"]


def test_categories_listed_and_editable_by_county_admin(api, token_for):
    cats = api.get("/api/v1/incident-categories").json()
    small = [c for c in cats if c["parent_code"]]
    assert len(small) >= 40 and len(cats) - len(small) >= 7
    body = {
        "code": "0499",
        "parent_code": "04",
        "name": "测试小类",
        "limit_value": 2,
        "limit_unit": "working_hours",
    }
    assert (
        api.put(
            "/api/v1/incident-categories/0499", json=body, headers=token_for("dispatcher")
        ).status_code
        == 403
    )
    r = api.put("/api/v1/incident-categories/0499", json=body, headers=token_for("county_admin"))
    assert r.status_code == 200, r.text
    bad = {**body, "parent_code": "0401"}
    assert (
        api.put(
            "/api/v1/incident-categories/0499", json=bad, headers=token_for("county_admin")
        ).status_code
        == 422
    )
    nolimit = {"code": "0498", "parent_code": "04", "name": "无时限"}
    assert (
        api.put(
            "/api/v1/incident-categories/0498", json=nolimit, headers=token_for("county_admin")
        ).status_code
        == 422
    )


def test_coordinate_reports_are_stored_on_the_loop_others_in_the_threadpool(
    api, engine, monkeypatch
):
    from app.incidents import router as router_mod

    hops: list[object] = []
    real = router_mod.run_in_threadpool

    async def counting(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        hops.append(fn)
        return await real(fn, *args, **kwargs)

    monkeypatch.setattr(router_mod, "run_in_threadpool", counting)
    body = {"category_code": "0401", "description": "内联", **IN_G11}
    # The test app has no engine of its own (its sessions join the test's transaction): lend it
    # one with an idle pooled connection so the pool check can pass.
    with engine.connect():
        pass
    api.app.state.engine = engine
    inline = api.post("/api/v1/incidents", json=body)
    assert inline.status_code == 201, inline.text
    assert hops == []
    by_address = api.post(
        "/api/v1/incidents",
        json={"category_code": "0401", "description": "x", "address": "阳光花园3号楼"},
    )
    assert by_address.status_code == 201 and len(hops) == 1
    api.app.state.engine = None  # no pool to check: never inline
    assert api.post("/api/v1/incidents", json=body).status_code == 201 and len(hops) == 2
    again = api.post("/api/v1/incidents", json=body)
    # the inline one was stored
    assert again.json()["duplicates"][0]["case_no"] == inline.json()["case_no"]


def test_a_category_edited_after_intake_cached_it_is_read_again(api, report, token_for):
    admin = token_for("county_admin")
    first = report("0401")  # the process now holds a copy of 0401
    cat = next(c for c in api.get("/api/v1/incident-categories").json() if c["code"] == "0401")
    assert first["tier"] != "county"
    edited = {**cat, "default_tier": "county"}
    assert (
        api.put("/api/v1/incident-categories/0401", json=edited, headers=admin).status_code == 200
    )
    assert report("0401")["tier"] == "county"
    retired = {**edited, "active": False}
    assert (
        api.put("/api/v1/incident-categories/0401", json=retired, headers=admin).status_code == 200
    )
    r = api.post("/api/v1/incidents", json={"category_code": "0401", "description": "x", **IN_G11})
    assert r.status_code == 422 and "category_code" in r.text
    # A refusal is never taken from the copy alone: re-activated, the class is accepted again.
    assert (
        api.put("/api/v1/incident-categories/0401", json=edited, headers=admin).status_code == 200
    )
    assert report("0401")["tier"] == "county"
