"""What requests leave in the audit trail: every write (success, refused, error; user, address,
path template), household reads, and the trail's own API (who may read it, filters, paging)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import pytest
from fastapi import Depends
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.audittrail import record_event
from app.auth.deps import CurrentUser, SessionDep, require_roles
from app.errors import Conflict
from tests.factories import G11, tiny_county


def _events_after(db, start: int) -> list:  # type: ignore[no-untyped-def]
    return list(
        db.execute(
            text(
                "SELECT id, actor, address, action, object, outcome, detail FROM audit_events "
                "WHERE id > :s ORDER BY id"
            ),
            {"s": start},
        )
    )


@pytest.fixture
def start(db) -> int:  # type: ignore[no-untyped-def]
    return int(db.scalar(text("SELECT coalesce(max(id), 0) FROM audit_events")))


@pytest.fixture
def app_with_writes(app_factory):  # type: ignore[no-untyped-def]
    """The real app plus three write routes: one that commits, one refused after writing (its
    write rolls back), one that crashes."""
    app = app_factory()

    def ok(session: SessionDep, user: CurrentUser, thing_id: int) -> dict[str, int]:
        session.execute(text("INSERT INTO registry_config (key, value) VALUES ('audit_test', 1)"))
        return {"id": thing_id}

    def refused(session: SessionDep, user: CurrentUser) -> None:
        session.execute(
            text("INSERT INTO registry_config (key, value) VALUES ('audit_test_refused', 1)")
        )
        raise Conflict("这件事已经办过了")

    def crash(
        session: SessionDep, user: Annotated[object, Depends(require_roles("county_admin"))]
    ) -> None:
        raise RuntimeError("bug")

    app.add_api_route("/api/v1/test-things/{thing_id}", ok, methods=["POST"], status_code=201)
    app.add_api_route("/api/v1/test-refused", refused, methods=["PUT"])
    app.add_api_route("/api/v1/test-crash", crash, methods=["DELETE"])
    return app


def test_a_successful_write_is_recorded_with_user_address_and_template(
    app_with_writes, token_for, db, start
):
    with TestClient(app_with_writes) as client:
        r = client.post("/api/v1/test-things/7", headers=token_for("dispatcher", username="d1"))
    assert r.status_code == 201, r.text
    [event] = _events_after(db, start)
    assert event.actor == "d1"
    assert event.address == "testclient"
    assert (event.action, event.object, event.outcome) == (
        "http.write",
        "POST /api/v1/test-things/{thing_id}",
        "success",
    )
    assert event.detail == {"status": 201, "path": "/api/v1/test-things/7"}


def test_a_refused_write_rolls_back_but_is_recorded_as_refused(
    app_with_writes, token_for, db, start
):
    with TestClient(app_with_writes) as client:
        r = client.put("/api/v1/test-refused", headers=token_for("dispatcher", username="d2"))
    assert r.status_code == 409
    assert (
        db.scalar(text("SELECT count(*) FROM registry_config WHERE key = 'audit_test_refused'"))
        == 0
    )
    [event] = _events_after(db, start)
    assert (event.actor, event.object, event.outcome) == (
        "d2",
        "PUT /api/v1/test-refused",
        "refused",
    )
    assert event.detail["status"] == 409


def test_a_crashed_write_is_recorded_as_error(app_with_writes, token_for, db, start):
    with TestClient(app_with_writes, raise_server_exceptions=False) as client:
        r = client.delete("/api/v1/test-crash", headers=token_for("county_admin", username="a1"))
    assert r.status_code == 500
    [event] = _events_after(db, start)
    assert (event.actor, event.object, event.outcome) == (
        "a1",
        "DELETE /api/v1/test-crash",
        "error",
    )


def test_an_anonymous_or_forbidden_write_is_recorded_without_or_with_its_user(
    app_with_writes, token_for, db, start
):
    with TestClient(app_with_writes) as client:
        assert client.delete("/api/v1/test-crash").status_code == 401
        r = client.delete("/api/v1/test-crash", headers=token_for("auditor", username="au"))
        assert r.status_code == 403
    anonymous, forbidden = _events_after(db, start)
    assert (anonymous.actor, anonymous.outcome, anonymous.detail["status"]) == (
        None,
        "refused",
        401,
    )
    assert (forbidden.actor, forbidden.outcome, forbidden.detail["status"]) == (
        "au",
        "refused",
        403,
    )


def test_reads_and_unknown_paths(app_with_writes, db, start):
    with TestClient(app_with_writes) as client:
        assert client.get("/api/v1/test-things/1").status_code == 405
        assert client.get("/healthz").status_code in (200, 503)
        assert client.post("/api/v1/no-such-thing").status_code == 404
    [event] = _events_after(db, start)  # reads leave nothing; the probe of a missing route does
    assert (event.object, event.outcome) == ("POST /api/v1/no-such-thing", "refused")


def test_household_reads_are_in_the_trail(client, db, token_for, start):
    tiny_county(db)
    db.commit()
    r = client.get(
        "/api/v1/households", params={"grid": G11}, headers=token_for("dispatcher", username="d3")
    )
    assert r.status_code == 200, r.text
    ids = [h["id"] for h in r.json()["data"]]
    assert ids
    [event] = [e for e in _events_after(db, start) if e.action == "personal.read"]
    assert (event.actor, event.address, event.object, event.outcome) == (
        "d3",
        "testclient",
        f"grid:{G11}",
        "success",
    )
    assert event.detail["household_ids"] == ids
    assert event.detail["purpose"] == f"GET /api/v1/households?grid={G11}"

    one = client.get(f"/api/v1/households/{ids[0]}", headers=token_for("dispatcher", username="d3"))
    assert one.status_code == 200, one.text
    last = _events_after(db, start)[-1]
    assert (last.action, last.object, last.detail["household_ids"]) == (
        "personal.read",
        f"household:{ids[0]}",
        [ids[0]],
    )


@pytest.fixture
def some_events(db):  # type: ignore[no-untyped-def]
    for actor, action, outcome in [
        ("zhang", "auth.login", "success"),
        ("zhang", "http.write", "success"),
        ("li", "auth.login", "failure"),
        ("li", "http.write", "refused"),
        ("zhang", "personal.read", "success"),
    ]:
        record_event(
            db, actor=actor, address="10.0.0.1", action=action, object="o", outcome=outcome
        )
    db.commit()


def test_county_admin_reads_the_trail_with_filters_and_pages(client, token_for, some_events):
    admin = token_for("county_admin", username="boss")
    r = client.get("/api/v1/audit-trail", params={"user": "zhang"}, headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 3 and body["count"] == 3
    assert [e["action"] for e in body["data"]] == ["personal.read", "http.write", "auth.login"]
    first = body["data"][-1]
    assert set(first) == {
        "id",
        "at",
        "actor",
        "address",
        "action",
        "object",
        "outcome",
        "detail",
        "prev_hash",
        "hash",
    }
    r = client.get(
        "/api/v1/audit-trail",
        params={"action": "auth.login", "limit": 1, "offset": 1},
        headers=admin,
    )
    body = r.json()
    assert body["total"] >= 2 and body["count"] == 1 and body["offset"] == 1
    r = client.get(
        "/api/v1/audit-trail", params={"user": "li", "outcome": "failure"}, headers=admin
    )
    assert [e["action"] for e in r.json()["data"]] == ["auth.login"]
    now = dt.datetime.now(dt.UTC)
    r = client.get(
        "/api/v1/audit-trail",
        params={"user": "zhang", "from": (now + dt.timedelta(hours=1)).isoformat()},
        headers=admin,
    )
    assert r.json()["total"] == 0
    r = client.get(
        "/api/v1/audit-trail",
        params={
            "user": "zhang",
            "from": (now - dt.timedelta(hours=1)).isoformat(),
            "to": now.isoformat(),
        },
        headers=admin,
    )
    assert r.json()["total"] == 3
    # reading the trail is itself in the trail
    r = client.get(
        "/api/v1/audit-trail", params={"user": "boss", "action": "audit.read"}, headers=admin
    )
    assert r.json()["total"] >= 5


def test_auditor_may_read_the_trail(client, token_for, some_events):
    r = client.get("/api/v1/audit-trail", headers=token_for("auditor"))
    assert r.status_code == 200


@pytest.mark.parametrize("role", ["dispatcher", "planner", "grid_worker", "public"])
def test_other_roles_may_not(client, token_for, role):
    r = client.get("/api/v1/audit-trail", headers=token_for(role))
    assert r.status_code == 403
    assert "县级管理员" in r.json()["detail"]


def test_anonymous_may_not(client):
    assert client.get("/api/v1/audit-trail").status_code == 401


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-12-01T08:00:00"}, "时区"),
        ({"from": "2026-12-02T00:00:00+08:00", "to": "2026-12-01T00:00:00+08:00"}, "晚于"),
        ({"limit": 0}, None),
        ({"outcome": "ok"}, None),
    ],
)
def test_bad_filters_are_422(client, token_for, params, message):
    r = client.get("/api/v1/audit-trail", params=params, headers=token_for("county_admin"))
    assert r.status_code == 422, r.text
    if message:
        assert message in r.text


def test_sign_ins_are_in_the_trail_success_and_failure(client, db, start):
    from app.auth.schemas import UserCreate
    from app.auth.service import create_user

    tiny_county(db)
    create_user(
        db,
        data=UserCreate(
            username="wang",
            password="Harbour-lights-42",
            role="dispatcher",
            jurisdiction_code="419901",
        ),
    )
    db.commit()
    bad = client.post("/api/v1/auth/token", data={"username": "wang", "password": "wrong-one-12"})
    assert bad.status_code == 401
    good = client.post(
        "/api/v1/auth/token", data={"username": "wang", "password": "Harbour-lights-42"}
    )
    assert good.status_code == 200, good.text
    logins = [e for e in _events_after(db, start) if e.action == "auth.login"]
    assert [(e.actor, e.address, e.object, e.outcome) for e in logins] == [
        ("wang", "testclient", "user:wang", "failure"),
        ("wang", "testclient", "user:wang", "success"),
    ]
    # and the token request itself, as a write, once each
    writes = [e for e in _events_after(db, start) if e.object == "POST /api/v1/auth/token"]
    assert [e.outcome for e in writes] == ["refused", "success"]
