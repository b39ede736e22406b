"""Login bench: POST /api/v1/auth/token over HTTP with the login limiter on, beside the same with it
off (GRIDGOV_AUTH__THROTTLE_ENABLED=false), and an authenticated request (the per-request session
check) beside an anonymous one.

Self-contained: a throwaway embedded PostGIS, one county area and 20 users, uvicorn with 2 workers
on 127.0.0.1, a few hundred logins from 4 concurrent clients. Argon2 (~0.2 s of one core per
verification) dominates a login by design; the limiter adds two small statements (a lookup before
and, on success, a delete) and the session row one insert. Run by hand: ``python bench/bench_login.py``
(about 2 minutes). Prints p50/p99 and logins/s with the load average.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import bench_database, free_port, uvicorn_server

from app.auth.security import hash_password

LOGINS = int(os.environ.get("BENCH_LOGINS", "300"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "2000"))
CLIENTS = 4
USERS = 20
PASSWORD = "Bench-password-2026"


def seed(engine: Engine) -> None:
    pw = hash_password(PASSWORD)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO areas (code, name, level, kind, parent_code, geom) VALUES "
                "('419901', '基准县', 'county', 'county', NULL, "
                "ST_Multi(ST_MakeEnvelope(113.4, 34.4, 113.8, 34.7, 4490)))"
            )
        )
        conn.execute(
            text(
                "INSERT INTO users (username, password_hash, role, jurisdiction_code) "
                "VALUES (:u, :p, 'dispatcher', '419901')"
            ),
            [{"u": f"bench{i}", "p": pw} for i in range(USERS)],
        )


def _post_login(base: str, i: int) -> tuple[float, int, str]:
    body = urllib.parse.urlencode({"username": f"bench{i % USERS}", "password": PASSWORD}).encode()
    start = time.perf_counter()
    req = urllib.request.Request(f"{base}/api/v1/auth/token", data=body, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            status, payload = r.status, r.read()
    except urllib.error.HTTPError as exc:
        status, payload = exc.code, exc.read()
    token = json.loads(payload).get("access_token", "") if status == 200 else ""
    return time.perf_counter() - start, status, token


def _get(base: str, path: str, token: str | None) -> float:
    req = urllib.request.Request(f"{base}{path}")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    start = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as r:
        r.read()
    return time.perf_counter() - start


def _figures(name: str, times: list[float], wall: float) -> None:
    ms = sorted(t * 1000 for t in times)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(
        f"{name:<34} n={len(ms):>5}  p50 {statistics.median(ms):7.1f} ms  p99 {p99:7.1f} ms  "
        f"{len(ms) / wall:7.1f}/s   load {os.getloadavg()[0]:.2f}"
    )


def run(engine: Engine, *, throttle: bool) -> str:
    os.environ["GRIDGOV_AUTH__THROTTLE_ENABLED"] = "true" if throttle else "false"
    port = free_port()
    proc: subprocess.Popen[bytes] = uvicorn_server(engine, port, workers=2)
    base = f"http://127.0.0.1:{port}"
    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(lambda i: _post_login(base, i), range(CLIENTS * 2)))  # warm-up
            start = time.perf_counter()
            results = list(pool.map(lambda i: _post_login(base, i), range(LOGINS)))
            wall = time.perf_counter() - start
        bad = [s for _, s, _ in results if s != 200]
        label = "login, limiter on" if throttle else "login, limiter off"
        _figures(label, [t for t, _, _ in results], wall)
        if bad:
            print(f"  (non-200 answers: {len(bad)}, e.g. {bad[0]})")
        return results[-1][2]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def requests(engine: Engine, token: str) -> None:
    """The per-request price of the session check: /api/v1/auth/me (session lookup) vs /healthz."""
    os.environ["GRIDGOV_AUTH__THROTTLE_ENABLED"] = "true"
    port = free_port()
    proc = uvicorn_server(engine, port, workers=2)
    base = f"http://127.0.0.1:{port}"
    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            for name, path, tok in (
                ("GET /healthz (anonymous)", "/healthz", None),
                ("GET /api/v1/auth/me (session check)", "/api/v1/auth/me", token),
            ):
                list(pool.map(lambda _, p=path, t=tok: _get(base, p, t), range(50)))
                start = time.perf_counter()
                times = list(pool.map(lambda _, p=path, t=tok: _get(base, p, t), range(REQUESTS)))
                _figures(name, times, time.perf_counter() - start)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    print(
        f"{LOGINS} logins, {CLIENTS} concurrent clients, uvicorn 2 workers, {os.cpu_count()} cores"
    )
    os.environ.setdefault("GRIDGOV_SECRET_KEY", secrets.token_urlsafe(48))  # one for all servers
    with bench_database() as engine:
        seed(engine)
        token = run(engine, throttle=True)
        run(engine, throttle=False)
        requests(engine, token)


if __name__ == "__main__":
    main()
