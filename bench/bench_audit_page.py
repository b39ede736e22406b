"""Audit page benchmark: how long does /audits take to show a run of 10,000 findings?

A throwaway PostGIS cluster with a generated county of 3,000 grids (bench/_common.py), and one
stored audit run of ``--findings`` findings (default 10,000; the size of a county's run): grid
outlines for 网格户数超出范围 and 楼栋被网格分割, points for 住户不在任何网格内 and small boxes for
网格缝隙, written straight into ``audit_runs`` / ``audit_findings`` as the audit stores them. One
uvicorn worker; the page opened in headless Chromium at 1,600×900 as an auditor, ``--repeat`` times
(default 5, the first one cold). For each load it prints, in milliseconds from navigation start
(``performance.now()``): when the run's JSON had arrived (resource timing of
``GET /api/v1/audits/{id}``), when the grouped list was on the page (first render: the kinds with
their counts, the first rows of each) and when the findings were drawn on the map, and the DOM
size; then the median, beside the target (first render < 1 s) and the load average.

Run: ``python bench/bench_audit_page.py [--findings 10000] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import bench_database, free_port, generated_county, uvicorn_server
from sqlalchemy import text

PASSWORD = "bench-pass-1"
TARGET_MS = 1000
# (kind, severity, share of the findings, geometry): as a county's run spreads them.
KINDS = (
    ("household_outside", "warning", 0.40, "point"),
    ("household_band", "warning", 0.30, "grid"),
    ("building_split", "warning", 0.20, "grid"),
    ("gap", "error", 0.10, "box"),
)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} cores)"


def setup(engine: Any, findings: int) -> int:
    from app.auth.security import hash_password

    generated_county(engine, communities=30, grids_per_community=100)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (username, full_name, password_hash, role, jurisdiction_code) "
                "VALUES ('bench', 'bench', :pw, 'auditor', '419901')"
            ),
            {"pw": hash_password(PASSWORD)},
        )
        counts = {kind: round(findings * share) for kind, _, share, _ in KINDS}
        counts[KINDS[0][0]] += findings - sum(counts.values())
        summary = {"counts": counts, "checks": [], "changes": {"new": {}, "resolved": {}}}
        run_id = conn.execute(
            text(
                "INSERT INTO audit_runs (area_code, area_name, seconds, run_by, summary) "
                "VALUES ('419901', '基准县', 1.0, 'bench', CAST(:s AS jsonb)) RETURNING id"
            ),
            {"s": json.dumps(summary)},
        ).scalar_one()
        ordinal = 0
        for kind, severity, _, shape in KINDS:
            n = counts[kind]
            geom = {
                "point": "ST_PointOnSurface(g.geom)",
                "grid": "g.geom",
                "box": "ST_Expand(ST_PointOnSurface(g.geom), 0.0004)",
            }[shape]
            # The grids in turn (several findings per grid when there are more findings than grids).
            conn.execute(
                text(
                    f"""
                    WITH g AS (SELECT code, geom, row_number() OVER (ORDER BY code) - 1 AS k
                                 FROM grids)
                    INSERT INTO audit_findings
                        (run_id, kind, severity, objects, key, geom, area_m2, message, ordinal)
                    SELECT :run, CAST(:kind AS text), :sev, ARRAY[g.code],
                           CAST(:kind AS text) || ':' || g.code || ':' || s.i,
                           {geom}, NULL, g.code || ' 基准问题 ' || s.i, :o + s.i
                      FROM generate_series(0, :n - 1) AS s(i)
                      JOIN g ON g.k = s.i % (SELECT count(*) FROM grids)
                    """
                ),
                {"run": run_id, "kind": kind, "sev": severity, "n": n, "o": ordinal},
            )
            ordinal += n
        return int(run_id)


def measure(page: Any, base: str, run_id: int) -> dict[str, float]:
    page.goto(base + "/audits?area=419901")
    page.wait_for_function(
        "() => document.querySelectorAll('details.kind').length > 0 && "
        "/问题 [\\d,]+ 项/.test(document.getElementById('run-title').textContent)",
        polling="raf",
        timeout=60_000,
    )
    rendered = page.evaluate("performance.now()")
    page.wait_for_function(
        "() => document.querySelectorAll('.leaflet-overlay-pane canvas, .leaflet-overlay-pane path').length > 0",
        polling="raf",
        timeout=60_000,
    )
    drawn = page.evaluate("performance.now()")
    arrived = page.evaluate(
        "(id) => { const e = performance.getEntriesByType('resource')"
        ".filter(r => r.name.includes('/api/v1/audits/' + id)); return e.length ? e[e.length - 1].responseEnd : -1; }",
        run_id,
    )
    nodes = page.evaluate("document.getElementsByTagName('*').length")
    listed = page.evaluate("document.querySelectorAll('details.kind ul.findings li').length")
    return {
        "arrived": arrived,
        "rendered": rendered,
        "drawn": drawn,
        "nodes": nodes,
        "listed": listed,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--findings", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    import httpx
    from playwright.sync_api import sync_playwright

    print(f"start: {load()}")
    with bench_database() as engine:
        run_id = setup(engine, args.findings)
        with engine.connect() as conn:
            stored = conn.execute(
                text("SELECT count(*) FROM audit_findings WHERE run_id = :r"), {"r": run_id}
            ).scalar_one()
        print(f"run {run_id}: {stored:,} findings stored; {load()}")
        port = free_port()
        proc = uvicorn_server(engine, port, workers=1)
        base = f"http://127.0.0.1:{port}"
        try:
            token = httpx.post(
                f"{base}/api/v1/auth/token", data={"username": "bench", "password": PASSWORD}
            ).json()["access_token"]
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
                )
                ctx = browser.new_context(viewport={"width": 1600, "height": 900}, locale="zh-CN")
                ctx.add_cookies([{"name": "gridgov_token", "value": token, "url": base}])
                page = ctx.new_page()
                results = []
                for i in range(args.repeat):
                    r = measure(page, base, run_id)
                    results.append(r)
                    print(
                        f"load {i + 1}{' (cold)' if i == 0 else ''}: JSON in {r['arrived']:.0f} ms, "
                        f"list rendered {r['rendered']:.0f} ms (render {r['rendered'] - r['arrived']:.0f} ms "
                        f"after the JSON), map drawn {r['drawn']:.0f} ms; {r['listed']:.0f} rows listed, "
                        f"{r['nodes']:.0f} DOM elements; {load()}"
                    )
                browser.close()
        finally:
            proc.terminate()
            proc.wait(10)
    warm = results[1:] or results
    med = statistics.median(r["rendered"] for r in warm)
    med_render = statistics.median(r["rendered"] - r["arrived"] for r in warm)
    print(
        f"first render of {args.findings:,} findings (median of warm loads): {med:.0f} ms from "
        f"navigation, of which {med_render:.0f} ms in the page after the JSON arrived; "
        f"target < {TARGET_MS} ms: {'met' if med < TARGET_MS else 'NOT met'}; {load()}"
    )


if __name__ == "__main__":
    main()
