"""Incidents bench: intake with routing over HTTP, KPIs over 1,000,000 cases, escalation sweep.

Targets (docs/architecture.md#performance-targets): intake ≥ 500/s over HTTP; KPI query for a county
and a quarter over 1,000,000 incidents < 1 s; escalation sweep over 100,000 open cases < 5 s.
Self-contained: a throwaway embedded PostGIS, a generated county of 10 communities × 30 grids,
uvicorn (2 workers) driven by wrk for a bounded time. Run by hand:
``python bench/bench_incidents.py`` (a few minutes).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import migrate  # noqa: E402
from app.auth.policy import system_principal  # noqa: E402
from app.auth.scope import scope_of  # noqa: E402
from app.embedded import EmbeddedCluster  # noqa: E402
from app.incidents.calendar import TZ  # noqa: E402
from app.incidents.kpis import compute_kpis  # noqa: E402
from app.incidents.worker import sweep_once  # noqa: E402

BOX = (113.40, 34.40, 113.70, 34.60)
COMMUNITIES, GRIDS = 10, 30
WRK_SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", "15"))

LUA = """
math.randomseed(7)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local cats = {"0401", "0402", "0101", "0201", "0601", "0801"}
request = function()
  local x = %f + math.random() * %f
  local y = %f + math.random() * %f
  local body = string.format('{"category_code":"%%s","description":"bench","lng":%%.6f,"lat":%%.6f,"crs":"cgcs2000"}',
                             cats[math.random(#cats)], x, y)
  return wrk.format(nil, "/api/v1/incidents", nil, body)
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def county(engine) -> None:  # type: ignore[no-untyped-def]
    minx, miny, maxx, maxy = BOX
    w, h = (maxx - minx) / COMMUNITIES, (maxy - miny) / GRIDS
    with engine.begin() as conn:
        env = "ST_Multi(ST_MakeEnvelope(:a, :b, :c, :d, 4490))"
        conn.execute(
            text(f"INSERT INTO areas (code, name, level, kind, parent_code, geom) VALUES "
                 f"('419901', '基准县', 'county', 'county', NULL, {env}),"
                 f"('419901001', '基准街道', 'township', 'street', '419901', {env})"),
            {"a": minx, "b": miny, "c": maxx, "d": maxy},
        )  # fmt: skip
        for c in range(COMMUNITIES):
            cc = f"419901001{c + 1:03d}"
            x0, x1 = minx + c * w, minx + (c + 1) * w
            conn.execute(
                text(f"INSERT INTO areas (code, name, level, kind, parent_code, geom) VALUES "
                     f"(:code, :code, 'community', 'residents', '419901001', {env})"),
                {"code": cc, "a": x0, "b": miny, "c": x1, "d": maxy},
            )  # fmt: skip
            conn.execute(
                text(f"INSERT INTO grids (code, name, community_code, geom, status, valid_from) "
                     f"VALUES (:code, :code, :cc, {env}, 'active', CURRENT_DATE)"),
                [{"code": f"{cc}{g + 1:03d}", "cc": cc, "a": x0, "b": miny + g * h, "c": x1, "d": miny + (g + 1) * h}
                 for g in range(GRIDS)],
            )  # fmt: skip


def intake(engine) -> float:  # type: ignore[no-untyped-def]
    port = free_port()
    env = {**os.environ, "GRIDGOV_DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "GRIDGOV_LOCATE_REFRESH_SECONDS": "30", "GRIDGOV_DB_POOL_SIZE": "8",
           "GRIDGOV_SECRET_KEY": secrets.token_urlsafe(48)}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.asgi:app", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "2", "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        minx, miny, maxx, maxy = BOX
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
            fh.write(LUA % (minx + 0.001, maxx - minx - 0.002, miny + 0.001, maxy - miny - 0.002))
        subprocess.run(
            ["wrk", "-t1", "-c8", "-d2s", "-s", fh.name, f"http://127.0.0.1:{port}"],
            capture_output=True,
            check=True,
        )  # warm-up: registry snapshot, pools
        with engine.connect() as conn:
            before = conn.execute(text("SELECT count(*) FROM incidents")).scalar_one()
        out = subprocess.run(
            ["wrk", "-t2", "-c16", f"-d{WRK_SECONDS}s", "--latency", "-s", fh.name, f"http://127.0.0.1:{port}"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        with engine.connect() as conn:
            after = conn.execute(text("SELECT count(*) FROM incidents")).scalar_one()
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        p99 = re.search(r"99%\s+(\S+)", out)
        print(
            f"  wrk: {after - before} cases committed in {WRK_SECONDS}s, non-2xx {non2xx.group(1) if non2xx else 0}, p99 {p99.group(1) if p99 else '?'}"
        )
        return (after - before) / WRK_SECONDS
    finally:
        proc.terminate()
        proc.wait(10)


def generate(engine, n: int) -> None:  # type: ignore[no-untyped-def]
    """n cases over 2026 with deadlines, handling/closing times, states, reworks and extensions."""
    with engine.begin() as conn:
        conn.execute(text("SELECT setseed(0.5)"))
        conn.execute(
            text(
                """
                INSERT INTO incidents (case_no, token, category_code, description, source, location, grid_code,
                    community_code, township_code, locate, state, reported_at, deadline, handled_at, closed_at,
                    satisfaction, rework_count, extension_count, assignee)
                SELECT 'B' || g, 'B' || g, '0401', 'bench', 'bench', ST_SetSRID(ST_MakePoint(113.5, 34.5), 4490),
                       '419901001' || lpad((1 + g % 10)::text, 3, '0') || lpad((1 + g % 30)::text, 3, '0'),
                       '419901001' || lpad((1 + g % 10)::text, 3, '0'), '419901001', '{}',
                       CASE WHEN r < 0.7 THEN 'evaluated' WHEN r < 0.8 THEN 'closed' WHEN r < 0.95 THEN 'handling'
                            ELSE 'rejected' END,
                       rep, rep + interval '3 days',
                       CASE WHEN r < 0.8 THEN rep + (r * 5) * interval '1 day' END,
                       CASE WHEN r < 0.8 THEN rep + (r * 5 + 0.5) * interval '1 day' END,
                       CASE WHEN r < 0.7 THEN (ARRAY['satisfied', 'basically', 'unsatisfied'])[1 + g % 3] END,
                       (g % 13 = 0)::int, (g % 17 = 0)::int, 'worker_' || (g % 300)
                  FROM (SELECT g, random() AS r,
                               timestamptz '2026-01-01 00:00+08' + (g::float / :n) * interval '365 days' AS rep
                          FROM generate_series(1, :n) AS g) s
                """
            ),
            {"n": n},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE incidents"))


def make_overdue(engine) -> None:  # type: ignore[no-untyped-def]
    """The first 100,000 cases: open, at grid level, an hour past their escalation time."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE incidents SET state = 'handling', escalate_at = now() - interval '1 hour', "
                "tier = 0, supervised = false, handled_at = NULL, closed_at = NULL, satisfaction = NULL "
                "WHERE id IN (SELECT id FROM incidents ORDER BY id LIMIT 100000)"
            )
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE incidents"))


_ANCHOR_COLUMNS = (
    "category_code, urgent, description, address, source, grid_code, community_code, "
    "township_code, leader_name, locate, state, reported_at, deadline, location"
)


def plain_insert_anchor(engine, seconds: float, connections: int = 16) -> float:  # type: ignore[no-untyped-def]
    """The anchor for intake: the same row as a case intake wrote, as one plain INSERT … RETURNING
    per case over the same driver (psycopg), from as many connections as wrk uses; rows/s."""
    import threading
    import uuid

    import psycopg

    url = engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    with psycopg.connect(url) as conn:
        template = conn.execute(
            f"SELECT {_ANCHOR_COLUMNS} FROM incidents ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert template is not None, "intake wrote no case to copy"
    placeholders = ", ".join(["%s"] * (len(template) + 2))
    sql = (
        f"INSERT INTO incidents (case_no, token, {_ANCHOR_COLUMNS}) VALUES ({placeholders}) "
        "RETURNING id"
    )
    done = [0] * connections
    stop = time.perf_counter() + seconds

    def work(k: int) -> None:
        with psycopg.connect(url, autocommit=True) as c:
            while time.perf_counter() < stop:
                values = (f"A{k}-{done[k]}-{uuid.uuid4().hex[:8]}", str(uuid.uuid4()), *template)
                c.execute(sql, [psycopg.types.json.Jsonb(v) if isinstance(v, dict) else v
                                for v in values]).fetchone()  # fmt: skip
                done[k] += 1

    threads = [threading.Thread(target=work, args=(k,)) for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / seconds


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="gridgov-bench-") as tmp:
        Path(tmp).chmod(0o755)
        cluster = EmbeddedCluster(Path(tmp), free_port(), fast_unsafe=True)
        cluster.start()
        engine = create_engine(cluster.url(), pool_size=4)
        try:
            migrate.upgrade(engine)
            county(engine)
            print(f"county: {COMMUNITIES} communities × {GRIDS} grids")
            print(f"load average: {os.getloadavg()}")
            rate = intake(engine)
            print(f"intake with routing over HTTP: {rate:,.0f} incidents/s   (target ≥ 500/s)")
            anchor = plain_insert_anchor(engine, WRK_SECONDS)
            print(f"anchor: the same row as a plain INSERT … RETURNING (psycopg, 16 connections): "
                  f"{anchor:,.0f} rows/s; intake is {rate / anchor:.0%} of it")  # fmt: skip

            t0 = time.perf_counter()
            generate(engine, 1_000_000)
            print(f"generated 1,000,000 incidents in {time.perf_counter() - t0:.1f} s")
            start = dt.datetime(2026, 4, 1, tzinfo=TZ)
            end = dt.datetime(2026, 7, 1, tzinfo=TZ)
            times = []
            with Session(engine) as session:
                for _ in range(3):
                    t0 = time.perf_counter()
                    (row,) = compute_kpis(
                        session,
                        start=start,
                        end=end,
                        scope=scope_of(system_principal("bench")).narrow("419901"),
                    )
                    times.append(time.perf_counter() - t0)
            print(f"KPI query, county × Q2 2026 ({row['due']:,} due of 1,000,000): best {min(times):.3f} s, "
                  f"first {times[0]:.3f} s   (target < 1 s)")  # fmt: skip

            for workers in (1, 2):
                make_overdue(engine)
                t0 = time.perf_counter()
                n = sweep_once(engine, batch=10_000, workers=workers)
                print(
                    f"escalation sweep ({workers} connection{'s' if workers > 1 else ''}): {n:,} open overdue cases "
                    f"escalated in {time.perf_counter() - t0:.2f} s   (target < 5 s)"
                )  # fmt: skip
            print(f"load average: {os.getloadavg()}")
        finally:
            engine.dispose()
            cluster.stop()


if __name__ == "__main__":
    main()
