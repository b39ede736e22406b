"""The public entry of the coverage audit: checks in order, timed, gathered into one frame."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from gis.coverage.findings import COLUMNS, KINDS, Findings
from gis.coverage.layers import build_layers, check_inputs, metric_crs_for
from gis.coverage.micro import find_micro_grids
from gis.coverage.points import (
    find_band,
    find_building_splits,
    find_buildings_outside,
    find_households_outside,
)
from gis.coverage.polygons import (
    find_crossings,
    find_gaps,
    find_overlaps,
    find_thin_grids,
    flag_unmatched,
)
from gis.coverage.tolerances import CoverageTolerances

logger = logging.getLogger("gis.coverage")

_SEVERITY_ORDER = {"error": 0, "warning": 1}


def audit_coverage(
    communities: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    *,
    buildings: gpd.GeoDataFrame | None = None,
    households: gpd.GeoDataFrame | None = None,
    micro_grids: gpd.GeoDataFrame | None = None,
    tolerances: CoverageTolerances = CoverageTolerances(),
) -> gpd.GeoDataFrame:
    """Find the geometric defects of a grid coverage (docs/domain.md#audit-findings).

    Reports invalid geometry (auditing on with a repaired copy), gaps inside communities, overlaps
    between grids, slivers, grids crossing their community, households and buildings outside every
    grid, footprints split between grids and comprehensive grids outside the household band.
    Areas are measured in the CGCS2000 Gauss-Krüger zone of the data; points are located in the
    storage CRS, as routing does. Database-only findings (leaders, visits, overdue cases) are the
    audit service's.

    Parameters
    ----------
    communities : GeoDataFrame
        Columns ``code`` and polygon ``geometry``, in EPSG:4490 (or EPSG:4326).
    grids : GeoDataFrame
        Columns ``code``, ``community_code`` and polygon ``geometry``. Optional ``households``
        (count per grid; NaN or absent: counted from ``households`` points) and ``type``
        ("comprehensive", "dedicated", "micro"; null or absent: comprehensive). Micro-grids nest
        inside grids by design and are skipped; only comprehensive grids are held to the band.
    buildings : GeoDataFrame, optional
        Columns ``code`` and ``geometry``: footprint polygon or location point.
    households : GeoDataFrame, optional
        Columns ``id`` and point ``geometry``.
    micro_grids : GeoDataFrame, optional
        Columns ``code``, ``grid_code`` and polygon ``geometry``: the micro-grids (微网格) inside
        the grids, audited by gis.coverage.micro (outside their grid, overlapping each other, gaps
        inside a grid that has them, its households in none, outside their band). They are never
        counted as overlapping their grid.
    tolerances : CoverageTolerances, optional
        Noise floors, sliver thresholds, crossing and split tolerances, household band.

    Returns
    -------
    GeoDataFrame
        One row per finding in the inputs' CRS, ordered by kind (as in ``FINDING_KINDS``), severity
        and objects, with columns:

        - ``kind``: invalid_geometry, gap, overlap, sliver, crosses_community, household_outside,
          building_outside, building_split, household_band, then the micro-grid kinds
          (gis.coverage.micro.MICRO_KINDS).
        - ``severity``: "error", or "warning" for thin grids, split buildings and the band.
        - ``objects``: list of str, the subject first: ``[community, *adjacent grids]`` for a
          gap or gap sliver, ``[grid_a, grid_b]`` for an overlap, ``[grid, community]`` for a
          crossing, ``[household or building, community it lies in?]`` for one outside,
          ``[building, *grids by descending share]`` for a split, ``[grid]`` otherwise.
        - ``geometry``: where to draw it (the piece, the outside part, the point or footprint,
          the location of the invalidity); None only for a record with no location.
        - ``area_m2``: the piece's area, the part outside the community, the part of a split
          footprint outside its main grid; NaN where no area applies.
        - ``message``: Simplified Chinese naming the objects and the amount.

    Raises
    ------
    ValueError
        If a CRS is missing, not lon/lat, or differs between inputs, or a required column is
        missing.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> c = gpd.GeoDataFrame(
    ...     {"code": ["419901001001"]}, geometry=[box(114, 34, 114.002, 34.001)], crs=4490)
    >>> g = gpd.GeoDataFrame(
    ...     {"code": ["419901001001001"], "community_code": ["419901001001"]},
    ...     geometry=[box(114, 34, 114.001, 34.001)], crs=4490)
    >>> found = audit_coverage(c, g)
    >>> found[["kind", "objects"]].to_dict("records")
    [{'kind': 'gap', 'objects': ['419901001001', '419901001001001']}]
    >>> found["message"].iloc[0]
    '社区 419901001001 内有 10247.4 平方米未被任何网格覆盖（相邻网格：419901001001001）'
    """
    storage_crs = check_inputs(
        {
            "communities": communities,
            "grids": grids,
            "buildings": buildings,
            "households": households,
        }
    )
    metric_crs = metric_crs_for([communities, grids, buildings, households])
    if metric_crs is None:
        return _assemble([], storage_crs)

    invalid = Findings(storage_crs)
    with _timed("invalid_geometry"):
        layers = build_layers(communities, grids, storage_crs, metric_crs, invalid)
        tree_m = shapely.STRtree(layers.grid_m)
        tree_ll = shapely.STRtree(layers.grid_ll)
        shapely.prepare(layers.grid_ll)
    batches = [invalid]
    with _timed("coverage_invalid_edges"):
        flagged = flag_unmatched(layers.grid_m)
    with _timed("gap"):
        batches.append(find_gaps(layers, tree_m, flagged, tolerances))
    with _timed("overlap"):
        batches.append(find_overlaps(layers, tree_m, flagged, tolerances))
    with _timed("sliver"):
        batches.append(find_thin_grids(layers, tolerances))
    with _timed("crosses_community"):
        batches.append(find_crossings(layers, tolerances))

    counts = np.zeros(len(layers.grid_codes))
    if households is not None:
        with _timed("household_outside"):
            batches.append(find_households_outside(layers, tree_ll, households, counts))
    if buildings is not None:
        with _timed("building_outside"):
            batches.append(find_buildings_outside(layers, tree_ll, buildings))
        with _timed("building_split"):
            batches.append(find_building_splits(layers, tree_ll, tree_m, buildings, tolerances))
    with _timed("household_band"):
        # The grids' own count wins; points fill in only where it is unknown and points were given.
        known = np.isfinite(layers.grid_households)
        fallback = counts if households is not None else np.full(len(counts), np.nan)
        batches.append(
            find_band(layers, np.where(known, layers.grid_households, fallback), tolerances)
        )
    if micro_grids is not None:
        with _timed("micro_grids"):
            batches.append(
                find_micro_grids(grids, micro_grids, households, tolerances, storage_crs)
            )
    with _timed("assemble"):
        return _assemble(batches, storage_crs)


@contextmanager
def _timed(step: str) -> Iterator[None]:
    """Log each step's wall time at DEBUG (``extra``: step, seconds) so callers can see the cost."""
    start = time.perf_counter()
    yield
    seconds = time.perf_counter() - start
    logger.debug(
        "coverage step %s took %.3f s", step, seconds, extra={"step": step, "seconds": seconds}
    )


def _assemble(batches: list[Findings], crs: pyproj.CRS) -> gpd.GeoDataFrame:
    frames = [b.frame(crs) for b in batches if b.kind]
    if not frames:
        return gpd.GeoDataFrame(
            {
                c: pd.Series(dtype=float if c == "area_m2" else object)
                for c in COLUMNS
                if c != "geometry"
            },
            geometry=gpd.GeoSeries([], crs=crs),
        )[list(COLUMNS)]
    found = pd.concat(frames, ignore_index=True)
    order = pd.DataFrame(
        {
            "kind": found["kind"].map(KINDS.index),
            "severity": found["severity"].map(_SEVERITY_ORDER),
            "objects": found["objects"].map("\x1f".join),
        }
    )
    ranked = order.sort_values(["kind", "severity", "objects"], kind="stable").index
    return gpd.GeoDataFrame(found.loc[ranked].reset_index(drop=True), geometry="geometry", crs=crs)
