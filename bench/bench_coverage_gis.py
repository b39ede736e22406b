"""Benchmark of the geometry part of a county coverage audit (gis.coverage.audit_coverage).

A deterministic synthetic county: ~100 communities x ~30 grids (3,000 grids, ~80 vertices each,
shared edges matching exactly as a coverage-aware editor leaves them), a few planted defects
(holes, overlaps, slivers, a bow-tie, a grid crossing its community, grids out of the household
band), 1,000,000 household points and 30,000 building footprints. Prints the time of each audit
step beside two anchors measured in the same run on the same data: GEOS's coverage validator on
the 3,000 grids and a plain geopandas sjoin of the 1,000,000 points.

    python bench/bench_coverage_gis.py [--households 1000000] [--buildings 30000] [--seed 7]
                                       [--wobble 0.05]
"""

from __future__ import annotations

import argparse
import logging
import time
from collections import Counter
from collections.abc import Callable

import _common  # noqa: F401  (puts the repository root on sys.path)
import geopandas as gpd
import numpy as np
import pyproj
import shapely
from shapely.geometry import box

from gis.coverage import audit_coverage

METRIC_EPSG = 4547  # CGCS2000 / 3-degree Gauss-Kruger CM 114E
X0, Y0, SIDE = 455_000.0, 3_760_000.0, 50_000.0  # a 50 km square county near 113.5E, 34N

Warp = Callable[[np.ndarray], np.ndarray]


def _communities(rng: np.random.Generator) -> np.ndarray:
    """~100 Voronoi cells from a jittered 10 x 10 lattice of seeds."""
    step = SIDE / 10
    ix, iy = np.meshgrid(np.arange(10), np.arange(10))
    xs = X0 + (ix.ravel() + 0.5 + rng.uniform(-0.3, 0.3, 100)) * step
    ys = Y0 + (iy.ravel() + 0.5 + rng.uniform(-0.3, 0.3, 100)) * step
    county = box(X0, Y0, X0 + SIDE, Y0 + SIDE)
    cells = shapely.voronoi_polygons(shapely.multipoints(shapely.points(xs, ys)), extend_to=county)
    return np.asarray(shapely.intersection(shapely.get_parts(cells), county))


