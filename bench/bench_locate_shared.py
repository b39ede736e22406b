"""One locate index per machine: memory per worker and throughput from a county to a province
(docs/scale.md#one-index-per-machine).

Run: nice python bench/bench_locate_shared.py [--sizes 3000,30000,100000] [--points 1000000]
     [--workers 1,2,4]

For each size, a synthetic province (gis/synthetic.py, Voronoi over clustered settlements; labelled
synthetic) is indexed and published to a throwaway store, then measured in the same run on the same
points (random over the province's extent, built before timing):

  build       time to build and publish the index, and its size (what every worker maps)
  ours        PolygonIndex.locate on the mapped index (grid index only), and the full batch
              answer (locate_frame: grid, community, leader, edge distance, nearest for points
              in no grid)
  anchors     shapely with points built before timing: STRtree bounding-box query then prepared
              intersects_xy (the strongest variant in bench_locate), and geopandas sjoin (sizes up
              to 30,000 grids)
  workers     N processes (N = 1, 2, 4) each map the index and answer the same million points;
              per process: RSS, PSS (shared pages divided among the processes mapping them) and
              anonymous memory (the process's own; in brackets what mapping the index and
              answering added to it). The whole-index copy each worker held before
              would show as anonymous memory of about the index's size in every process.

The load average is printed at start and end: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.locate.service import BatchColumns, locate_frame  # noqa: E402
from app.locate.shared import IndexStore  # noqa: E402
from gis.pointindex import first_per_point  # noqa: E402
from gis.synthetic import synthetic_province  # noqa: E402

_WORKER = """
import json, sys, time
import numpy as np
from gis.pointindex import PolygonIndex
def mem():
    status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines())
    kb = lambda k: int(status[k].split()[0]) * 1024
    pss = sum(int(l.split()[1]) * 1024 for l in open("/proc/self/smaps_rollup") if l.startswith("Pss:"))
    return {"rss": kb("VmRSS"), "anon": kb("RssAnon"), "pss": pss}
pts = np.load(sys.argv[2])
before = mem()
index = PolygonIndex.open(sys.argv[1])
index.locate(pts[0], pts[1])
index.edge_distances_m(index.locate(pts[0], pts[1]), pts[0], pts[1])
after = mem()
print(json.dumps({**after, "own_before": before["anon"]}), flush=True)
sys.stdin.read()  # stay alive (and mapped) until every worker has reported
"""


def province(grids: int) -> tuple[list[bytes], list[str], tuple[float, float, float, float]]:
    counties = max(1, round(grids / 3000))
    prov = synthetic_province(counties=counties, grids_per_county=round(grids / counties))
    g = prov.grids.sort_values("code")
    bounds = tuple(float(v) for v in shapely.total_bounds(g.geometry.values))
    return list(shapely.to_wkb(g.geometry.values)), list(g["code"]), bounds  # type: ignore[return-value]


def columns_for(codes: list[str]) -> BatchColumns:
    cat = pd.CategoricalDtype(np.array(codes, dtype=object))
    of_grid = np.r_[np.arange(len(codes)), -1]
    cols = {name: (cat, of_grid) for name in ("grid_code", "grid_name", "community_code")}
    cols |= {name: (pd.CategoricalDtype([]), np.full(len(codes) + 1, -1)) for name in
             ("township_code", "leader_name")}  # fmt: skip
    return BatchColumns("bench", cols)


def rate(fn, n: int) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t0)


def workers(path: Path, pts_file: str, n: int) -> list[dict[str, int]]:
    procs = [
        subprocess.Popen([sys.executable, "-c", _WORKER, str(path), pts_file], cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)},
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(n)
    ]  # fmt: skip
    try:
        return [json.loads(p.stdout.readline()) for p in procs]  # type: ignore[union-attr]
    finally:
        for p in procs:
            p.communicate("")


def measure(size: int, args: argparse.Namespace) -> None:
    mb = 1e6
    t0 = time.perf_counter()
    wkbs, codes, (minx, miny, maxx, maxy) = province(size)
    print(
        f"\n{len(wkbs):,} grids (synthetic province generated in {time.perf_counter() - t0:.0f} s)"
    )
    with tempfile.TemporaryDirectory(dir="/dev/shm" if os.path.isdir("/dev/shm") else None) as tmp:
        store = IndexStore(Path(tmp))
        t0 = time.perf_counter()
        index = store.index(wkbs, edge_distance_m=20.0)
        build = time.perf_counter() - t0
        boundary = len(index._cand_ptr) - 1
        print(f"  build + publish {build:6.1f} s   index {index.nbytes / mb:7.1f} MB   "
              f"raster {index.nx * index.ny / 1e6:.1f} M cells, {boundary / (index.nx * index.ny):.0%} boundary")  # fmt: skip
        rng = np.random.default_rng(1)
        x, y = rng.uniform(minx, maxx, args.points), rng.uniform(miny, maxy, args.points)
        pts_file = str(Path(tmp) / "points.npy")
        np.save(pts_file, np.stack([x, y]))
        n = args.points
        ours = rate(lambda: index.locate(x, y), n)
        frame = pd.DataFrame({"id": np.arange(n), "lng": x, "lat": y})
        cols = columns_for(codes)
        full = rate(lambda: locate_frame(index, cols, frame, crs="cgcs2000"), n)
        geoms = shapely.from_wkb(wkbs)
        shapely.prepare(geoms)
        tree = shapely.STRtree(geoms)
        pts = shapely.points(x, y)

        def anchor() -> None:
            pi, gi = tree.query(pts)
            hit = shapely.intersects_xy(geoms[gi], x[pi], y[pi])
            first_per_point(pi[hit], gi[hit])

        strongest = rate(anchor, n)
        print(f"  {'ours: PolygonIndex.locate, mapped (grid index only)':<58} {ours:>12,.0f} pts/s")
        print(f"  {'ours: full batch answer (locate_frame)':<58} {full:>12,.0f} pts/s")
        print(f"  {'anchor: bbox query + prepared intersects_xy':<58} {strongest:>12,.0f} pts/s")
        if size <= 30_000:
            import geopandas as gpd

            left = gpd.GeoDataFrame({"i": np.arange(n)}, geometry=pts, crs=4490)
            right = gpd.GeoDataFrame({"g": np.arange(len(geoms))}, geometry=geoms, crs=4490)
            right.sindex  # noqa: B018
            sj = rate(lambda: gpd.sjoin(left, right, how="left", predicate="intersects"), n)
            print(f"  {'anchor: geopandas sjoin':<58} {sj:>12,.0f} pts/s")
        print(
            f"  ours / strongest shapely: locate {ours / strongest:.1f}x, full answer {full / strongest:.1f}x"
        )
        for k in (int(w) for w in args.workers.split(",")):
            mem = workers(index.path, pts_file, k)  # type: ignore[arg-type]
            per = " | ".join(
                f"RSS {m['rss'] / mb:4.0f} PSS {m['pss'] / mb:4.0f} own {m['anon'] / mb:4.0f} "
                f"(+{(m['anon'] - m['own_before']) / mb:.0f})"
                for m in mem
            )
            print(f"  {k} worker(s), MB each: {per}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="3000,30000,100000")
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--workers", default="1,2,4")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    for size in (int(s) for s in args.sizes.split(",")):
        measure(size, args)
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
