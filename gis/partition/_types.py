"""Result types of the grid partition: what came out, and what could not be met."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd

OVERSIZE_BUILDING = "oversize_building"
"""One building alone holds more households than the band allows; it is a grid of its own."""
BAND_INFEASIBLE = "band_infeasible"
"""A grid is outside the household band and no contiguous arrangement of whole buildings fixes it."""
BARRIER_CROSSED = "barrier_crossed"
"""A grid spans a road, river or wall because nothing on one side could stand alone."""
NOT_CONTIGUOUS = "not_contiguous"
"""A grid is in several pieces (only when the input forces it, e.g. a multi-part footprint)."""
BUILDING_OUTSIDE = "building_outside"
"""A building lies outside the area being divided and was left out."""
BUILDING_SPLIT = "building_split"
"""A building straddles a boundary this call may not move (incremental mode, dedicated overlap)."""
EMPTY_AREA = "empty_area"
"""Land without households that could only be attached to a dedicated grid or left on its own."""
GEOMETRY_REPAIRED = "geometry_repaired"
"""An input polygon was invalid and was repaired before use."""

# Issues that mean the household band (or contiguity) was not met somewhere.
INFEASIBLE_KINDS = frozenset({OVERSIZE_BUILDING, BAND_INFEASIBLE, NOT_CONTIGUOUS})


@dataclass(frozen=True)
class PartitionIssue:
    """One thing the partition could not do as asked, with where and why.

    Attributes
    ----------
    kind : str
        Machine-readable kind, one of the module constants (``"oversize_building"``,
        ``"band_infeasible"``, ``"barrier_crossed"``, ...).
    message_zh : str
        The explanation shown to the planner, in Simplified Chinese.
    building_ids : tuple
        Ids of the buildings concerned (may be empty).
    grid_index : int or None
        ``index`` of the grid concerned in :attr:`PartitionResult.grids`, if any.
    """

    kind: str
    message_zh: str
    building_ids: tuple[object, ...] = ()
    grid_index: int | None = None


@dataclass
class PartitionResult:
    """Grids produced by :func:`gis.partition.partition_community` or ``repartition``.

    Attributes
    ----------
    grids : GeoDataFrame
        One row per grid, EPSG:4490, columns ``index`` (0..n-1, rows west to east within
        north-to-south bands), ``kind`` (``"comprehensive"`` or ``"dedicated"``), ``households``,
        ``building_ids`` (list), ``compactness`` (Polsby-Popper 4πA/P², in metres) and
        ``geometry``; after ``repartition`` also ``source_id`` (the input id of a grid kept
        unchanged, else ``None``).
    issues : list of PartitionIssue
        Everything that could not be met, each with a reason in Chinese.
    feasible : bool
        True when every comprehensive grid is contiguous and inside the household band.
    """

    grids: gpd.GeoDataFrame
    issues: list[PartitionIssue] = field(default_factory=list)
    feasible: bool = True
