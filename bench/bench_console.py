"""Console benchmark: 3,000 grids and 5,000 open cases in a throw-away PostGIS cluster.

Measures, on this machine, beside the issue's anchors:
- server time of the console page, its case layer (< 300 ms), the incidents list and a search,
- the browser's first render of the console in headless Chromium (< 2 s): navigation start until
  the case list and the clustered markers are drawn,
- ST_AsMVT grid tiles at z14 and z12 (anchors ~10 ms and ~50 ms over 3,000 grids),
- live updates: 20 consoles connected to the case stream (GET /api/v1/incident-events) of a
  uvicorn with 2 workers, while cases are reported through the API one every 50 ms; the delay
  from the report's 201 (the case committed) to its event at each console, p50/p95/max over every
  console and case (target: within 2 s).
The load average is printed at the start and around each part: the machine is shared.

Run: ``python bench/bench_console.py`` (set GRIDGOV_TEST_DATABASE_URL to use an existing server).
"""

from __future__ import annotations

import math
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

COUNTY, TOWNSHIP = "419998", "419998001"
N_COMMUNITIES, PER_SIDE = 30, 10  # 30 communities x 10x10 grids = 3,000 grids
CELL = 0.002  # degrees; ~185 m x 222 m
N_CASES = 5000
X0, Y0 = 113.2, 34.2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _box(x0: float, y0: float, x1: float, y1: float) -> str:
    return f"SRID=4490;MULTIPOLYGON((({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0})))"