def _coverage(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grids as an exact coverage: noded, densified and wiggled linework, then polygonized."""
    communities = _communities(rng)
    cells, owner = [], []
    for c, community in enumerate(communities):
        minx, miny, maxx, maxy = community.bounds
        xs, ys = rng.uniform(minx, maxx, 400), rng.uniform(miny, maxy, 400)
        inside = shapely.contains_xy(community, xs, ys)
        seeds = shapely.points(xs[inside][:30], ys[inside][:30])
        vor = shapely.get_parts(
            shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=community)
        )
        cells.extend(shapely.intersection(vor, community))
        owner.extend([c] * len(vor))
    cells_arr = np.asarray(cells)
    # Every shared edge exists once in the noded linework, so densifying and moving its vertices
    # keeps neighbours matching exactly; the wiggle (±12 m) stands in for roads and walls.
    lines = shapely.segmentize(shapely.union_all(shapely.boundary(cells_arr)), 50.0)

    def wiggle(xy: np.ndarray) -> np.ndarray:
        x, y = xy[:, 0], xy[:, 1]
        dx = 12 * np.sin(y / 170.0) * np.cos(x / 230.0)
        dy = 12 * np.sin(x / 190.0) * np.cos(y / 260.0)
        return np.column_stack([x + dx, y + dy])

    faces = shapely.get_parts(
        shapely.polygonize(shapely.get_parts(shapely.transform(lines, wiggle)))
    )
    # Each face is one grid: find which original cell its interior point came from.
    anchor = shapely.transform(shapely.point_on_surface(faces), _unwiggle(wiggle))
    face_idx, cell_idx = shapely.STRtree(cells_arr).query(anchor, predicate="within")
    grid_geoms = faces[face_idx]
    grid_owner = np.asarray(owner)[cell_idx]
    community_geoms = np.array(
        [shapely.coverage_union_all(grid_geoms[grid_owner == c]) for c in range(len(communities))]
    )
    return community_geoms, grid_geoms, grid_owner


def _unwiggle(wiggle: Warp) -> Warp:
    """Approximate inverse of the wiggle by fixed-point iteration (enough to find the cell)."""

    def inverse(xy: np.ndarray) -> np.ndarray:
        guess = xy.copy()
        for _ in range(8):
            guess = guess - (wiggle(guess) - xy)
        return guess

    return inverse


def _plant_defects(
    grids: np.ndarray, owner: np.ndarray, communities: np.ndarray
) -> tuple[list[str], np.ndarray]:
    """Damage a few grids in place; return what was planted and the centres of the holes."""
    planted = []
    holes = []
    for i in (10, 1010, 2010):  # a 40 m hole: a gap
        c = shapely.point_on_surface(grids[i])
        grids[i] = grids[i].difference(shapely.buffer(c, 20, cap_style="square"))
        holes.append(shapely.get_coordinates(c)[0])
    planted.append("3 holes of 1,600 m² (gap), 20 households in each (household_outside)")
    for i in (20, 1020, 2020):  # a 40 m disc around a boundary vertex: overlaps with neighbours
        v = shapely.get_point(shapely.get_exterior_ring(grids[i]), 3)
        grids[i] = grids[i].union(v.buffer(40).intersection(communities[owner[i]]))
    planted.append("3 bulges of ~2,500 m² into neighbours (overlap)")
    for i in (30, 1030):  # shrunk by 0.3 m: a thin ring between it and its neighbours
        grids[i] = grids[i].buffer(-0.3, join_style="mitre")
    planted.append("2 grids shrunk by 0.3 m (sliver)")
    ring = np.asarray(grids[40].exterior.coords)
    ring[[5, 6]] = ring[[6, 5]]  # swap two vertices: a small bow-tie
    grids[40] = shapely.Polygon(ring, [r.coords for r in grids[40].interiors])
    planted.append("1 bow-tie (invalid_geometry)")
    for i in range(len(grids)):  # first grid on its community's edge: bulge 60 m across it
        boundary = shapely.boundary(communities[owner[i]])
        v = shapely.get_point(shapely.get_exterior_ring(grids[i]), 0)
        if shapely.distance(v, boundary) < 1e-6:
            grids[i] = grids[i].union(v.buffer(60))
            planted.append(f"1 grid bulging 60 m out of its community (crosses_community), #{i}")
            break
    return planted, np.asarray(holes)


def _wobble(grid: shapely.Geometry, k: int, metres: float) -> shapely.Geometry:
    """A deterministic displacement that differs per grid but not per visit of a vertex, so
    rings stay closed while shared edges stop matching."""
    return shapely.transform(grid, lambda xy: xy + metres * np.sin(xy[:, ::-1] * 7.3 + k))


def _households(
    rng: np.random.Generator, grids_ll: gpd.GeoSeries, total: int, lost: np.ndarray
) -> gpd.GeoDataFrame:
    """``total`` points: 20 around each hole centre in ``lost`` (lon/lat), the rest spread over
    the grids at 270–400 a grid, except three grids planted far outside the band."""
    k = 20 * len(lost)
    weights = rng.integers(270, 400, len(grids_ll)).astype(float)
    weights[[100, 1100, 2100]] = [120, 800, 900]
    counts = np.floor(weights * (total - k) / weights.sum()).astype(int)
    counts[: total - k - counts.sum()] += 1
    geoms = np.asarray(grids_ll.array)
    shapely.prepare(geoms)
    xs, ys = [], []
    for g, n in zip(geoms, counts, strict=True):
        minx, miny, maxx, maxy = g.bounds
        need = n
        while need > 0:  # rejection sampling inside the grid
            px, py = rng.uniform(minx, maxx, 3 * need + 10), rng.uniform(miny, maxy, 3 * need + 10)
            ok = shapely.contains_xy(g, px, py)
            xs.append(px[ok][:need])
            ys.append(py[ok][:need])
            need -= len(xs[-1])
    jitter = rng.uniform(-15, 15, (k, 2)) * np.array([1.1e-5, 0.9e-5])  # ±15 m: inside 40 m holes
    xs.append(np.repeat(lost[:, 0], 20) + jitter[:, 0])
    ys.append(np.repeat(lost[:, 1], 20) + jitter[:, 1])
    x, y = np.concatenate(xs), np.concatenate(ys)
    return gpd.GeoDataFrame({"id": np.arange(len(x))}, geometry=gpd.points_from_xy(x, y), crs=4490)


def _buildings(rng: np.random.Generator, households: gpd.GeoDataFrame, n: int) -> gpd.GeoDataFrame:
    """Footprints of 10–20 m by 10–30 m around random households (some straddle grid edges)."""
    pick = rng.choice(len(households), n, replace=False)
    centre = shapely.get_coordinates(np.asarray(households.geometry.array)[pick])
    deg = 1 / 100_000  # ~1 m in latitude; footprints need no precision here
    w, h = rng.uniform(10, 20, n) * deg * 1.2, rng.uniform(10, 30, n) * deg
    geoms = shapely.box(
        centre[:, 0] - w / 2, centre[:, 1] - h / 2, centre[:, 0] + w / 2, centre[:, 1] + h / 2
    )
    return gpd.GeoDataFrame({"code": [f"B{i:06d}" for i in range(n)]}, geometry=geoms, crs=4490)


def _serials(owner: np.ndarray) -> list[int]:
    """1, 2, 3 ... within each community, in the order the grids come."""
    seen: Counter[int] = Counter()
    out = []
    for o in owner.tolist():
        seen[o] += 1
        out.append(seen[o])
    return out


_STEP_NOTES = {
    "invalid_geometry": "+ repair, projection to Gauss-Krüger, STRtrees",
    "coverage_invalid_edges": "GEOS validator, narrows gap unions and overlap pairs",
    "gap": "+ gap slivers",
    "overlap": "+ overlap slivers",
    "sliver": "thin or tiny grids",
    "household_outside": "+ households per grid",
}


class _StepTimes(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seconds: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if hasattr(record, "step"):
            self.seconds[record.step] = record.seconds  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--buildings", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--wobble",
        type=float,
        default=0.0,
        help="move each grid's vertices by up to this many metres, independently of its "
        "neighbours (grids digitised separately: no edge matches; worst case for the audit)",
    )
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    t = time.perf_counter()
    community_m, grid_m, owner = _coverage(rng)
    planted, holes = _plant_defects(grid_m, owner, community_m)
    if args.wobble:
        grid_m = np.array([_wobble(g, k, args.wobble) for k, g in enumerate(grid_m)])
        planted.append(f"every grid's vertices moved by up to {args.wobble} m (unmatched edges)")
    to_ll = pyproj.Transformer.from_crs(METRIC_EPSG, 4490, always_xy=True)

    def ll(g: np.ndarray) -> np.ndarray:
        return shapely.transform(g, lambda xy: np.column_stack(to_ll.transform(*xy.T)))

    ccodes = [f"4199010{c // 10 + 1:02d}{c % 10 + 1:03d}" for c in range(len(community_m))]
    communities = gpd.GeoDataFrame({"code": ccodes}, geometry=ll(community_m), crs=4490)
    grids = gpd.GeoDataFrame(
        {
            "code": [
                f"{ccodes[o]}{serial:03d}" for o, serial in zip(owner, _serials(owner), strict=True)
            ],
            "community_code": [ccodes[o] for o in owner],
        },
        geometry=ll(grid_m),
        crs=4490,
    )
    lost = np.column_stack(to_ll.transform(holes[:, 0], holes[:, 1]))
    households = _households(rng, grids.geometry, args.households, lost)
    buildings = _buildings(rng, households, args.buildings)
    vertices = shapely.get_num_coordinates(np.asarray(grids.geometry.array)).mean()
    print(
        f"county: {len(communities)} communities, "
        f"{len(grids)} grids ({vertices:.0f} vertices each), "
        f"{len(households):,} households, {len(buildings):,} buildings; "
        f"generated in {time.perf_counter() - t:.1f} s"
    )
    for p in planted:
        print(f"  planted: {p}")

    t = time.perf_counter()
    valid = shapely.coverage_is_valid(np.asarray(grids.geometry.array))
    anchor_cov = time.perf_counter() - t
    t = time.perf_counter()
    joined = gpd.sjoin(households, grids[["code", "geometry"]])
    anchor_sjoin = time.perf_counter() - t

    handler = _StepTimes()
    log = logging.getLogger("gis.coverage")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    t = time.perf_counter()
    found = audit_coverage(communities, grids, buildings=buildings, households=households)
    total = time.perf_counter() - t

    print("\nanchors (same data, same run)")
    cov_label = f"shapely.coverage_is_valid, {len(grids):,} grids"
    sjoin_label = f"geopandas.sjoin, {len(households):,} points"
    print(f"  {cov_label:<42}{anchor_cov:7.3f} s  (valid={valid})")
    print(f"  {sjoin_label:<42}{anchor_sjoin:7.3f} s  ({len(joined):,} pairs)")
    print("\naudit_coverage steps (finding kind, or what the step also does)")
    for step, seconds in handler.seconds.items():
        print(f"  {step:<42}{seconds:7.3f} s  {_STEP_NOTES.get(step, '')}".rstrip())
    print(f"  {'total':<42}{total:7.3f} s")
    print("\nfindings")
    for (kind, severity), n in sorted(
        Counter(zip(found["kind"], found["severity"], strict=True)).items()
    ):
        print(f"  {kind:<20}{severity:<8}{n:6d}")


if __name__ == "__main__":
    main()
