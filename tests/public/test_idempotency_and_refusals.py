"""Idempotency keys belong to their caller; refusals never name a case the caller may not see."""

from __future__ import annotations

from tests.factories import C1, C2

BASE = "/open311/v2"


def _client_key(api, token_for, name: str) -> str:  # type: ignore[no-untyped-def]
    r = api.post("/api/v1/open311-clients", json={"name": name}, headers=token_for("county_admin"))
    assert r.status_code == 201, r.text
    return r.json()["api_key"]


def _open311(api, key: str, idem: str, description: str = "垃圾"):  # type: ignore[no-untyped-def]
    form = {
        "api_key": key,
        "service_code": "0401",
        "lat": "34.0052",
        "long": "113.0023",
        "description": description,
        "first_name": "明",
        "last_name": "王",
    }
    return api.post(f"{BASE}/requests.json", data=form, headers={"Idempotency-Key": idem})


def test_open311_key_is_scoped_to_the_client(api, token_for):
    a, b = _client_key(api, token_for, "随手拍"), _client_key(api, token_for, "市民通")
    first = _open311(api, a, "k-1")
    again = _open311(api, a, "k-1")
    other = _open311(api, b, "k-1")
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 201)
    assert again.json() == first.json()
    assert other.json()[0]["service_request_id"] != first.json()[0]["service_request_id"]
    assert first.json()[0]["token"] not in other.text
    reused = _open311(api, a, "k-1", description="另一件事")
    assert reused.status_code == 409 and reused.json()[0]["code"] == 409


def test_anonymous_callers_are_told_apart_by_device(api, token_for):
    body = {"category_code": "0401", "description": "重试", "lng": 113.0023, "lat": 34.0052,
            "crs": "cgcs2000", "reporter_name": "王明"}  # fmt: skip
    mine = {"Idempotency-Key": "same", "X-Device-Id": "a"}
    first = api.post("/api/v1/incidents", json=body, headers=mine)
    stranger = api.post(
        "/api/v1/incidents", json=body, headers={"Idempotency-Key": "same", "X-Device-Id": "b"}
    )
    retry = api.post("/api/v1/incidents", json=body, headers=mine)
    assert (first.status_code, stranger.status_code, retry.status_code) == (201, 201, 200)
    assert stranger.json()["id"] != first.json()["id"] == retry.json()["id"]
    assert first.json()["token"] not in stranger.text and "王明" not in retry.text


def test_a_case_outside_the_area_is_answered_like_a_missing_one(api, report, token_for):
    case = report()  # in community C1
    outsider = token_for("dispatcher", C2)
    missing_id = case["id"] + 1000
    for path in ("", "/history", "/photos/0"):
        outside = api.get(f"/api/v1/incidents/{case['id']}{path}", headers=outsider)
        missing = api.get(f"/api/v1/incidents/{missing_id}{path}", headers=outsider)
        assert outside.status_code == missing.status_code == 404, path
        assert outside.json()["detail"] == missing.json()["detail"] == "事件不存在"
        assert case["case_no"] not in outside.text and case["grid_code"] not in outside.text
    move = api.post(
        f"/api/v1/incidents/{case['id']}/transitions",
        json={"action": "accept", "version": 1},
        headers=outsider,
    )
    assert move.status_code == 404 and case["case_no"] not in move.text
    inside = api.get(f"/api/v1/incidents/{case['id']}", headers=token_for("dispatcher", C1))
    assert inside.status_code == 200 and inside.json()["case_no"] == case["case_no"]
