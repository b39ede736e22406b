"""Wall screen benchmark: does /wall stay the same size while cases are pushed to it for a long time?

A throwaway PostGIS cluster with a generated county (bench/_common.py), one uvicorn worker, and
the wall opened in headless Chromium at 1920×1080 as a dispatcher. For ``--minutes`` (default 10) a
case is reported through the API every ``--gap`` seconds (default 2) and accepted, and the case
reported ``--open`` cases before is voided, so the map holds a steady number of open cases and the
stream a steady flow: every report reaches the wall as a pushed event, every move makes it
reload its cases and figures. Once a minute (after a forced garbage collection) it prints the JS
heap in use (CDP ``Runtime.getHeapUsage``), the DOM node and listener counts
(``Memory.getDOMCounters``), the markers and stream rows on the page and the load average.
Flat figures from the second minute on mean no growth.

Run: ``python bench/bench_wall.py [--minutes 10] [--gap 2] [--open 40]``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    COUNTY_BOX,
    bench_database,
    free_port,
    generated_county,
    uvicorn_server,
)
from sqlalchemy import text

PASSWORD = "bench-pass-1"


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} cores)"


def setup(engine: Any) -> None:
    from app.auth.security import hash_password
    from app.incidents.categories import DEFAULT_FILE, read_category_file, upsert_categories

    generated_county(engine, communities=10, grids_per_community=20)
    with engine.begin() as conn:
        upsert_categories(conn, read_category_file(DEFAULT_FILE))
        conn.execute(
            text(
                "INSERT INTO users (username, full_name, password_hash, role, jurisdiction_code) "
                "VALUES ('bench', 'bench', :pw, 'dispatcher', '419901')"
            ),
            {"pw": hash_password(PASSWORD)},
        )


def sample(page: Any, cdp: Any) -> dict[str, float]:
    cdp.send("HeapProfiler.collectGarbage")
    heap = cdp.send("Runtime.getHeapUsage")
    dom = cdp.send("Memory.getDOMCounters")
    wall = page.evaluate("() => ({m: window.GG_WALL.markers(), s: window.GG_WALL.streamRows()})")
    return {
        "heap_mb": heap["usedSize"] / 2**20,
        "nodes": dom["nodes"],
        "listeners": dom["jsEventListeners"],
        "markers": wall["m"],
        "rows": wall["s"],
    }


def line(label: str, s: dict[str, float]) -> str:
    return (
        f"{label}: heap {s['heap_mb']:.2f} MB, DOM nodes {s['nodes']:.0f}, listeners "
        f"{s['listeners']:.0f}, markers {s['markers']:.0f}, stream rows {s['rows']:.0f}; {load()}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--gap", type=float, default=2.0, help="seconds between reports")
    ap.add_argument("--open", type=int, default=40, help="open cases kept on the map")
    args = ap.parse_args()

    import httpx
    from playwright.sync_api import sync_playwright

    print(f"start: {load()}")
    with bench_database() as engine:
        setup(engine)
        port = free_port()
        proc = uvicorn_server(engine, port, workers=1)
        base = f"http://127.0.0.1:{port}"
        try:
            http = httpx.Client(base_url=base, timeout=30)

            refresh: dict[str, str] = {}

            def sign_in() -> None:
                # API tokens last 15 minutes (docs/security.md): the reporter renews its token with
                # the refresh token it was given (each is spent once), as an API client does.
                http.headers.pop("Authorization", None)  # an expired bearer would be refused
                r = http.post("/api/v1/auth/refresh", json=refresh) if refresh else None
                if r is None or r.status_code != 200:
                    if r is not None:
                        print(f"refresh refused: {r.status_code} {r.text}; signing in again")
                    r = http.post(
                        "/api/v1/auth/token", data={"username": "bench", "password": PASSWORD}
                    )
                if r.status_code != 200:
                    raise SystemExit(f"sign-in refused: {r.status_code} {r.text}")
                token = r.json()
                refresh["refresh_token"] = token["refresh_token"]
                http.headers["Authorization"] = f"Bearer {token['access_token']}"

            def post(url: str, body: dict[str, Any]) -> httpx.Response:
                r = http.post(url, json=body)
                if r.status_code == 401:
                    sign_in()
                    r = http.post(url, json=body)
                return r

            sign_in()
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
                )
                ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
                page = ctx.new_page()
                # Signed in through the login form, as a command centre does: a page session lasts
                # as long as the session may (an API token would end after 15 minutes).
                page.goto(base + "/login?next=/wall")
                page.fill("input[name=username]", "bench")
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_function(
                    "() => document.getElementById('wall-live').textContent.includes('已连接')",
                    timeout=60_000,
                )
                cdp = ctx.new_cdp_session(page)
                first = sample(page, cdp)
                print(line("minute 0", first))
                rng = random.Random(3)
                minx, miny, maxx, maxy = COUNTY_BOX
                opened: list[dict[str, Any]] = []
                reports = 0
                end = time.monotonic() + args.minutes * 60
                next_sample = time.monotonic() + 60
                minute = 0
                while time.monotonic() < end:
                    body = {
                        "category_code": "0101",
                        "description": f"大屏推送 {reports}",
                        "lng": rng.uniform(minx, maxx),
                        "lat": rng.uniform(miny, maxy),
                        "crs": "cgcs2000",
                    }
                    r = post("/api/v1/incidents", body)
                    r.raise_for_status()
                    case = r.json()
                    reports += 1
                    moved = post(
                        f"/api/v1/incidents/{case['id']}/transitions",
                        {"action": "accept", "version": case["version"]},
                    )
                    opened.append(moved.json() if moved.status_code == 200 else case)
                    if len(opened) > args.open:
                        old = opened.pop(0)
                        post(
                            f"/api/v1/incidents/{old['id']}/transitions",
                            {"action": "void", "version": old["version"], "note": "基准"},
                        )
                    time.sleep(args.gap)
                    if time.monotonic() >= next_sample:
                        minute += 1
                        next_sample += 60
                        print(line(f"minute {minute} ({reports} reports)", sample(page, cdp)))
                last = sample(page, cdp)
                print(line(f"end ({reports} reports)", last))
                print(
                    f"heap start {first['heap_mb']:.2f} MB -> end {last['heap_mb']:.2f} MB "
                    f"({last['heap_mb'] - first['heap_mb']:+.2f} MB); DOM nodes "
                    f"{first['nodes']:.0f} -> {last['nodes']:.0f}"
                )
                browser.close()
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