def build(engine) -> None:  # type: ignore[no-untyped-def]
    from app.incidents.categories import DEFAULT_FILE, read_category_file, upsert_categories

    side = CELL * PER_SIDE
    with engine.begin() as conn:
        upsert_categories(conn, read_category_file(DEFAULT_FILE))
        width = side * 6
        height = side * 5
        conn.execute(
            text(
                "INSERT INTO areas (code, name, level, kind, parent_code, geom) VALUES "
                "(:c, '基准县', 'county', 'county', NULL, ST_GeomFromEWKT(:g)),"
                "(:t, '基准街道', 'township', 'street', :c, ST_GeomFromEWKT(:g))"
            ),
            {"c": COUNTY, "t": TOWNSHIP, "g": _box(X0, Y0, X0 + width, Y0 + height)},
        )
        areas, grids = [], []
        for k in range(N_COMMUNITIES):
            cx, cy = X0 + (k % 6) * side, Y0 + (k // 6) * side
            code = f"{TOWNSHIP}{k + 1:03d}"
            areas.append(
                {"code": code, "name": f"社区{k + 1}", "g": _box(cx, cy, cx + side, cy + side)}
            )
            for i in range(PER_SIDE * PER_SIDE):
                gx, gy = cx + (i % PER_SIDE) * CELL, cy + (i // PER_SIDE) * CELL
                grids.append(
                    {
                        "code": f"{code}{i + 1:03d}",
                        "name": f"网格{i + 1}",
                        "cc": code,
                        "g": _box(gx, gy, gx + CELL, gy + CELL),
                    }
                )
        conn.execute(
            text(
                "INSERT INTO areas (code, name, level, kind, parent_code, geom) "
                "VALUES (:code, :name, 'community', 'residents', :p, ST_GeomFromEWKT(:g))"
            ),
            [{**a, "p": TOWNSHIP} for a in areas],
        )
        conn.execute(
            text(
                "INSERT INTO grids (code, name, type, community_code, geom, status, valid_from) "
                "VALUES (:code, :name, 'comprehensive', :cc, ST_GeomFromEWKT(:g), 'active', '2026-01-01')"
            ),
            grids,
        )
        conn.execute(
            text(
                """
            INSERT INTO incidents (case_no, token, category_code, description, location, grid_code,
                   community_code, township_code, locate, state, reported_at, deadline)
            SELECT 'BENCH' || lpad(n::text, 8, '0'), md5(n::text), '0101', '基准案件 ' || n,
                   ST_SetSRID(ST_MakePoint(:x0 + (g.i % 60) * :cell + :cell / 2,
                                           :y0 + (g.i / 60) * :cell + :cell / 2), 4490),
                   g.code, left(g.code, 12), :t, '{}'::jsonb,
                   (ARRAY['reported','accepted','registered','dispatched','handling'])[1 + n % 5],
                   now() - interval '3 days', now() + (n % 200 - 60) * interval '1 hour'
              FROM generate_series(1, :n) AS n
              JOIN LATERAL (SELECT code, (n * 7919) % 3000 AS i FROM grids
                             WHERE code LIKE :prefix ORDER BY code OFFSET (n * 7919) % 3000 LIMIT 1) g
                ON true
            """
            ),
            {"x0": X0, "y0": Y0, "cell": CELL, "t": TOWNSHIP, "n": N_CASES, "prefix": COUNTY + "%"},
        )
        conn.execute(
            text(
                "INSERT INTO users (username, full_name, password_hash, role, jurisdiction_code) "
                "VALUES ('bench', 'bench', :pw, 'dispatcher', :c)"
            ),
            {
                "pw": __import__("app.auth.security", fromlist=["x"]).hash_password("bench-pass-1"),
                "c": COUNTY,
            },
        )
        conn.execute(text("ANALYZE"))


def tile_xy(lng: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lng + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def timed(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} cores)"


CONSOLES, REPORTS, GAP_S = 20, 60, 0.05


def stream_latency(engine) -> None:  # type: ignore[no-untyped-def]
    """20 consoles on the case stream of a 2-worker uvicorn; REPORTS cases reported one every
    GAP_S; per console and case, the time from the report's answer to the event's arrival."""
    import asyncio
    import json

    import httpx

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import uvicorn_server

    port = _free_port()
    proc = uvicorn_server(engine, port, workers=2)
    base = f"http://127.0.0.1:{port}"
    # This server's own token (it signs with its own throwaway key).
    token = httpx.post(
        base + "/api/v1/auth/token", data={"username": "bench", "password": "bench-pass-1"}
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    arrivals: list[dict[str, float]] = [{} for _ in range(CONSOLES)]
    ready = [threading.Event() for _ in range(CONSOLES)]
    stop = threading.Event()

    async def console(i: int) -> None:
        async with httpx.AsyncClient(timeout=None) as c:
            params = {"timeout": 600}
            async with c.stream(
                "GET", base + "/api/v1/incident-events", headers=auth, params=params
            ) as r:
                if r.status_code != 200:
                    print(f"console {i}: {r.status_code} {(await r.aread())[:200]!r}")
                    return
                kind, data = "", ""
                async for line in r.aiter_lines():
                    if line.startswith("event:"):
                        kind = line[6:].strip()
                    elif line.startswith("data:"):
                        data += line[5:].strip()
                    elif line == "" and data:
                        if kind == "ready":
                            ready[i].set()
                        elif kind == "case":
                            arrivals[i][json.loads(data)["case_no"]] = time.perf_counter()
                        kind, data = "", ""

    async def consoles() -> None:
        tasks = [asyncio.create_task(console(i)) for i in range(CONSOLES)]
        while not stop.is_set():
            await asyncio.sleep(0.05)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    loop_thread = threading.Thread(target=lambda: asyncio.run(consoles()), daemon=True)
    try:
        loop_thread.start()
        for e in ready:
            if not e.wait(60):
                raise RuntimeError("a console did not connect")
        print(f"{CONSOLES} consoles connected; {load()}")
        answered: dict[str, float] = {}
        with httpx.Client(base_url=base, headers=auth) as http:
            for n in range(REPORTS):
                x = X0 + CELL * (n % 60 + 0.5)
                y = Y0 + CELL * (n % 50 + 0.5)
                body = {"category_code": "0101", "description": f"实时推送 {n}", "lng": x,
                        "lat": y, "crs": "cgcs2000"}  # fmt: skip
                r = http.post("/api/v1/incidents", json=body)
                r.raise_for_status()
                answered[r.json()["case_no"]] = time.perf_counter()
                time.sleep(GAP_S)
        deadline = time.perf_counter() + 10
        while time.perf_counter() < deadline and any(len(a) < len(answered) for a in arrivals):
            time.sleep(0.05)
        delays = sorted(
            (a[no] - at) * 1000 for a in arrivals for no, at in answered.items() if no in a
        )
        missing = CONSOLES * len(answered) - len(delays)
        q = statistics.quantiles(delays, n=100)
        print(
            f"stream delivery ({CONSOLES} consoles x {len(answered)} reports, 2 workers): "
            f"p50 {q[49]:.0f} ms, p95 {q[94]:.0f} ms, max {delays[-1]:.0f} ms, "
            f"{missing} not delivered   target < 2000 ms"
        )
        print(f"after the stream part: {load()}")
    finally:
        stop.set()
        loop_thread.join(10)
        proc.terminate()
        proc.wait(20)


def main() -> None:
    from app import migrate
    from app.auth.policy import Principal, Role
    from app.auth.scope import scope_of
    from app.embedded import EmbeddedCluster
    from app.main import create_app
    from app.registry_tiles import tile_bytes
    from app.settings import Settings

    url = os.environ.get("GRIDGOV_TEST_DATABASE_URL")
    tmp = cluster = None
    if not url:
        tmp = tempfile.TemporaryDirectory(prefix="gridgov-bench-")
        os.chmod(tmp.name, 0o755)
        cluster = EmbeddedCluster(Path(tmp.name), _free_port(), fast_unsafe=True)
        cluster.start()
        url = cluster.url()
    engine = create_engine(url, pool_size=5)
    print(f"start: {load()}")
    try:
        migrate.upgrade(engine)
        t = time.perf_counter()
        build(engine)
        print(f"data: 3,000 grids, {N_CASES:,} open cases built in {time.perf_counter() - t:.1f} s")

        cx, cy = X0 + CELL * 30, Y0 + CELL * 25
        county = scope_of(Principal("bench", Role.DISPATCHER, COUNTY))
        with Session(engine) as s:
            for z, anchor in ((14, 10), (12, 50)):
                x, y = tile_xy(cx, cy, z)
                size = len(tile_bytes(s, "grids", z, x, y, county))
                ms = timed(lambda z=z, x=x, y=y: tile_bytes(s, "grids", z, x, y, county), 20)
                print(
                    f"MVT grids z{z} tile: {ms:6.1f} ms median ({size:,} bytes)   anchor ~{anchor} ms"
                )

        app = create_app(Settings(environment="test", locate_refresh_seconds=5), engine=engine)
        import uvicorn

        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        th = threading.Thread(target=server.run, daemon=True)
        th.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        import httpx

        with httpx.Client(base_url=base) as http:
            # The API's token is the page session's cookie too (the login form wants a CSRF
            # token from its page; a bench needs neither).
            token = http.post(
                "/api/v1/auth/token", data={"username": "bench", "password": "bench-pass-1"}
            ).json()["access_token"]
            cookies = {"gridgov_token": token}
            page_ms = timed(lambda: http.get("/console", cookies=cookies).raise_for_status(), 10)
            layer = http.get("/api/v1/layers/cases", cookies=cookies).json()
            cases_ms = timed(
                lambda: http.get("/api/v1/layers/cases", cookies=cookies).raise_for_status(), 5
            )
            list_ms = timed(
                lambda: http.get("/api/v1/incidents", cookies=cookies).raise_for_status(), 10
            )
            wanted = {"q": "BENCH00004321"}
            found = http.get("/api/v1/incidents", params=wanted, cookies=cookies).json()["count"]
            search_ms = timed(
                lambda: http.get(
                    "/api/v1/incidents", params=wanted, cookies=cookies
                ).raise_for_status(),
                10,
            )
        print(f"server /console page:           {page_ms:6.1f} ms median   target < 300 ms")
        print(f"server incidents list (50 cases): {list_ms:6.1f} ms median")
        print(f"server search by case number ({found} found): {search_ms:6.1f} ms median")
        print(
            f"server case layer ({len(layer['features']):,} cases): {cases_ms:6.1f} ms median   target < 300 ms"
        )

        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            b = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--no-first-run"],
            )  # fmt: skip
            ctx = b.new_context(viewport={"width": 1400, "height": 860})
            ctx.add_cookies(
                [{"name": "gridgov_token", "value": cookies["gridgov_token"], "url": base}]
            )
            page = ctx.new_page()
            runs = []
            for _ in range(3):
                t = time.perf_counter()
                page.goto(f"{base}/console")
                page.wait_for_selector("#cases li[data-id]")
                page.wait_for_selector(".case-cluster")
                runs.append((time.perf_counter() - t) * 1000)
            b.close()
        print(
            f"browser first render (console):  {statistics.median(runs):6.0f} ms median of 3   target < 2000 ms"
        )
        server.should_exit = True
        th.join(10)
        print(f"after first render: {load()}")
        stream_latency(engine)
    finally:
        engine.dispose()
        if cluster is not None:
            cluster.stop()
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
