"""A resident follows a case through its link and rates it (docs/domain.md#residents-ratings).

Cases are reported anonymously (the reporter gets a receipt with the token) and closed by hand in
the database: the ratings' rules, not the lifecycle's, are under test here."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.incidents.config import IncidentSettings
from tests.incidents.conftest import IN_G11

CLOSED_AT = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def _report(api: TestClient, category: str = "0401") -> dict:  # type: ignore[type-arg]
    body = {"category_code": category, "description": "楼下垃圾三天没人清运，张三 13800000000",
            "address": "文化路1号", "reporter_name": "李四", "reporter_phone": "13900000000",
            **IN_G11}  # fmt: skip
    r = api.post("/api/v1/incidents", json=body)
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert "token" in receipt and "description" not in receipt  # a receipt, not the case
    assert receipt["follow_url"] == f"/follow/{receipt['token']}"  # the reporter's link
    return receipt  # type: ignore[no-any-return]


def _close(db, case_id: int, state: str = "closed") -> None:  # type: ignore[no-untyped-def]
    db.execute(
        text("UPDATE incidents SET state = :s, handled_at = :t, closed_at = :t WHERE id = :id"),
        {"s": state, "t": CLOSED_AT, "id": case_id},
    )
    db.flush()


def _case(db, case_id: int) -> dict:  # type: ignore[no-untyped-def, type-arg]
    row = db.execute(
        text(
            "SELECT state, resident_rating, satisfaction, reopen_count, closed_at, handled_at "
            "FROM incidents WHERE id = :id"
        ),
        {"id": case_id},
    ).mappings()
    return dict(row.one())


def _rate(api, case, rating="satisfied", comment="", token=...):  # type: ignore[no-untyped-def]
    body = {"rating": rating, "comment": comment}
    if token is not None:
        body["token"] = case["token"] if token is ... else token
    return api.post(f"/api/v1/incidents/{case['id']}/rating", json=body)


def test_follow_shows_the_public_fields_only(api, db):  # type: ignore[no-untyped-def]
    case = _report(api)
    r = api.get(f"/api/v1/follow/{case['token']}")
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["case_no"] == case["case_no"]
    assert view["state_label"] == "已上报"
    assert view["category_name"] == "垃圾堆积"
    assert [s["label"] for s in view["steps"]] == ["上报"]
    assert view["may_rate"] is False and "尚未办结" in view["why_not"]
    page = api.get(f"/follow/{case['token']}")
    assert page.status_code == 200 and case["case_no"] in page.text
    assert page.headers["cache-control"] == "no-store"
    for private in ("张三", "13800000000", "李四", "13900000000", "文化路", IN_G11["lng"]):
        assert str(private) not in r.text and str(private) not in page.text


def test_sensitive_category_is_not_named(api):  # type: ignore[no-untyped-def]
    case = _report(api, category="0101")  # 邻里纠纷: sensitive (docs/public.md)
    view = api.get(f"/api/v1/follow/{case['token']}").json()
    assert view["category_name"] is None


def test_unknown_token_is_403(api):  # type: ignore[no-untyped-def]
    assert api.get("/api/v1/follow/nope").status_code == 403
    r = api.get("/follow/nope", headers={"Accept": "text/html"})
    assert r.status_code == 403 and "查询凭证" in r.text


def test_rating_without_the_token_is_403(api, db):  # type: ignore[no-untyped-def]
    case, other = _report(api), _report(api)
    _close(db, case["id"])
    for r in (
        _rate(api, case, token=None),  # no token
        _rate(api, case, token=""),
        _rate(api, case, token=other["token"]),  # another case's token
        _rate(api, case, token="x" * 36),
        api.post(
            f"/api/v1/incidents/{case['id'] + 1000}/rating",
            json={"rating": "satisfied", "token": case["token"]},
        ),
    ):
        assert r.status_code == 403, r.text
        assert r.json()["detail"] == "评价需要该案件的查询凭证：请使用回执或短信中的链接"
    assert _case(db, case["id"])["resident_rating"] is None  # nothing written


def test_rating_before_closure_is_409(api):  # type: ignore[no-untyped-def]
    case = _report(api)
    r = _rate(api, case)
    assert r.status_code == 409
    assert r.json()["detail"] == "案件尚未办结（当前：已上报），办结后即可评价"


def test_bad_rating_values_are_422(api, db):  # type: ignore[no-untyped-def]
    case = _report(api)
    _close(db, case["id"])
    assert _rate(api, case, rating="great").status_code == 422
    assert _rate(api, case, comment="长" * 501).status_code == 422
    r = _rate(api, case, rating="unsatisfied", comment="  ")
    assert (
        r.status_code == 422 and r.json()["detail"] == "comment: 请说明不满意的原因，以便重新办理"
    )


def test_satisfied_is_kept_apart_from_the_dispatchers_callback(api, db):  # type: ignore[no-untyped-def]
    case = _report(api)
    _close(db, case["id"])
    r = _rate(api, case, rating="basically", comment="还行")
    assert r.status_code == 201, r.text
    assert r.json() == {"case_no": case["case_no"], "rating": "basically",
                        "rating_label": "基本满意", "reopened": False, "state": "closed",
                        "state_label": "已结案"}  # fmt: skip
    row = _case(db, case["id"])
    assert row["resident_rating"] == "basically" and row["satisfaction"] is None
    again = _rate(api, case)
    assert again.status_code == 409 and again.json()["detail"] == "本次办结已评价，感谢您的反馈"
    stored = db.execute(
        text(
            "SELECT rating, comment, channel, reopened FROM incident_ratings WHERE incident_id = :i"
        ),
        {"i": case["id"]},
    ).all()
    assert [tuple(s) for s in stored] == [("basically", "还行", "api", False)]


def test_unsatisfied_reopens_once(api, db):  # type: ignore[no-untyped-def]
    case = _report(api)
    _close(db, case["id"], state="evaluated")  # the dispatcher's callback came first
    r = _rate(api, case, rating="unsatisfied", comment="垃圾还在")
    assert r.status_code == 201, r.text
    assert r.json()["reopened"] is True and r.json()["state"] == "dispatched"
    row = _case(db, case["id"])
    assert (row["state"], row["reopen_count"], row["closed_at"], row["handled_at"]) == (
        "dispatched",
        1,
        None,
        None,
    )
    history = db.execute(
        text(
            "SELECT action, from_state, to_state, role FROM incident_events "
            "WHERE incident_id = :i ORDER BY id"
        ),
        {"i": case["id"]},
    ).all()
    assert [tuple(h) for h in history] == [
        ("report", None, "reported", "public"),
        ("rate", "evaluated", "evaluated", "public"),
        ("reopen", "evaluated", "dispatched", "public"),
    ]
    steps = [s["label"] for s in api.get(f"/api/v1/follow/{case['token']}").json()["steps"]]
    assert steps == ["上报", "居民评价", "重新办理"]
    # Closed again after the rating: a second 不满意 is recorded but no longer reopens (limit 1).
    db.execute(
        text("UPDATE incidents SET state = 'closed', closed_at = clock_timestamp() WHERE id = :i"),
        {"i": case["id"]},
    )
    r2 = _rate(api, case, rating="unsatisfied", comment="还是没清")
    assert r2.status_code == 201 and r2.json()["reopened"] is False
    assert _case(db, case["id"])["state"] == "closed"


@pytest.fixture
def no_reopen_api(app_factory, county, tmp_path):  # type: ignore[no-untyped-def]
    incidents = IncidentSettings(
        reopen_on_unsatisfied=1, reopen_on_unsatisfied_by_county={"419901": 0}
    )
    with TestClient(app_factory(data_dir=tmp_path, incidents=incidents)) as c:
        yield c


def test_county_may_switch_reopening_off(no_reopen_api, db):  # type: ignore[no-untyped-def]
    case = _report(no_reopen_api)
    _close(db, case["id"])
    r = _rate(no_reopen_api, case, rating="unsatisfied", comment="没修好")
    assert r.status_code == 201 and r.json()["reopened"] is False
    assert _case(db, case["id"])["state"] == "closed"


def test_the_page_form(api, db):  # type: ignore[no-untyped-def]
    case = _report(api)
    _close(db, case["id"])
    page = api.get(f"/follow/{case['token']}")
    assert 'id="rating-form"' in page.text and "不满意" in page.text
    r = api.post(
        f"/follow/{case['token']}",
        data={"rating": "unsatisfied", "comment": "没清"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].endswith("?done=reopened")
    after = api.get(r.headers["location"])
    assert "案件已重新交办" in after.text and "已派遣" in after.text
    bad = api.post("/follow/nope", data={"rating": "satisfied"}, headers={"Accept": "text/html"})
    assert bad.status_code == 403
