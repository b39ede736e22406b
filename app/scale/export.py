"""GeoParquet export of the registry and its records, partitioned by province and county
(docs/scale.md#the-export).

``DIR/<table>/province=PP/county=CCCCCC/part-0.parquet``: GeoParquet 1.1 files in CGCS2000
(EPSG:4490) with a ``bbox`` covering column, so readers can skip files and row groups by extent.
Each county is queried and written on its own, so memory follows the largest county, not the
province. Personal fields never leave: households go out as an id, a building and a point; cases
without reporter, description or address.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.auth.policy import system_principal
from app.auth.scope import scope_of
from app.base import SRID
from app.errors import Conflict
from app.incidents.calendar import TZ
from app.scale.kpis import county_counts, month_starts

# table -> SELECT of its rows in one county (:county, a 6-digit prefix); the last column is WKB.
QUERIES: dict[str, str] = {
    "areas": (
        "SELECT code, name, level, parent_code, ST_AsBinary(geom) FROM areas "
        "WHERE valid_to IS NULL AND level IN ('county', 'township', 'community') "
        "AND left(code, 6) = :county ORDER BY code"
    ),
    "grids": (
        "SELECT code, name, community_code, type, ST_AsBinary(geom) FROM grids "
        "WHERE status = 'active' AND left(code, 6) = :county ORDER BY code"
    ),
    "buildings": (
        "SELECT code, community_code, household_count, "
        "ST_AsBinary(coalesce(footprint, location)) FROM buildings "
        "WHERE left(community_code, 6) = :county ORDER BY code"
    ),
    "households": (
        "SELECT h.id, b.code AS building_code, b.community_code, ST_AsBinary(h.location) "
        "FROM households h JOIN buildings b ON b.id = h.building_id "
        "WHERE left(b.community_code, 6) = :county ORDER BY h.id"
    ),
    "visits": (
        "SELECT id, household_id, grid_code, visited_at, kind, ST_AsBinary(location) FROM visits "
        "WHERE left(grid_code, 6) = :county ORDER BY id"
    ),
    "incidents": (
        "SELECT id, case_no, category_code, grid_code, community_code, state, urgent, on_spot, "
        "source, reported_at, deadline, handled_at, closed_at, ST_AsBinary(location) "
        "FROM incidents WHERE left(grid_code, 6) = :county ORDER BY id"
    ),
}
# Plus kpi_counts: every KPI count per grid and month (app/scale/kpis.py), for roll-ups.
TABLES = (*QUERIES, "kpi_counts")


@dataclass(frozen=True)
class ExportReport:
    directory: Path
    counties: list[str]
    rows: dict[str, int]
    files: int
    bytes: int


def counties_of(session: Session, area_code: str | None) -> list[str]:
    """The counties with active grids under ``area_code`` (a province, city or county code; all
    when None). A county is exported whole."""
    scope = scope_of(system_principal("export")).narrow(area_code)
    rows = session.execute(
        text(
            "SELECT DISTINCT left(code, 6) FROM grids WHERE status = 'active' "
            f"AND {scope.sql('code')} ORDER BY 1"
        ),
        scope.params(),
    ).scalars()
    return list(rows)


def export_geoparquet(
    session: Session,
    directory: Path,
    *,
    area_code: str | None = None,
    overwrite: bool = False,
    tables: tuple[str, ...] = TABLES,
    progress: Callable[[str], None] = lambda _: None,
    kpi_months: tuple[dt.date, dt.date] | None = None,
    at: dt.datetime | None = None,
) -> ExportReport:
    """Write ``tables`` for every county under ``area_code`` (all when None) into ``directory``;
    KPI counts for the months ``kpi_months`` (first, last; default the twelve months to this
    one), counted as of ``at`` (default now)."""
    at = at or dt.datetime.now(dt.UTC)
    today = at.astimezone(TZ).date()
    first, last = kpi_months or (dt.date(today.year - 1, today.month, 1), today)
    months = month_starts(first, last)
    if directory.exists() and any(directory.iterdir()):
        if not overwrite:
            raise Conflict(f"导出目录 {directory} 已存在且不为空；如需覆盖请加 --overwrite")
        shutil.rmtree(directory)
    counties = counties_of(session, area_code)
    rows = dict.fromkeys(tables, 0)
    files = size = 0
    for county in counties:
        for table in tables:
            counts = table == "kpi_counts"
            frame = (
                county_counts(session, county, months, at)
                if counts
                else _county_frame(session, table, county)
            )
            if len(frame) == 0:
                continue
            target = directory / table / f"province={county[:2]}" / f"county={county}"
            target.mkdir(parents=True, exist_ok=True)
            path = target / "part-0.parquet"
            if counts:
                frame.to_parquet(path, index=False)
            else:
                frame.to_parquet(
                    path, write_covering_bbox=True, schema_version="1.1.0", index=False
                )
            rows[table] += len(frame)
            files += 1
            size += path.stat().st_size
        progress(county)
    return ExportReport(directory, counties, rows, files, size)


def _county_frame(session: Session, table: str, county: str) -> gpd.GeoDataFrame:
    result = session.execute(text(QUERIES[table]), {"county": county})
    columns = list(result.keys())[:-1]
    records = result.all()
    data = {c: [r[i] for r in records] for i, c in enumerate(columns)}
    wkb = np.array([bytes(r[-1]) if r[-1] is not None else None for r in records], dtype=object)
    geoms = shapely.from_wkb(wkb)
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=SRID), crs=SRID)
