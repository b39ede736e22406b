"""Benchmark: gridgov's automatic grid partition against PySAL spopt (max-p) and GerryChain.

Run:  python bench/bench_partition.py            (about 4-5 minutes on 2 cores)
      python bench/bench_partition.py --quick    (generated communities up to 3,000 households only)

Prints its own explanatory header and one table per community set. Not a timed test: figures depend
on the machine (the reference machine has 2 cores shared with other work).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gis.partition import community_inputs, partition_community  # noqa: E402
from gis.partition._engine import Prepared, prepare  # noqa: E402
from gis.partition._graph import components  # noqa: E402
from gis.partition._problem import Problem  # noqa: E402
from gis.partition._split import divide  # noqa: E402
from gis.projection import gk_crs_for  # noqa: E402

TARGET = 300
BAND = (250, 500)
EPSILON = min(TARGET - BAND[0], BAND[1] - TARGET) / TARGET  # symmetric tolerance inside the band
CENTRE = (113.65, 34.76)  # somewhere in Henan, GK zone CM 114E
DATA = ROOT / "data" / "boundaries"
# Equal time: each baseline gets, on each community, the time gridgov takes end to end on it
# (projection, graph, division, polygons), never less than this floor; none is skipped.
FLOOR_S = 0.5

HEADER = f"""
Grid partition benchmark: gridgov vs PySAL spopt max-p vs GerryChain recursive_tree_part
=========================================================================================
Same input for every method: the building adjacency graph gridgov builds (one node per building
with the land nearest to it: footprint-aware Voronoi regions clipped to the community, cut along
barriers; an edge where two nodes' land shares a boundary). Each method only assigns nodes to grids.
  gridgov     gis.partition: balanced recursive bisection (straight and barrier-block sweeps,
              k = households/target fixed up front) + boundary refinement + pair recombination.
  spopt max-p MaxPHeuristic, households floor = {BAND[0]} (band low), attributes = node centroid x, y
              (so regions are spatially compact); top_n=2, max_iterations_construction=10,
              max_iterations_sa=1, seeded (library defaults take minutes per community here).
  GerryChain  recursive_tree_part, k = round(households/{TARGET}) per connected region,
              pop_target = households/k, epsilon = {EPSILON:.3f} (so parts fall in {BAND}), rng=0.
Columns:
  in band     share of comprehensive grids with {BAND[0]} <= households <= {BAND[1]}.
  worst dev   largest |households - {TARGET}| / {TARGET} over the grids.
  PP          mean Polsby-Popper 4*pi*A/P^2 of the grids, every method's grids built the same way
              (union of its nodes' land), measured in the Gauss-Krueger zone (metres).
  contig      every grid a single connected piece (yes/no).
  crossings   graph edges inside one grid whose shared boundary lies mostly on a barrier line
              (road, river): how often a grid straddles a barrier. Lower is better.
  time        seconds for the partition step on the prepared graph (same work for every method);
              for gridgov also end to end (partition_community: projection, faces, graph, division,
              polygons, issues) in brackets. Runs under 1 s are repeated: best of 3.
Equal time: on each community every baseline gets as long as gridgov takes end to end on it (at
least {FLOOR_S} s) for its partition step alone; a baseline that has not finished by then is printed as
such. Every community of the county is run by every method: none is skipped.
"""


# --------------------------------------------------------------------------- generated communities


def generate_community(
    households: int, seed: int
) -> tuple[BaseGeometry, gpd.GeoDataFrame, gpd.GeoSeries]:
    """A community of ``households`` in footprints of 20-120 households, clustered, with two roads.

    Built in metres in the Gauss-Krüger zone of CENTRE, returned in EPSG:4490.
    """
    rng = np.random.default_rng(seed)
    n_target = households / 70.0
    side = np.sqrt(n_target) * 55.0  # about 55 m of land per building on each axis
    w, h = side * 1.3, side / 1.3
    # An irregular outline: a rectangle with one corner cut off and a notch.
    outline = shapely.Polygon(
        [
            (0, 0),
            (w, 0),
            (w, h * 0.7),
            (w * 0.8, h),
            (w * 0.45, h),
            (w * 0.45, h * 0.85),
            (w * 0.3, h * 0.85),
            (w * 0.3, h),
            (0, h),
        ]
    )
    roads = [
        shapely.LineString(
            [
                (-10, h * rng.uniform(0.35, 0.6)),
                (w * 0.5, h * rng.uniform(0.4, 0.55)),
                (w + 10, h * rng.uniform(0.3, 0.6)),
            ]
        ),
        shapely.LineString(
            [(w * rng.uniform(0.35, 0.65), -10), (w * rng.uniform(0.35, 0.65), h + 10)]
        ),
    ]
    keep_out = shapely.union_all([r.buffer(12) for r in roads])
    clusters = rng.uniform([0, 0], [w, h], size=(max(2, int(n_target / 25)), 2))
    footprints: list[BaseGeometry] = []
    hh: list[int] = []
    placed = shapely.Polygon()
    total = 0
    attempts = 0
    while total < households and attempts < 200 * n_target:
        attempts += 1
        c = clusters[rng.integers(len(clusters))]
        x, y = rng.normal(c, side / 4) if rng.random() < 0.7 else rng.uniform([0, 0], [w, h])
        bw, bl = rng.uniform(12, 16), rng.uniform(25, 55)
        angle = rng.choice([0.0, 90.0]) + rng.normal(0, 8)
        fp = shapely.affinity.rotate(
            shapely.box(x - bl / 2, y - bw / 2, x + bl / 2, y + bw / 2), angle
        )
        if (
            not outline.buffer(-3).contains(fp)
            or fp.intersects(keep_out)
            or fp.buffer(6).intersects(placed)
        ):
            continue
        n = int(min(rng.integers(20, 121), households - total))
        if n < 20 and footprints:  # top up the last building rather than add a tiny one
            hh[-1] += n
            total += n
            continue
        footprints.append(fp)
        hh.append(n)
        placed = placed.union(fp)
        total += n
    crs = gk_crs_for(CENTRE[0])
    east, north = 500_000.0 - w / 2, 3_847_000.0
    shift = lambda g: shapely.affinity.translate(g, east, north)  # noqa: E731
    to_ll = lambda gs: gpd.GeoSeries([shift(g) for g in gs], crs=crs).to_crs(4490)  # noqa: E731
    community = to_ll([outline]).iloc[0]
    buildings = gpd.GeoDataFrame(
        {"id": np.arange(len(hh)), "households": hh}, geometry=to_ll(footprints).values, crs=4490
    )
    return community, buildings, to_ll(roads)


def synthetic_county(seed: int = 11) -> list[Case]:
    """Twelve generated communities, about 40,000 households (used when the demo county is absent)."""
    sizes = [1500, 2000, 2500, 3000, 3500, 4000, 4500, 3000, 3500, 4000, 4500, 4000]
    cases = []
    for i, hh in enumerate(sizes):
        community, buildings, roads = generate_community(hh, seed + i)
        cases.append(Case(f"synthetic {i + 1:02d}", community, buildings, roads))
    return cases


def demo_county() -> list[Case] | None:
    """The demo county's communities with their roads and dedicated grids, if the files exist."""
    paths = [DATA / n for n in ("demo_areas.geojson", "demo_buildings.gpkg")]
    if not all(p.exists() for p in paths):
        return None
    areas = gpd.read_file(paths[0])
    buildings = gpd.read_file(paths[1])
    roads_path, grids_path = DATA / "demo_roads.geojson", DATA / "demo_grids.gpkg"
    roads = gpd.read_file(roads_path) if roads_path.exists() else None
    grids = gpd.read_file(grids_path) if grids_path.exists() else None
    cases = []
    for _, area in areas[areas["level"] == "community"].sort_values("code").iterrows():
        own = buildings[buildings["community_code"] == area["code"]]
        own = own.rename(columns={"code": "id"})[["id", "households", "geometry"]]
        barriers = roads[roads.intersects(area.geometry)].geometry if roads is not None else None
        dedicated = None
        if grids is not None:
            d = grids[(grids["community_code"] == area["code"]) & (grids["type"] == "dedicated")]
            dedicated = d[["geometry"]] if len(d) else None
        epsg = areas.crs.to_epsg() if areas.crs is not None else 4490
        cases.append(Case(str(area["code"]), area.geometry, own, barriers, dedicated, epsg))
    return cases


# --------------------------------------------------------------------------- the shared graph


@dataclass
class Case:
    name: str
    community: BaseGeometry
    buildings: gpd.GeoDataFrame
    barriers: gpd.GeoSeries | None = None
    dedicated: gpd.GeoDataFrame | None = None
    crs: int = 4490


@dataclass
class Shared:
    """What every method gets: the graph, split into connected regions, and the faces to measure."""

    prep: Prepared
    problem: Problem
    regions: list[np.ndarray]
    faces_m: np.ndarray


def share(case: Case) -> Shared:
    inp = community_inputs(case.community, case.buildings, case.barriers, case.dedicated, case.crs)
    prep = prepare(inp.area, inp.frame, inp.buildings.take(inp.work), inp.dedicated, inp.barriers)
    g = prep.graph
    regions = (
        [np.flatnonzero(g.component == c) for c in range(int(g.component.max()) + 1)] if g.n else []
    )
    return Shared(prep, prep.problem(TARGET, *BAND), regions, inp.frame.to_m(prep.faces.geoms))


# --------------------------------------------------------------------------- methods


class TimedOut(Exception):
    pass


@contextmanager
def time_cap(seconds: float) -> Iterator[None]:
    def alarm(signum: int, frame: object) -> None:
        raise TimedOut

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_gridgov(sh: Shared) -> np.ndarray:
    labels = np.zeros(sh.problem.w.size, dtype=np.int64)
    base = 0
    for nodes in sh.regions:
        division = divide(sh.problem.subset(nodes))
        labels[nodes] = division.labels + base
        base += int(division.labels.max()) + 1
    return labels


def run_maxp(sh: Shared) -> np.ndarray:
    import libpysal
    from spopt.region import MaxPHeuristic

    labels = np.zeros(sh.problem.w.size, dtype=np.int64)
    base = 0
    for nodes in sh.regions:
        sub = sh.problem.subset(nodes)
        if sub.w.sum() < 2 * BAND[0] or len(nodes) < 2:
            labels[nodes] = base
            base += 1
            continue
        neighbours: dict[int, list[int]] = {i: [] for i in range(len(nodes))}
        for u, v in zip(sub.eu.tolist(), sub.ev.tolist(), strict=True):
            neighbours[u].append(v)
            neighbours[v].append(u)
        w = libpysal.weights.W(neighbours, silence_warnings=True)
        xy = (sub.xy - sub.xy.mean(axis=0)) / 1000.0
        frame = gpd.GeoDataFrame(
            {"x": xy[:, 0], "y": xy[:, 1], "households": sub.w},
            geometry=gpd.points_from_xy(sub.xy[:, 0], sub.xy[:, 1]),
        )
        model = MaxPHeuristic(
            frame,
            w,
            ["x", "y"],
            "households",
            BAND[0],
            top_n=2,
            max_iterations_construction=10,
            max_iterations_sa=1,
        )
        random.seed(0)  # max-p draws its seeds from both generators; fix them so runs repeat
        np.random.seed(0)
        model.solve()
        found = np.asarray(model.labels_, dtype=np.int64)
        found = np.unique(found, return_inverse=True)[1].ravel()
        labels[nodes] = found + base
        base += int(found.max()) + 1
    return labels


def run_gerrychain(sh: Shared) -> np.ndarray:
    import networkx as nx
    from gerrychain import Graph
    from gerrychain.partition import recursive_tree_part

    labels = np.zeros(sh.problem.w.size, dtype=np.int64)
    base = 0
    for nodes in sh.regions:
        sub = sh.problem.subset(nodes)
        total = float(sub.w.sum())
        k = max(1, round(total / TARGET))
        if k == 1:
            labels[nodes] = base
            base += 1
            continue
        g = nx.Graph()
        g.add_nodes_from((i, {"households": float(h)}) for i, h in enumerate(sub.w))
        g.add_edges_from(zip(sub.eu.tolist(), sub.ev.tolist(), strict=True))
        parts = recursive_tree_part(
            Graph.from_networkx(g),
            list(range(k)),
            total / k,
            "households",
            EPSILON,
            node_repeats=0,
            rng=0,
        )
        labels[nodes] = np.array([parts[i] for i in range(len(nodes))]) + base
        base += k
    return labels


METHODS: dict[str, Callable[[Shared], np.ndarray]] = {
    "gridgov": run_gridgov,
    "spopt max-p": run_maxp,
    "GerryChain": run_gerrychain,
}


# --------------------------------------------------------------------------- measuring


@dataclass
class Outcome:
    """Per-grid figures of one method on one or more communities."""

    households: list[float] = field(default_factory=list)
    pp: list[float] = field(default_factory=list)
    contiguous: bool = True
    crossings: int = 0
    seconds: float = 0.0
    end_to_end: float = 0.0
    done: int = 0
    failed: list[str] = field(default_factory=list)

    def add(self, other: Outcome) -> None:
        self.households += other.households
        self.pp += other.pp
        self.contiguous &= other.contiguous
        self.crossings += other.crossings
        self.seconds += other.seconds
        self.end_to_end += other.end_to_end
        self.done += other.done
        self.failed += other.failed


def measure(sh: Shared, labels: np.ndarray) -> Outcome:
    p, g = sh.problem, sh.prep.graph
    out = Outcome(done=1)
    n_groups = int(labels.max()) + 1
    out.households = np.bincount(labels, weights=p.w, minlength=n_groups).tolist()
    inside = labels[p.eu] == labels[p.ev]
    out.crossings = int(np.sum(p.barrier & inside))
    comp = components(len(labels), p.eu[inside], p.ev[inside])
    out.contiguous = all(len(np.unique(comp[labels == k])) == 1 for k in range(n_groups))
    face_label = np.where(g.face_node >= 0, labels[np.maximum(g.face_node, 0)], -1)
    for k in range(n_groups):
        poly = shapely.coverage_union_all(sh.faces_m[face_label == k])
        out.pp.append(4 * np.pi * poly.area / poly.length**2 if poly.length > 0 else 0.0)
    return out


def run_method(name: str, sh: Shared, cap: float) -> Outcome:
    """Run one method, measure its grids; runs under a second are repeated, best of 3 timed."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        try:
            with warnings.catch_warnings(), time_cap(cap):
                warnings.simplefilter("ignore")
                labels = METHODS[name](sh)
        except TimedOut:
            return Outcome(seconds=cap, failed=[f"not finished in gridgov's time ({cap:.1f} s)"])
        except Exception as exc:  # a baseline that gives up is a result, not a crash of the bench
            return Outcome(
                seconds=time.perf_counter() - start, failed=[f"failed: {type(exc).__name__}"]
            )
        times.append(time.perf_counter() - start)
        if times[-1] >= 1.0:
            break
    out = measure(sh, labels)
    out.seconds = min(times)
    return out


def end_to_end(case: Case) -> float:
    """Seconds for partition_community on the raw inputs, best of 3."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        partition_community(
            case.community,
            case.buildings,
            barriers=case.barriers,
            dedicated=case.dedicated,
            target=TARGET,
            band=BAND,
            crs=case.crs,
        )
        times.append(time.perf_counter() - start)
    return min(times)


# --------------------------------------------------------------------------- printing


def row(label: str, households: float, method: str, o: Outcome) -> str:
    if not o.done:
        return f"{label:<22} {households:>7.0f} {method:<12} {'; '.join(sorted(set(o.failed)))}"
    hh = np.asarray(o.households)
    in_band = np.mean((hh >= BAND[0]) & (hh <= BAND[1]))
    worst = np.max(np.abs(hh - TARGET)) / TARGET
    t = f"{o.seconds:8.3f}" + (f" [{o.end_to_end:.2f}]" if o.end_to_end else "")
    note = (
        f"  ({len(o.failed)} communities: {'; '.join(sorted(set(o.failed)))})" if o.failed else ""
    )
    return (
        f"{label:<22} {households:>7.0f} {method:<12} {len(hh):>5} {in_band:>7.0%} {worst:>9.0%} "
        f"{np.mean(o.pp):>6.3f} {'yes' if o.contiguous else 'NO':>6} {o.crossings:>9} {t}{note}"
    )


TITLE = f"{'community':<22} {'hh':>7} {'method':<12} {'grids':>5} {'in band':>7} {'worst dev':>9} {'PP':>6} {'contig':>6} {'crossings':>9} {'time (s)':>8}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="generated communities up to 3,000 households only"
    )
    args = parser.parse_args()
    print(HEADER)
    print(f"load average at start: {os.getloadavg()}")
    sizes = [1000, 3000] if args.quick else [1000, 3000, 10000, 20000]
    results: dict[str, dict[str, Outcome]] = {}

    print("Generated communities (footprints of 20-120 households, clustered, two barrier roads)")
    print(TITLE)
    for i, hh in enumerate(sizes):
        community, buildings, roads = generate_community(hh, seed=i + 1)
        case = Case(f"generated {hh}", community, buildings, roads)
        sh = share(case)
        results[case.name] = {}
        budget = end_to_end(case)
        for name in METHODS:
            o = run_method(name, sh, max(budget, FLOOR_S))
            if name == "gridgov":
                o.end_to_end = budget
            results[case.name][name] = o
            print(row(case.name, float(sh.problem.w.sum()), name, o), flush=True)

    county = None if args.quick else demo_county()
    label = "demo county"
    if county is None and not args.quick:
        county, label = synthetic_county(), "synthetic county"
    if county:
        print(
            f"\n{label}: {len(county)} communities, summed (roads as barriers, dedicated grids carved out)"
        )
        print(TITLE)
        totals = {name: Outcome() for name in METHODS}
        households = 0.0
        for case in county:
            sh = share(case)
            households += float(sh.problem.w.sum())
            budget = end_to_end(case)
            for name in METHODS:
                o = run_method(name, sh, max(budget, FLOOR_S))
                if name == "gridgov":
                    o.end_to_end = budget
                totals[name].add(o)
        results[label] = totals
        for name, o in totals.items():
            print(row(f"{label} ({o.done}/{len(county)})", households, name, o))

    print("\nGoals")
    for case_name, by_method in results.items():
        ours = by_method["gridgov"]
        others = {k: v for k, v in by_method.items() if k != "gridgov"}
        hh = np.asarray(ours.households)
        band_ok = bool(np.all((hh >= BAND[0]) & (hh <= BAND[1])))
        best_pp = max((np.mean(o.pp) for o in others.values() if o.done), default=float("nan"))
        slowest = max(others.values(), key=lambda o: o.seconds)
        lower_bound = "≥ " if slowest.failed else ""
        speedup = slowest.seconds / max(ours.seconds, 1e-6)
        print(
            f"  {case_name:<24} in band: {'yes' if band_ok else 'no'};  PP {np.mean(ours.pp):.3f} vs best baseline "
            f"{best_pp:.3f} ({'met' if np.mean(ours.pp) >= best_pp else 'NOT met'});  speed-up over slowest baseline "
            f"{lower_bound}{speedup:.0f}x ({'met' if speedup >= 10 else 'NOT met'})"
        )
    if "generated 3000" in results:
        t = results["generated 3000"]["gridgov"].end_to_end
        print(
            f"  3,000-household community end to end: {t:.2f} s (goal < 1 s: {'met' if t < 1 else 'NOT met'})"
        )
    for key in ("demo county", "synthetic county"):
        if key in results:
            t = results[key]["gridgov"].end_to_end
            print(
                f"  {key} end to end, all communities: {t:.2f} s (goal < 30 s: {'met' if t < 30 else 'NOT met'})"
            )

    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
