"""/healthz: anonymous, counts and ages only; 503 with Retry-After when the database is down;
degraded when the worker's heartbeat is stale or missing; the outbox backlog."""

from __future__ import annotations

import datetime as dt
import socket

from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db import make_engine
from app.main import create_app
from app.settings import Settings

KEYS = {"status", "database", "worker", "outbox"}


def _beat(db, age: dt.timedelta, name: str = "worker") -> None:  # type: ignore[no-untyped-def]
    db.execute(text("DELETE FROM worker_heartbeats"))
    db.execute(
        text(
            "INSERT INTO worker_heartbeats (name, pid, host, started_at, beat_at) "
            "VALUES (:n, 1, 'h', now() - interval '1 day', now() - :age)"
        ),
        {"n": name, "age": age},
    )
    db.commit()


def test_all_well(client, db):
    _beat(db, dt.timedelta(seconds=3))
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == KEYS
    assert body["status"] == "ok"
    assert body["database"]["reachable"] is True and body["database"]["latency_ms"] >= 0
    worker = body["worker"]
    assert worker["status"] == "ok" and worker["live_workers"] == 1
    assert 3 <= worker["heartbeat_age_seconds"] < 30
    assert worker["stale_after_seconds"] == 120


def test_a_stale_heartbeat_is_degraded_but_still_200(client, db):
    _beat(db, dt.timedelta(minutes=5))
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "degraded"
    assert body["worker"]["status"] == "stale" and body["worker"]["live_workers"] == 0
    assert 299 <= body["worker"]["heartbeat_age_seconds"] < 330


def test_no_worker_ever_is_degraded(client, db):
    db.execute(text("DELETE FROM worker_heartbeats"))
    db.commit()
    body = client.get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["worker"] == {
        "status": "missing",
        "heartbeat_age_seconds": None,
        "live_workers": 0,
        "stale_after_seconds": 120.0,
    }


def test_the_stale_threshold_is_a_setting(app_factory, db):
    from app.incidents.config import IncidentSettings

    _beat(db, dt.timedelta(seconds=30))
    app = app_factory(incidents=IncidentSettings(worker_stale_seconds=10))
    with TestClient(app) as client:
        assert client.get("/healthz").json()["worker"]["status"] == "stale"


def test_outbox_backlog_counts_and_ages_without_any_case_detail(client, db):
    _beat(db, dt.timedelta(seconds=1))
    db.execute(text("UPDATE incident_outbox SET delivered_at = now() WHERE delivered_at IS NULL"))
    db.execute(
        text(
            "INSERT INTO incident_outbox (kind, payload, created_at) VALUES "
            "('incident.escalate', '{\"case_no\": \"SECRET-1\"}', now() - interval '2 hours'), "
            "('incident.escalate', '{\"case_no\": \"SECRET-2\"}', now() - interval '5 minutes'), "
            "('incident.escalate', '{}', now() - interval '3 days')"
        )
    )
    db.execute(
        text(
            "UPDATE incident_outbox SET delivered_at = now() "
            "WHERE created_at < now() - interval '1 day' AND delivered_at IS NULL"
        )
    )
    db.commit()
    r = client.get("/healthz")
    body = r.json()
    assert body["outbox"]["undelivered"] == 2
    assert 7190 <= body["outbox"]["oldest_undelivered_age_seconds"] <= 7300
    assert "SECRET" not in r.text


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when we leave: nothing listens there


def test_database_down_is_503_with_retry_after():
    engine = make_engine(
        f"postgresql+psycopg://nobody:x@127.0.0.1:{_closed_port()}/none", pool_size=1
    )
    app = create_app(Settings(environment="test", locate_refresh_seconds=0), engine=engine)
    with TestClient(app) as client:
        r = client.get("/healthz")
    assert r.status_code == 503
    assert int(r.headers["Retry-After"]) > 0
    body = r.json()
    assert body["status"] == "down"
    assert body["database"] == {"reachable": False, "latency_ms": None}
    assert body["worker"]["status"] == "unknown" and body["outbox"]["undelivered"] is None


def test_documented_in_the_openapi(client):
    op = client.get("/openapi.json").json()["paths"]["/healthz"]["get"]
    assert {"200", "503"} <= set(op["responses"])
    assert "security" not in op  # anonymous
