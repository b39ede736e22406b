"""A synthetic province: nested areas and grids with realistic shapes, and where people live.

SYNTHETIC DATA, for benchmarks and scale tests only: no place, code or shape here is real.

Shapes are Voronoi cells, nested level by level so the hierarchy is exact: the province is cut
into counties, each county into townships, each township into communities, each community into
grids, every level clipped to its parent. Seeds are drawn from a mixture around a few settlements
per county (dense near them, sparse between), so urban grids come out small and rural ones large,
as they do when each grid holds about the same number of households.

Deterministic: the same arguments give the same province.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

SRID = 4490
# The province starts here and grows east and north with the number of counties, each county
# about 0.35° square (some 1,200 km², a typical county).
ORIGIN = (112.0, 32.0)
COUNTY_DEGREES = 0.35


@dataclass(frozen=True)
class SyntheticProvince:
    areas: gpd.GeoDataFrame  # code, name, level, parent_code, geometry
    grids: gpd.GeoDataFrame  # code, name, community_code, geometry
    buildings: gpd.GeoDataFrame  # code, community_code, grid_code, households, geometry (point)


def synthetic_province(
    *,
    counties: int,
    grids_per_county: int,
    households_per_grid: int = 300,
    households_per_building: int = 30,
    province_code: str = "41",
    seed: int = 20261201,
) -> SyntheticProvince:
    """Build the province; ``grids_per_county`` is met on average (each community gets ~10 grids,
    each township ~10 communities)."""
    rng = np.random.default_rng(seed)
    side = COUNTY_DEGREES * float(np.ceil(np.sqrt(counties)))
    minx, miny = ORIGIN
    province = shapely.box(minx, miny, minx + side, miny + side)
    communities_per_county = max(1, round(grids_per_county / 10))
    townships_per_county = max(1, round(communities_per_county / 10))
    grids_per_community = max(1, round(grids_per_county / communities_per_county))

    areas: list[tuple[str, str, str, str | None, BaseGeometry]] = [
        (province_code, "合成省", "province", None, province)
    ]
    grid_rows: list[tuple[str, str, str, BaseGeometry]] = []
    county_cells = _cells(province, _uniform(rng, province, counties))
    for c, county in enumerate(county_cells, 1):
        # 20 counties to a prefecture (01..20): a county code never ends in 00.
        ccode = f"{province_code}{(c - 1) // 20 + 1:02d}{(c - 1) % 20 + 1:02d}"
        areas.append((ccode, f"合成县{c}", "county", province_code, county))
        towns = _settlements(rng, county)
        for t, township in enumerate(
            _cells(county, _mixture(rng, county, townships_per_county, towns)), 1
        ):
            tcode = f"{ccode}{t:03d}"
            areas.append((tcode, f"合成街道{c}-{t}", "township", ccode, township))
            n_comm = max(1, round(communities_per_county / townships_per_county))
            for m, community in enumerate(
                _cells(township, _mixture(rng, township, n_comm, towns)), 1
            ):
                mcode = f"{tcode}{m:03d}"
                areas.append((mcode, f"合成社区{c}-{t}-{m}", "community", tcode, community))
                seeds = _mixture(rng, community, grids_per_community, towns)
                for g, grid in enumerate(_cells(community, seeds), 1):
                    gcode = f"{mcode}{g:03d}"
                    grid_rows.append((gcode, f"合成网格{g}", mcode, grid))

    area_frame = gpd.GeoDataFrame(
        {
            "code": [a[0] for a in areas],
            "name": [a[1] for a in areas],
            "level": [a[2] for a in areas],
            "parent_code": [a[3] for a in areas],
        },
        geometry=[a[4] for a in areas],
        crs=SRID,
    )
    grid_frame = gpd.GeoDataFrame(
        {
            "code": [g[0] for g in grid_rows],
            "name": [g[1] for g in grid_rows],
            "community_code": [g[2] for g in grid_rows],
        },
        geometry=[g[3] for g in grid_rows],
        crs=SRID,
    )
    return SyntheticProvince(
        area_frame,
        grid_frame,
        _buildings(rng, grid_frame, households_per_grid, households_per_building),
    )


def _buildings(
    rng: np.random.Generator, grids: gpd.GeoDataFrame, per_grid: int, per_building: int
) -> gpd.GeoDataFrame:
    """Building points inside each grid (sampled in its box, kept if inside; the grid's
    representative point when sampling misses), each with its households."""
    n = max(1, round(per_grid / per_building))
    geoms = grids.geometry.to_numpy()
    shapely.prepare(geoms)
    bounds = shapely.bounds(geoms)
    k = n * 4
    xs = rng.uniform(bounds[:, [0]], bounds[:, [2]], (len(geoms), k))
    ys = rng.uniform(bounds[:, [1]], bounds[:, [3]], (len(geoms), k))
    inside = shapely.contains_xy(np.repeat(geoms, k).reshape(len(geoms), k), xs, ys)
    xs_out = np.empty((len(geoms), n))
    ys_out = np.empty((len(geoms), n))
    fallback = shapely.get_coordinates(shapely.point_on_surface(geoms))
    for i in range(len(geoms)):
        hit = np.flatnonzero(inside[i])[:n]
        xs_out[i, : len(hit)], ys_out[i, : len(hit)] = xs[i, hit], ys[i, hit]
        xs_out[i, len(hit) :], ys_out[i, len(hit) :] = fallback[i]
    grid_codes = np.repeat(grids["code"].to_numpy(), n)
    number = np.tile(np.arange(1, n + 1), len(geoms))
    return gpd.GeoDataFrame(
        {
            "code": [f"B{g}{b:03d}" for g, b in zip(grid_codes, number, strict=True)],
            "community_code": [g[:12] for g in grid_codes],
            "grid_code": grid_codes,
            "households": np.full(len(grid_codes), per_building),
        },
        geometry=shapely.points(xs_out.ravel(), ys_out.ravel()),
        crs=SRID,
    )


def _cells(parent: BaseGeometry, seeds: np.ndarray) -> list[BaseGeometry]:
    """Voronoi cells of ``seeds`` clipped to ``parent``, as polygons, in seed order (west first)."""
    if len(seeds) <= 1:
        return [_polygonal(parent)]
    seeds = seeds[np.lexsort((seeds[:, 1], seeds[:, 0]))]
    points = shapely.points(seeds)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(points), extend_to=parent)
    )
    # voronoi_polygons does not keep the seeds' order: match each cell to its seed.
    tree = shapely.STRtree(cells)
    seed_i, cell_i = tree.query(points, predicate="within")
    ordered = np.empty(len(points), dtype=object)
    ordered[seed_i] = cells[cell_i]
    out = []
    for cell in ordered:
        piece = _polygonal(shapely.intersection(cell, parent))
        if not piece.is_empty:
            out.append(piece)
    return out


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """The polygons of ``geom`` (an intersection may add slivers of lower dimension)."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 0]
    if not parts:
        return shapely.Polygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _uniform(rng: np.random.Generator, region: BaseGeometry, n: int) -> np.ndarray:
    return _sample(rng, region, n, lambda k: _in_box(rng, region, k))


