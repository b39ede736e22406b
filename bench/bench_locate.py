"""Locate benchmark (docs/architecture.md#performance-targets): batch, in-process single point, and
HTTP, beside their anchors.

Run: python bench/bench_locate.py [--grids-per-community 100] [--points 1000000] [--http-seconds 10]
Builds a throwaway PostGIS with a generated county of 3,000 grids, then measures in one run:
  anchors  - one prepared PostGIS point-in-polygon query per point (one connection)
           - a points-outer SQL join over a points table
           - shapely, points built before timing: STRtree bounding-box query then prepared
             intersects_xy / contains_xy (the strongest), STRtree.query with a predicate, and
             geopandas sjoin; these answer only the grid index, ours the full row
  ours     - PolygonIndex.locate (vectorised) and the full batch service (frame in, frame out)
           - locate_point_dict (the full single-point answer GET /locate serves) and locate_one
           - HTTP GET /api/v1/locate under wrk (uvicorn, 2 workers), requests/s and p99
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile

import numpy as np
import pandas as pd
import shapely
from _common import (
    Timer,
    bench_database,
    free_port,
    generated_county,
    random_points,
    uvicorn_server,
)
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.auth.policy import ANONYMOUS
from app.locate.registry import load_snapshot
from app.locate.service import locate_batch, locate_point, locate_point_dict
from gis.pointindex import first_per_point


def row(name: str, value: str, target: str = "") -> None:
    print(f"  {name:<58} {value:>16}   {target}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--communities", type=int, default=30)
    ap.add_argument("--grids-per-community", type=int, default=100)
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--http-seconds", type=int, default=10)
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}")

    with bench_database() as engine:
        with Timer() as t:
            grids = generated_county(
                engine, communities=args.communities, grids_per_community=args.grids_per_community
            )
        print(
            f"generated county: {len(grids)} grids in {t.seconds:.1f} s; {args.points:,} random points"
        )
        x, y = random_points(args.points)

        with Session(engine) as session, Timer() as t:
            snap = load_snapshot(session, edge_distance_m=20.0)
        print(f"registry snapshot + index build: {t.seconds:.2f} s\n")
        index = snap.index
        assert index is not None

        print("Batch locate (points/s)")
        geoms = np.asarray(grids, dtype=object)
        shapely.prepare(geoms)
        tree = shapely.STRtree(geoms)
        pts = shapely.points(x, y)  # built before timing: the anchors get their points for free
        anchors = {}
        with Timer() as t:
            pi, gi = tree.query(pts)
            hit = shapely.intersects_xy(geoms[gi], x[pi], y[pi])
            first_per_point(pi[hit], gi[hit])
        anchors["bbox query + prepared intersects_xy"] = args.points / t.seconds
        with Timer() as t:
            pi, gi = tree.query(pts)
            hit = shapely.contains_xy(geoms[gi], x[pi], y[pi])
            first_per_point(pi[hit], gi[hit])
        anchors["bbox query + prepared contains_xy"] = args.points / t.seconds
        with Timer() as t:
            tree.query(pts, predicate="intersects")
        anchors["STRtree.query(predicate=intersects)"] = args.points / t.seconds
        import geopandas as gpd

        left = gpd.GeoDataFrame({"i": np.arange(args.points)}, geometry=pts, crs=4490)
        right = gpd.GeoDataFrame({"g": np.arange(len(geoms))}, geometry=geoms, crs=4490)
        right.sindex  # noqa: B018  (built before timing too)
        with Timer() as t:
            gpd.sjoin(left, right, how="left", predicate="intersects")
        anchors["geopandas sjoin"] = args.points / t.seconds
        for name, rate in anchors.items():
            row(f"anchor: {name} (grid index only)", f"{rate:,.0f}")
        strongest = max(anchors.values())
        with engine.begin() as conn:
            n_sql = min(args.points, 200_000)
            conn.execute(
                text(
                    "CREATE TEMP TABLE pts AS SELECT i, ST_SetSRID(ST_MakePoint(x, y), 4490) AS geom "
                    "FROM unnest(CAST(:x AS float8[]), CAST(:y AS float8[])) WITH ORDINALITY AS u(x, y, i)"
                ),
                {"x": x[:n_sql].tolist(), "y": y[:n_sql].tolist()},
            )
            with Timer() as t:
                conn.execute(
                    text(
                        "SELECT p.i, g.code FROM pts p JOIN grids g ON ST_Intersects(g.geom, p.geom) "
                        "WHERE g.status = 'active'"
                    )
                ).all()
            row(
                f"anchor: PostGIS join over a points table ({n_sql:,} points)",
                f"{n_sql / t.seconds:,.0f}",
            )
            stmt = text(
                "SELECT code FROM grids WHERE status = 'active' AND "
                "ST_Intersects(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4490)) LIMIT 1"
            )
            n_one = 5_000
            with Timer() as t:
                for i in range(n_one):
                    conn.execute(stmt, {"x": float(x[i]), "y": float(y[i])}).first()
            row(
                "anchor: one prepared PostGIS query per point (1 conn)", f"{n_one / t.seconds:,.0f}"
            )
        with Timer() as t:
            found = index.locate(x, y)
        row(
            "ours: PolygonIndex.locate (vectorised)",
            f"{args.points / t.seconds:,.0f}",
            "target ≥ 300,000",
        )
        frame = pd.DataFrame({"id": np.arange(args.points), "lng": x, "lat": y})
        with Timer() as t:
            out = locate_batch(snap, frame, crs="wgs84")
        ours = args.points / t.seconds
        row(
            "ours: full batch service (codes, leaders, edge flags)",
            f"{ours:,.0f}",
            f"{ours / strongest:.2f}× the strongest anchor (goal ≥ 2×)",
        )
        gcj = frame.copy()
        from gis.crs import from_wgs84

        gcj["lng"], gcj["lat"] = from_wgs84(x, y, "gcj02")
        with Timer() as t:
            locate_batch(snap, gcj, crs="gcj02")
        row("ours: full batch service, input in GCJ-02", f"{args.points / t.seconds:,.0f}")
        agree = (out["grid_code"].notna().to_numpy() == (found >= 0)).mean()
        print(
            f"  (batch service and index agree on {agree:.2%} of points; "
            f"{(found >= 0).mean():.1%} of points fall in a grid)\n"
        )

        print("In-process single point (lookups/s)")
        n = 100_000
        with Timer() as t:
            for i in range(n):
                index.locate_one(x[i], y[i])
        row("ours: PolygonIndex.locate_one", f"{n / t.seconds:,.0f}")
        xs, ys = x[:n].tolist(), y[:n].tolist()
        with Timer() as t:
            for i in range(n):
                locate_point_dict(snap, lng=xs[i], lat=ys[i], crs="wgs84", principal=ANONYMOUS)
        row("ours: full answer as GET /locate serves it (locate_point_dict)", f"{n / t.seconds:,.0f}",
            "target ≥ 50,000")  # fmt: skip
        with Timer() as t:
            for i in range(n // 5):
                locate_point(snap, lng=xs[i], lat=ys[i], crs="wgs84", principal=ANONYMOUS)
        row(
            "ours: the same validated into the pydantic model (locate_point)",
            f"{n / 5 / t.seconds:,.0f}",
        )
        with Timer() as t:
            for i in range(20_000):
                tree.query(shapely.Point(xs[i], ys[i]), predicate="intersects")
        row("anchor: shapely STRtree.query per point", f"{20_000 / t.seconds:,.0f}")
        print()

        print(
            f"HTTP GET /api/v1/locate (uvicorn 2 workers, wrk 1 thread 16 connections, {args.http_seconds} s)"
        )
        port = free_port()
        server = uvicorn_server(engine, port)
        try:
            minx, miny, maxx, maxy = shapely.total_bounds(np.asarray(grids, dtype=object))
            script = f"""
