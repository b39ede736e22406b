"""Escalation sweep with two workers racing on real connections, and outbox delivery.

These tests commit through the shared engine (the rolled-back ``db`` fixture cannot be seen from
other connections) and purge their own rows afterwards.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading

import pytest
from sqlalchemy import text

from app.incidents.notify import WebhookChannel
from app.incidents.outbox import deliver_outbox
from app.incidents.worker import sweep_once

PREFIX = "WRK"


def _purge(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL gridgov.allow_purge = 'on'"))
        conn.execute(text("DELETE FROM incidents WHERE case_no LIKE :p"), {"p": PREFIX + "%"})


@pytest.fixture
def overdue(engine):  # type: ignore[no-untyped-def]
    """200 handling cases 1 h past a 10-day limit, tier grid; plus one at township level."""
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        conn.execute(
            text(
                """
                INSERT INTO incidents (case_no, token, category_code, description, location, grid_code,
                    community_code, locate, state, tier, reported_at, deadline, escalate_at)
                SELECT :p || g, :p || g, '0401', 'w', ST_SetSRID(ST_MakePoint(113.002, 34.005), 4490),
                       '419901001001001', '419901001001', '{}', 'handling',
                       CASE WHEN g = 0 THEN 2 ELSE 0 END, :rep, :dl, :dl
                  FROM generate_series(0, 200) AS g
                """
            ),
            {"p": PREFIX, "rep": now - dt.timedelta(days=10), "dl": now - dt.timedelta(hours=1)},
        )
    yield now
    _purge(engine)


def _stats(engine):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(
            text(
                """
                SELECT i.case_no, i.tier, i.supervised, i.escalation_count, i.escalate_at,
                       (SELECT count(*) FROM incident_events e WHERE e.incident_id = i.id) AS events,
                       (SELECT count(*) FROM incident_outbox o WHERE o.incident_id = i.id) AS messages
                  FROM incidents i WHERE i.case_no LIKE :p ORDER BY i.case_no
                """
            ),
            {"p": PREFIX + "%"},
        ).all()


def test_two_workers_racing_escalate_each_case_once(engine, overdue):
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def run() -> None:
        barrier.wait()
        counts.append(sweep_once(engine, batch=20))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 201
    rows = _stats(engine)
    assert len(rows) == 201
    assert all(
        r.escalation_count == 1 and r.events == 1 and r.messages == 1 and r.supervised for r in rows
    )
    top = next(r for r in rows if r.case_no == PREFIX + "0")
    assert top.tier == 3 and top.escalate_at is None  # township → county, nowhere further
    assert all(r.tier == 1 and r.escalate_at > overdue for r in rows if r.case_no != PREFIX + "0")
    # A restarted worker finds nothing more to do until the next limit-span has passed.
    assert sweep_once(engine) == 0
    later = overdue + dt.timedelta(days=11)
    assert sweep_once(engine, now=later) == 200


class _Sink(http.server.BaseHTTPRequestHandler):
    received: list[dict] = []  # noqa: RUF012

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Sink.received.append(json.loads(body))
        self.send_response(200 if self.path == "/ok" else 500)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


def test_outbox_delivers_to_webhook_and_retries_failures(engine, overdue):
    sweep_once(engine)
    server = http.server.HTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        assert deliver_outbox(engine, []) == (0, 0)  # no channels configured: nothing claimed
        failing = WebhookChannel(url + "/fail", timeout=2)
        delivered, failed = deliver_outbox(engine, [failing], batch=5)
        assert (delivered, failed) == (0, 5)
        ok = WebhookChannel(url + "/ok", timeout=2)
        delivered, failed = deliver_outbox(engine, [ok], batch=1000)
        assert delivered >= 196 and failed == 0  # the 5 failed ones wait for their back-off
    finally:
        server.shutdown()
    assert _Sink.received[-1]["kind"] == "incident.escalate" and "message_id" in _Sink.received[-1]
    with engine.connect() as conn:
        pending = conn.execute(
            text(
                "SELECT count(*) FROM incident_outbox WHERE delivered_at IS NULL AND attempts = 1 AND last_error LIKE '%500%'"
            )
        ).scalar_one()
    assert pending == 5


def test_one_sweep_on_two_connections_escalates_each_case_once(engine, overdue):
    assert sweep_once(engine, batch=20, workers=2) == 201
    rows = _stats(engine)
    assert all(r.escalation_count == 1 and r.events == 1 and r.messages == 1 for r in rows)
    assert sweep_once(engine, workers=2) == 0
