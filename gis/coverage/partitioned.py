"""The coverage audit of one partition (a county) of a larger area, with the same answer as one run
over the whole area (docs/scale.md#the-audit-in-partitions).

A county's run sees its own communities, grids, buildings and households, and the *halo*: the
communities and grids of neighbouring partitions near it, so that findings across the county's
border (two grids of different counties overlapping, a building split between counties, a gap
against the neighbour's grid) are seen. Both sides of a border see such a finding; it is kept
only by the partition that owns its subject (``objects[0]``: the community, the first grid of a
pair, the building or household), so the union of the partitions' findings is the whole run's.

Households are counted per grid from the partition's own households only: a household of one
county standing in a grid of another (which the registry does not allow) would be missed.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from gis.coverage.audit import audit_coverage
from gis.coverage.tolerances import CoverageTolerances


def audit_partition(
    communities: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    households: gpd.GeoDataFrame,
    *,
    halo_communities: gpd.GeoDataFrame,
    halo_grids: gpd.GeoDataFrame,
    tolerances: CoverageTolerances = CoverageTolerances(),
) -> gpd.GeoDataFrame:
    """The findings this partition owns (see the module comment); columns as ``audit_coverage``.

    >>> from shapely.geometry import box
    >>> def frame(rows, geoms):
    ...     return gpd.GeoDataFrame(rows, geometry=geoms, crs=4490)
    >>> own_c = frame({"code": ["419901001001"]}, [box(114, 34, 114.01, 34.01)])
    >>> own_g = frame({"code": ["419901001001001"], "community_code": ["419901001001"]},
    ...               [box(114, 34, 114.015, 34.01)])
    >>> halo_c = frame({"code": ["419902001001"]}, [box(114.01, 34, 114.02, 34.01)])
    >>> halo_g = frame({"code": ["419902001001001"], "community_code": ["419902001001"]},
    ...                [box(114.01, 34, 114.02, 34.01)])
    >>> none = frame({"code": []}, [])
    >>> found = audit_partition(own_c, own_g, none, frame({"id": []}, []),
    ...                         halo_communities=halo_c, halo_grids=halo_g)
    >>> [(f["kind"], f["objects"]) for f in found[["kind", "objects"]].to_dict("records")]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('overlap', ['419901001001001', '419902001001001']),
     ('crosses_community', ['419901001001001', '419901001001']),
     ('household_band', ['419901001001001'])]

    The neighbour's grid is below the band too, but that finding is the neighbour's to report.
    """
    everything = audit_coverage(
        _concat(communities, halo_communities),
        _concat(grids, halo_grids),
        buildings=buildings,
        households=households,
        tolerances=tolerances,
    )
    own = (
        set(communities["code"].astype(str))
        | set(grids["code"].astype(str))
        | set(buildings["code"].astype(str))
        | set(households["id"].astype(str))
    )
    keep = everything["objects"].map(lambda objects: bool(objects) and str(objects[0]) in own)
    return everything[keep.astype(bool)].reset_index(drop=True)


def finding_keys(found: pd.DataFrame) -> set[tuple[str, tuple[str, ...]]]:
    """What identifies a finding across runs: its kind and its objects."""
    return {
        (str(kind), tuple(str(o) for o in objects))
        for kind, objects in zip(found["kind"], found["objects"], strict=True)
    }


def _concat(own: gpd.GeoDataFrame, halo: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if len(halo) == 0:
        return own
    halo = halo[[c for c in own.columns if c in halo.columns]]
    return gpd.GeoDataFrame(pd.concat([own, halo], ignore_index=True), crs=own.crs)