math.randomseed(42)
request = function()
  local lng = {minx} + math.random() * {maxx - minx}
  local lat = {miny} + math.random() * {maxy - miny}
  return wrk.format("GET", "/api/v1/locate?lng=" .. lng .. "&lat=" .. lat)
end
"""
            with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
                fh.write(script)
            subprocess.run(
                ["wrk", "-t1", "-c16", "-d2s", "-s", fh.name, f"http://127.0.0.1:{port}"],
                capture_output=True,
                check=True,
            )  # warm-up: index built in each worker
            result = subprocess.run(
                [
                    "wrk",
                    "-t1",
                    "-c16",
                    f"-d{args.http_seconds}s",
                    "--latency",
                    "-s",
                    fh.name,
                    f"http://127.0.0.1:{port}",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            rps = float(re.search(r"Requests/sec:\s+([\d.]+)", result).group(1))  # type: ignore[union-attr]
            p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", result)
            assert p99 is not None
            p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
            errors = re.search(r"Non-2xx or 3xx responses: (\d+)", result)
            row("ours: requests/s", f"{rps:,.0f}", "target ≥ 1,500")
            row("ours: p99 latency", f"{p99_ms:.1f} ms", "target < 25 ms")
            row("non-2xx responses", errors.group(1) if errors else "0")
        finally:
            server.terminate()
            server.wait(timeout=10)

    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