def _settlements(rng: np.random.Generator, county: BaseGeometry) -> np.ndarray:
    """A county seat and a few towns."""
    return _uniform(rng, county, int(rng.integers(3, 7)))


def _mixture(
    rng: np.random.Generator, region: BaseGeometry, n: int, towns: np.ndarray
) -> np.ndarray:
    """``n`` seeds in ``region``: two thirds near the towns (about 2 km spread), the rest anywhere."""
    spread = 0.02

    def draw(k: int) -> np.ndarray:
        near = rng.random(k) < 2 / 3
        centre = towns[rng.integers(0, len(towns), k)]
        pts = _in_box(rng, region, k)
        pts[near] = centre[near] + rng.normal(0, spread, (int(near.sum()), 2))
        return pts

    return _sample(rng, region, n, draw)


def _in_box(rng: np.random.Generator, region: BaseGeometry, k: int) -> np.ndarray:
    minx, miny, maxx, maxy = region.bounds
    return np.column_stack([rng.uniform(minx, maxx, k), rng.uniform(miny, maxy, k)])


def _sample(rng: np.random.Generator, region: BaseGeometry, n: int, draw) -> np.ndarray:  # type: ignore[no-untyped-def]
    """``n`` distinct points of ``draw`` that fall inside ``region`` (uniform in it as a fallback)."""
    shapely.prepare(region)
    found = np.empty((0, 2))
    for attempt in range(50):
        pts = draw(max(n * 2, 8)) if attempt < 40 else _in_box(rng, region, max(n * 4, 16))
        keep = shapely.contains_xy(region, pts[:, 0], pts[:, 1])
        found = np.unique(np.vstack([found, pts[keep]]), axis=0)
        if len(found) >= n:
            return found[rng.permutation(len(found))[:n]]
    return found
