"""The coverage audit of an export on a dask.distributed cluster: one task per county, each
running gis.coverage on its county and halo (gis/coverage/partitioned.py), gathered into one
answer equal to a single run over everything (docs/scale.md#the-audit-in-partitions).

Workers read the export themselves, so it must be on storage they all see (the same disk for a
cluster on one machine; a shared filesystem otherwise).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from app.base import SRID
from app.errors import ServiceUnavailable
from app.scale import partitions
from gis.coverage import CoverageTolerances
from gis.coverage.audit import audit_coverage
from gis.coverage.findings import COLUMNS, KINDS
from gis.coverage.partitioned import audit_partition

CONNECT_SECONDS = 10


def audit_county(
    directory: Path,
    county: str,
    tolerances: CoverageTolerances,
    all_extents: dict[str, partitions.Extent] | None = None,
) -> gpd.GeoDataFrame:
    """One task: the findings ``county`` owns (``all_extents``: every county's, read once by the
    caller rather than by each task)."""
    all_extents = all_extents or partitions.extents(directory)
    areas = partitions.read(directory, "areas", county)
    halo_communities, halo_grids = partitions.halo(directory, county, all_extents)
    return audit_partition(
        areas[areas["level"] == "community"][["code", "geometry"]],
        partitions.read(directory, "grids", county),
        partitions.read(directory, "buildings", county),
        partitions.read(directory, "households", county),
        halo_communities=halo_communities,
        halo_grids=halo_grids,
        tolerances=tolerances,
    )


def audit_on_cluster(
    directory: Path, scheduler: str, *, tolerances: CoverageTolerances
) -> gpd.GeoDataFrame:
    """Every county of the export, one task each, on the cluster at ``scheduler``."""
    from distributed import Client

    counties = partitions.counties(directory)
    all_extents = partitions.extents(directory)
    try:
        client = Client(scheduler, timeout=f"{CONNECT_SECONDS}s")
    except (OSError, TimeoutError) as exc:
        raise ServiceUnavailable(
            f"无法连接 Dask 调度器 {scheduler}（{CONNECT_SECONDS} 秒内无响应）：{exc}"
        ) from exc
    with client:
        futures = client.map(
            audit_county,
            [directory] * len(counties),
            counties,
            tolerances=tolerances,
            all_extents=all_extents,
            pure=False,
        )
        parts = client.gather(futures)
    return ordered(parts)


def audit_in_one_process(directory: Path, *, tolerances: CoverageTolerances) -> gpd.GeoDataFrame:
    """The same export audited in one run over everything: the answer the cluster must equal."""
    counties = partitions.counties(directory)

    def stack(table: str) -> gpd.GeoDataFrame:
        return partitions._stack([partitions.read(directory, table, c) for c in counties])

    areas = stack("areas")
    return ordered(
        [
            audit_coverage(
                areas[areas["level"] == "community"][["code", "geometry"]],
                stack("grids"),
                buildings=stack("buildings"),
                households=stack("households"),
                tolerances=tolerances,
            )
        ]
    )


def ordered(parts: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Findings in the audit's order: by kind, severity, then objects."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return gpd.GeoDataFrame({c: [] for c in COLUMNS if c != "geometry"}, geometry=[], crs=SRID)
    found = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
    rank = {k: i for i, k in enumerate(KINDS)}
    key = pd.DataFrame(
        {
            "kind": found["kind"].map(rank),
            "severity": found["severity"],
            "objects": found["objects"].map(lambda o: "\x00".join(map(str, o))),
        }
    )
    order = key.sort_values(["kind", "severity", "objects"], kind="stable").index
    return found.loc[order].reset_index(drop=True)
