"""Load a synthetic province (gis/synthetic.py) into the database with COPY: areas, grids, a
leader per grid, buildings and households. SYNTHETIC DATA, for benchmarks and scale tests.

``gridgov generate-province --counties N --grids-per-county M`` (app/scale/cli.py). A request for
more than the disk holds is refused before anything is written.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import Engine, text

from app.errors import InvalidInput
from gis.synthetic import SyntheticProvince, synthetic_province

# What a row costs on disk with its indexes, measured on the embedded cluster (rounded up).
BYTES_PER_GRID = 6_000
BYTES_PER_HOUSEHOLD = 220
BYTES_PER_BUILDING = 400


@dataclass(frozen=True)
class LoadReport:
    counties: int
    grids: int
    buildings: int
    households: int


def estimated_bytes(counties: int, grids_per_county: int, households_per_grid: int) -> int:
    grids = counties * grids_per_county
    households = grids * households_per_grid
    return (
        grids * BYTES_PER_GRID + households * BYTES_PER_HOUSEHOLD + grids * 10 * BYTES_PER_BUILDING
    )


def check_disk(directory: Path, needed: int) -> None:
    while not directory.exists() and directory != directory.parent:
        directory = directory.parent  # the disk it will be created on
    free = shutil.disk_usage(directory).free
    if needed > free * 0.8:
        raise InvalidInput(
            f"合成省约需 {needed / 1e9:.1f} GB 磁盘，{directory} 只剩 {free / 1e9:.1f} GB；"
            "请减少县数、网格数或每格户数"
        )


def load_province(
    engine: Engine,
    *,
    counties: int,
    grids_per_county: int,
    households_per_grid: int = 300,
    seed: int = 20261201,
    data_dir: Path | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> LoadReport:
    if data_dir is not None:
        check_disk(data_dir, estimated_bytes(counties, grids_per_county, households_per_grid))
    province = synthetic_province(
        counties=counties,
        grids_per_county=grids_per_county,
        households_per_grid=households_per_grid,
        seed=seed,
    )
    progress(f"生成：{len(province.grids):,} 个网格，{len(province.buildings):,} 栋楼")
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        _copy(cur, "areas (code, name, level, kind, parent_code, geom)", _area_rows(province))
        _copy(cur, "grids (code, name, community_code, status, geom)", _grid_rows(province))
        progress("区划与网格已写入")
        _copy(
            cur,
            "staff (code, name, phone, employment)",
            (f"S{g}\t网格长{g[-6:]}\t138{g[-8:]}\tfull_time" for g in province.grids["code"]),
        )
        cur.execute(
            "INSERT INTO staff_assignments (staff_id, grid_code, role, start_date) "
            "SELECT s.id, g.code, 'leader', CURRENT_DATE - 365 FROM grids g "
            "JOIN staff s ON s.code = 'S' || g.code"
        )
        _copy(
            cur,
            "buildings (code, name, community_code, household_count, location)",
            _building_rows(province),
        )
        progress("楼栋已写入")
        cur.execute("SELECT id, code FROM buildings")
        ids = {code: i for i, code in cur.fetchall()}
        households = _copy(
            cur,
            "households (building_id, unit, room, location)",
            _household_rows(province, ids, seed),
        )
        raw.commit()
        progress(f"住户已写入：{households:,}")
    finally:
        raw.close()
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return LoadReport(counties, len(province.grids), len(province.buildings), households)


def _copy(cur, target: str, rows: Iterator[str]) -> int:  # type: ignore[no-untyped-def]
    n = 0
    with cur.copy(f"COPY {target} FROM STDIN") as copy:
        buffer = io.StringIO()
        for row in rows:
            buffer.write(row)
            buffer.write("\n")
            n += 1
            if n % 50_000 == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())
    return n


def _ewkb(geoms: np.ndarray) -> np.ndarray:
    return shapely.to_wkb(shapely.set_srid(geoms, 4490), hex=True, include_srid=True)


_KIND = {"county": "county", "township": "street", "community": "residents"}


def _area_rows(p: SyntheticProvince) -> Iterator[str]:
    areas = p.areas[p.areas["level"].isin(list(_KIND))]
    geoms = _ewkb(_as_multi(areas.geometry.to_numpy()))
    for (code, name, level, parent), wkb in zip(
        areas[["code", "name", "level", "parent_code"]].itertuples(index=False), geoms, strict=True
    ):
        yield f"{code}\t{name}\t{level}\t{_KIND[level]}\t{parent or chr(92) + 'N'}\t{wkb}"


def _grid_rows(p: SyntheticProvince) -> Iterator[str]:
    geoms = _ewkb(_as_multi(p.grids.geometry.to_numpy()))
    for (code, name, community), wkb in zip(
        p.grids[["code", "name", "community_code"]].itertuples(index=False), geoms, strict=True
    ):
        yield f"{code}\t{name}\t{community}\tactive\t{wkb}"


def _building_rows(p: SyntheticProvince) -> Iterator[str]:
    geoms = _ewkb(p.buildings.geometry.to_numpy())
    for (code, community, households), wkb in zip(
        p.buildings[["code", "community_code", "households"]].itertuples(index=False),
        geoms,
        strict=True,
    ):
        yield f"{code}\t{code}\t{community}\t{households}\t{wkb}"


def _household_rows(p: SyntheticProvince, ids: dict[str, int], seed: int) -> Iterator[str]:
    """Each building's households a few metres around it (inside its grid in all but rare cases)."""
    rng = np.random.default_rng(seed + 1)
    xy = shapely.get_coordinates(p.buildings.geometry.to_numpy())
    counts = p.buildings["households"].to_numpy()
    building_ids = np.array([ids[c] for c in p.buildings["code"]])
    for start in range(0, len(xy), 10_000):
        stop = start + 10_000
        n = counts[start:stop]
        owner = np.repeat(building_ids[start:stop], n)
        # The j-th household of its building: unit j // 6 + 1, room 101 … 106.
        j = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
        pts = np.repeat(xy[start:stop], n, axis=0) + rng.normal(0, 0.00003, (int(n.sum()), 2))
        wkbs = _ewkb(shapely.points(pts))
        for bid, k, wkb in zip(owner, j, wkbs, strict=True):
            yield f"{bid}\t{k // 6 + 1}\t{101 + k % 6}\t{wkb}"


def _as_multi(geoms: np.ndarray) -> np.ndarray:
    out = np.empty(len(geoms), dtype=object)
    for i, g in enumerate(geoms):
        out[i] = g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g])
    return out
