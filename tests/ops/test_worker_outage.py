"""The background worker survives a database restart: a throwaway cluster is stopped and started
under a running worker loop, which logs the outage once, the recovery once, and then escalates and
delivers again."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from app import migrate
from app.db import make_engine
from app.embedded import EmbeddedCluster
from app.incidents.config import IncidentSettings
from app.incidents.worker import run_worker


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def cluster() -> Iterator[EmbeddedCluster]:
    with tempfile.TemporaryDirectory(prefix="gridgov-outage-") as tmp:
        os.chmod(tmp, 0o755)
        c = EmbeddedCluster(Path(tmp), _free_port(), fast_unsafe=True)
        c.start()
        eng = make_engine(c.url(), pool_size=2)
        migrate.upgrade(eng)
        eng.dispose()
        try:
            yield c
        finally:
            c.stop()


class _Sink(http.server.BaseHTTPRequestHandler):
    received: list[dict] = []  # noqa: RUF012

    def do_POST(self) -> None:
        _Sink.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


def _file_overdue_case(engine: Engine, case_no: str) -> None:
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        conn.execute(
            text(
                """
                INSERT INTO incidents (case_no, token, category_code, description, location,
                    grid_code, community_code, locate, state, tier, reported_at, deadline, escalate_at)
                VALUES (:c, :c, '0401', 'outage test', ST_SetSRID(ST_MakePoint(113.0, 34.0), 4490),
                        '419901001001001', '419901001001', '{}', 'handling', 0, :rep, :dl, :dl)
                """
            ),
            {"c": case_no, "rep": now - dt.timedelta(days=10), "dl": now - dt.timedelta(hours=1)},
        )


def _tier(engine: Engine, case_no: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT tier FROM incidents WHERE case_no = :c"), {"c": case_no}
            ).scalar_one()
        )


def _wait_for(predicate, what: str, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return
        except Exception:  # the database may still be coming back
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _messages(case_no: str) -> list[dict]:
    return [m for m in _Sink.received if m.get("case_no") == case_no]


def test_the_worker_carries_on_after_a_database_restart(cluster, caplog):
    caplog.set_level(logging.INFO, logger="gridgov.worker")
    server = http.server.HTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings = IncidentSettings(
        webhook_url=f"http://127.0.0.1:{server.server_port}/hook",
        worker_interval_seconds=0.2,
        worker_retry_max_seconds=1.0,
        sweep_workers=1,
    )
    probe = make_engine(cluster.url(), pool_size=1)
    worker_engine = make_engine(cluster.url(), pool_size=2)
    stop = threading.Event()
    worker = threading.Thread(
        target=run_worker, args=(worker_engine, settings), kwargs={"stop": stop, "name": "outage"}
    )
    worker.start()
    try:
        _file_overdue_case(probe, "OUT-BEFORE")
        _wait_for(lambda: _tier(probe, "OUT-BEFORE") == 1, "escalation before the outage")
        _wait_for(lambda: _messages("OUT-BEFORE"), "delivery before the outage")

        cluster.stop()
        _wait_for(
            lambda: any("database unreachable" in r.getMessage() for r in caplog.records),
            "the outage to be noticed",
        )
        time.sleep(3)  # several retries while it is down
        assert worker.is_alive()

        cluster.start()
        probe.dispose()
        _wait_for(lambda: _file_overdue_case(probe, "OUT-AFTER") is None, "the database to return")
        _wait_for(lambda: _tier(probe, "OUT-AFTER") == 1, "escalation after the outage")
        _wait_for(lambda: _messages("OUT-AFTER"), "delivery after the outage")
        with probe.connect() as conn:
            beat = conn.execute(
                text("SELECT beat_at, pid FROM worker_heartbeats WHERE name = 'outage'")
            ).one()
        assert beat.pid == os.getpid()
        assert dt.datetime.now(dt.UTC) - beat.beat_at < dt.timedelta(seconds=10)
    finally:
        stop.set()
        worker.join(timeout=30)
        server.shutdown()
        probe.dispose()
        worker_engine.dispose()
    assert not worker.is_alive()
    messages = [r.getMessage() for r in caplog.records]
    # One line for the outage and one for the recovery, however many retries there were.
    assert sum("database unreachable" in m for m in messages) == 1
    assert sum("database reachable again" in m for m in messages) == 1
    outage = next(r for r in caplog.records if "database unreachable" in r.getMessage())
    assert outage.levelno == logging.ERROR
