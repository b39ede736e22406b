"""Intake: routing, idempotency, duplicate suggestion, photos, and the 4xx answers."""

from __future__ import annotations

import pytest

from tests.factories import C1, G11, G21, TOWNSHIP
from tests.incidents.conftest import IN_G11, IN_G21

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_intake_routes_to_grid_and_commits_history(api, token_for):
    r = api.post(
        "/api/v1/incidents",
        json={
            "category_code": "0401",
            "description": "垃圾堆积",
            "reporter_phone": "13812345678",
            **IN_G11,
        },
    )
    assert r.status_code == 201, r.text
    case = r.json()
    assert (case["grid_code"], case["community_code"], case["township_code"]) == (G11, C1, TOWNSHIP)
    assert case["leader_name"] == "张伟"
    assert case["state"] == "reported" and case["version"] == 1 and case["tier"] == "grid"
    assert case["reporter_phone"] == "138****5678"  # anonymous caller sees it masked
    assert case["deadline"] > case["reported_at"]
    hist = api.get(
        f"/api/v1/incidents/{case['id']}/history", headers=token_for("dispatcher")
    ).json()
    assert [(e["action"], e["to_state"]) for e in hist] == [("report", "reported")]


def test_intake_by_address_uses_the_geocoder(api):
    r = api.post(
        "/api/v1/incidents",
        json={"category_code": "0401", "description": "x", "address": "阳光花园3号楼"},
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


def test_duplicate_suggestion_same_category_nearby(api, report):
    first = report("0401")
    near = {"lng": 113.0025, "lat": 34.005, "crs": "cgcs2000"}  # ~46 m east
    second = api.post(
        "/api/v1/incidents", json={"category_code": "0401", "description": "y", **near}
    ).json()
    assert [d["id"] for d in second["duplicates"]] == [first["id"]]
    assert 30 < second["duplicates"][0]["distance_m"] < 60
    other_cat = api.post(
        "/api/v1/incidents", json={"category_code": "0402", "description": "z", **near}
    ).json()
    assert other_cat["duplicates"] == []
    far = {"lng": 113.004, "lat": 34.005, "crs": "cgcs2000"}  # ~185 m: beyond 100 m
    assert (
        api.post(
            "/api/v1/incidents", json={"category_code": "0401", "description": "w", **far}
        ).json()["duplicates"]
        == []
    )


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


def test_multipart_with_photo(api, tmp_path):
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
    case = r.json()
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
    assert api.get(url, headers=token_for("dispatcher", "419901002")).status_code == 403
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
    assert urgent["deadline"] < normal["deadline"]


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
    assert again.json()["duplicates"][0]["id"] == inline.json()["id"]  # the inline one was stored


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
