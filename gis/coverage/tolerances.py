"""Tolerances of the spatial coverage audit, as one frozen settings object (docs/domain.md#grids,
docs/domain.md#audit-findings)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class CoverageTolerances:
    """Thresholds that decide what the coverage audit reports.

    Areas are square metres in the Gauss-Krüger zone of the data. The defaults suit grids drawn
    by hand over imagery at 0.1–1 m precision; a county may tighten or relax them as a setting.

    Parameters
    ----------
    overlap_min_m2 : float, default 1.0
        Overlap between two grids smaller than this is digitising noise and is ignored. Below one
        square metre no household or building can be assigned to one grid or the other.
    gap_min_m2 : float, default 1.0
        Same noise floor for each connected piece of a community covered by no grid.
    sliver_max_area_m2 : float, default 10.0
        A gap or overlap piece, or a whole grid, no larger than this is a sliver: too small to
        hold a building, so almost certainly an edge that was not snapped. ``0`` disables the
        area criterion.
    sliver_max_thinness : float, default 0.05
        A piece or grid whose thinness ``4πA/P²`` (1 for a circle, 0.785 for a square) is at most
        this is a sliver whatever its area. 0.05 is a 1:60 rectangle: a 10 m × 600 m strip
        qualifies, a street grid of 50 m × 1.5 km (0.098) does not. ``0`` disables the criterion.
    crossing_min_m2 : float, default 10.0
        A grid reaching outside its own community by more than this is reported; smaller
        excursions are boundary digitising differences.
    split_min_share : float, default 0.05
        A building footprint is split when the second-largest grid holds more than this share
        of its area.
    band : tuple of int, default (250, 500)
        Acceptable households per comprehensive grid, inclusive (docs/domain.md#grids: target 300,
        band 250–500).
    micro_band : tuple of int, default (50, 80)
        Acceptable households per micro-grid (微网格) inside a grid, inclusive
        (docs/domain.md#micro-grids).

    Examples
    --------
    >>> CoverageTolerances(band=(200, 400)).band
    (200, 400)
    """

    overlap_min_m2: float = 1.0
    gap_min_m2: float = 1.0
    sliver_max_area_m2: float = 10.0
    sliver_max_thinness: float = 0.05
    crossing_min_m2: float = 10.0
    split_min_share: float = 0.05
    band: tuple[int, int] = (250, 500)
    micro_band: tuple[int, int] = (50, 80)

    def __post_init__(self) -> None:
        for name in ("overlap_min_m2", "gap_min_m2", "sliver_max_area_m2", "crossing_min_m2"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if not (0 <= self.sliver_max_thinness <= 1):
            raise ValueError(
                f"sliver_max_thinness must be in [0, 1], got {self.sliver_max_thinness!r}"
            )
        if not (0 <= self.split_min_share < 1):
            raise ValueError(f"split_min_share must be in [0, 1), got {self.split_min_share!r}")
        for name in ("band", "micro_band"):
            low, high = getattr(self, name)
            if not (0 <= low <= high):
                raise ValueError(
                    f"{name} must be (low, high) with 0 <= low <= high, got {getattr(self, name)!r}"
                )
