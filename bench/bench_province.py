"""A synthetic province, county size up to what this machine holds: how each cost grows.

Run: python bench/bench_province.py [--sizes 1x1500,4x1500,16x1500] [--households-per-grid 300]

Each size is COUNTIESxGRIDS_PER_COUNTY of SYNTHETIC data (gis/synthetic.py: nested Voronoi over
clustered settlements), loaded with COPY into a fresh embedded PostGIS. Measured per size, in one
run on the same machine:

  load           COPY of areas, grids, leaders, buildings, households (app/scale/province.py)
  index          the locate registry's snapshot and index build, and the process's memory for it
  batch locate   200,000 points through the full batch service (points/s)
  county audit   one county's coverage audit from the database (must not grow with the province),
                 beside GEOS's coverage validator and a geopandas sjoin of the same grids and
                 households (the anchors)
  export         GeoParquet export of the province (app/scale/export.py)
  audit, 1 proc  the whole export audited in one process (the anchor for the cluster)
  audit, dask    the same on a local dask.distributed cluster of 2 worker processes, and the
                 per-county task time the extrapolation in docs/scale.md is made from
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from _common import ROOT, bench_database
from sqlalchemy.orm import Session

sys.path.insert(0, str(ROOT))

from app.audits import loaders
from app.audits.service import run_audit
from app.auth.policy import system_principal
from app.auth.scope import scope_of
from app.db import unit_of_work
from app.locate.registry import load_snapshot
from app.locate.service import locate_batch
from app.scale import partitions
from app.scale.dask_audit import audit_county, audit_in_one_process
from app.scale.export import export_geoparquet
from app.scale.province import load_province
from gis.coverage import CoverageTolerances


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def timed(fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def one_size(counties: int, per_county: int, households: int) -> dict[str, float]:
    out: dict[str, float] = {}
    with bench_database() as engine:
        report, out["load_s"] = timed(
            lambda: load_province(
                engine,
                counties=counties,
                grids_per_county=per_county,
                households_per_grid=households,
            )
        )
        out["grids"], out["households"] = report.grids, report.households
        before = rss_mb()
        with Session(engine) as s:
            snap, out["index_s"] = timed(lambda: load_snapshot(s, edge_distance_m=20.0))
        out["index_mb"] = rss_mb() - before
        assert snap.index is not None
        minx, miny, maxx, maxy = snap.index.minx, snap.index.miny, snap.index.maxx, snap.index.maxy
        rng = np.random.default_rng(1)
        n = 200_000
        frame = pd.DataFrame({"id": np.arange(n), "lng": rng.uniform(minx, maxx, n),
                              "lat": rng.uniform(miny, maxy, n)})  # fmt: skip
        _, secs = timed(lambda: locate_batch(snap, frame, crs="wgs84"))
        out["batch_pts_s"] = n / secs
        county = snap.grids[0].code[:6]
        operator = scope_of(system_principal("bench")).narrow(county)
        with Session(engine) as s:
            # Anchors for the county audit, same grids and households (Voronoi, not squares):
            # GEOS's own coverage validator and a geopandas sjoin of every household.
            grids = loaders.load_grids(s, operator)
            households = loaders.load_households(s, operator)
        _, out["anchor_geos_coverage_s"] = timed(
            lambda: shapely.coverage_invalid_edges(grids.geometry.to_numpy())
        )
        _, out["anchor_sjoin_s"] = timed(
            lambda: gpd.sjoin(households, grids[["code", "geometry"]], predicate="intersects")
        )
        with unit_of_work(engine) as s:
            _, out["county_audit_s"] = timed(
                lambda: run_audit(s, scope=operator, tolerances=CoverageTolerances(), now=dt.datetime.now(dt.UTC))
            )  # fmt: skip
        with tempfile.TemporaryDirectory() as tmp:
            with Session(engine) as s:
                _, out["export_s"] = timed(lambda: export_geoparquet(s, Path(tmp) / "x"))
            data = Path(tmp) / "x"
            tol = CoverageTolerances()
            _, out["audit_1proc_s"] = timed(lambda: audit_in_one_process(data, tolerances=tol))
            tasks = []
            for c in partitions.counties(data):
                _, secs = timed(lambda c=c: audit_county(data, c, tol))
                tasks.append(secs)
            out["task_s_median"] = statistics.median(tasks)
            from distributed import Client, LocalCluster

            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                              host="127.0.0.1", dashboard_address=None) as cluster, \
                    Client(cluster) as client:  # fmt: skip
                from app.scale.dask_audit import audit_on_cluster

                client.wait_for_workers(2)
                _, out["audit_dask_s"] = timed(
                    lambda: audit_on_cluster(data, cluster.scheduler_address, tolerances=tol)
                )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1x1500,4x1500,16x1500")
    ap.add_argument("--households-per-grid", type=int, default=300)
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    print(f"peak RSS so far: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    rows = []
    for size in args.sizes.split(","):
        counties, per_county = (int(v) for v in size.split("x"))
        print(f"\n== {counties} counties × {per_county} grids (SYNTHETIC) ==", flush=True)
        r = one_size(counties, per_county, args.households_per_grid)
        rows.append(r)
        for key, value in r.items():
            print(f"  {key:<16} {value:>14,.2f}")
    print("\ngrowth (each size against the first)")
    first = rows[0]
    for key in first:
        ratios = "  ".join(
            f"{r[key] / first[key]:8.2f}×" if first[key] else "     n/a" for r in rows
        )
        print(f"  {key:<16} {ratios}")
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
