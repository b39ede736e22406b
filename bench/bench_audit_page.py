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
size, and the time the page's main thread was busy until the first render (CDP
``Performance.getMetrics`` TaskDuration: the page's own work, which a loaded machine stretches less);
then the medians, beside the target (first render < 1 s) and the load average.

Run: ``python bench/bench_audit_page.py [--findings 10000] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
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


def busy(cdp: Any) -> float:
    """Seconds the page's main thread has spent in tasks since the document began (CDP
    Performance.getMetrics): the work itself, which a busy machine stretches less than the clock."""
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return float(metrics.get("TaskDuration", 0.0))


def hot(profile: dict[str, Any], top: int = 12) -> list[str]:
    """The functions with the most self time in a CPU profile (CDP Profiler), as text lines."""
    nodes = {n["id"]: n for n in profile["nodes"]}
    deltas = dict.fromkeys(nodes, 0.0)
    for node_id, delta in zip(profile["samples"], profile["timeDeltas"], strict=False):
        deltas[node_id] += delta / 1000
    by_fn: dict[str, float] = {}
    for node_id, ms in deltas.items():
        f = nodes[node_id]["callFrame"]
        name = f"{f['functionName'] or '(anonymous)'} {f['url'].rsplit('/', 1)[-1]}:{f['lineNumber'] + 1}"
        by_fn[name] = by_fn.get(name, 0.0) + ms
    ranked = sorted(by_fn.items(), key=lambda kv: -kv[1])[:top]
    return [f"  {ms:7.0f} ms  {name}" for name, ms in ranked]


def measure(page: Any, cdp: Any, base: str, run_id: int) -> dict[str, float]:
    page.goto(base + "/audits?area=419901")
    page.wait_for_function(
        "() => document.querySelectorAll('details.kind').length > 0 && "
        "/问题 [\\d,]+ 项/.test(document.getElementById('run-title').textContent)",
        polling="raf",
        timeout=60_000,
    )
    rendered = page.evaluate("performance.now()")
    work = busy(cdp) * 1000  # the counters start again with each document
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
        "work": work,
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
                f"{base}/api/v1/auth/token",
                data={"username": "bench", "password": PASSWORD},
                timeout=120,
            ).json()["access_token"]
            for _ in range(2):  # the API alone: the run as JSON, server time and size
                began = time.perf_counter()
                body = httpx.get(
                    f"{base}/api/v1/audits/{run_id}",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=120,
                ).content
                print(
                    f"GET /api/v1/audits/{run_id}: {len(body) / 2**20:.1f} MB in "
                    f"{(time.perf_counter() - began) * 1000:.0f} ms; {load()}"
                )
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
                )
                ctx = browser.new_context(viewport={"width": 1600, "height": 900}, locale="zh-CN")
                ctx.add_cookies([{"name": "gridgov_token", "value": token, "url": base}])
                page = ctx.new_page()
                cdp = ctx.new_cdp_session(page)
                cdp.send("Performance.enable")
                results = []
                for i in range(args.repeat):
                    last = i == args.repeat - 1
                    if last:  # where the page's time goes, on the last load
                        cdp.send("Profiler.enable")
                        cdp.send("Profiler.start")
                    r = measure(page, cdp, base, run_id)
                    if last:
                        print("self time by function, last load (navigation to map drawn):")
                        print("\n".join(hot(cdp.send("Profiler.stop")["profile"])))
                    results.append(r)
                    print(
                        f"load {i + 1}{' (cold)' if i == 0 else ''}: JSON in {r['arrived']:.0f} ms, "
                        f"list rendered {r['rendered']:.0f} ms (render {r['rendered'] - r['arrived']:.0f} ms "
                        f"after the JSON; main thread busy {r['work']:.0f} ms until then), map drawn "
                        f"{r['drawn']:.0f} ms; {r['listed']:.0f} rows listed, "
                        f"{r['nodes']:.0f} DOM elements; {load()}"
                    )
                browser.close()
        finally:
            proc.terminate()
            proc.wait(10)
    warm = results[1:] or results
    med = statistics.median(r["rendered"] for r in warm)
    med_render = statistics.median(r["rendered"] - r["arrived"] for r in warm)
    med_work = statistics.median(r["work"] for r in warm)
    print(
        f"first render of {args.findings:,} findings (median of warm loads): {med:.0f} ms from "
        f"navigation, of which {med_render:.0f} ms in the page after the JSON arrived (main "
        f"thread busy {med_work:.0f} ms from navigation to first render); "
        f"target < {TARGET_MS} ms: {'met' if med < TARGET_MS else 'NOT met'}; {load()}"
    )


if __name__ == "__main__":
    main()
