"""Visit rules that are local practice, hence settings: the ``settings.visits`` section of the one
Settings object (environment ``GRIDGOV_VISITS__<NAME>``, e.g. ``GRIDGOV_VISITS__FAR_DISTANCE_M``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class VisitSettings(BaseModel):
    far_distance_m: float = Field(
        default=200.0, gt=0, description="GPS farther than this from the household flags the visit"
    )
    future_tolerance_s: float = Field(
        default=300.0,
        ge=0,
        description="phone clocks drift: a visit this far ahead is still accepted",
    )
    coverage_target: float = Field(
        default=0.9,
        ge=0,
        le=1,
        description="share of households visited in a year below which a grid is a finding",
    )
    photo_max_bytes: int = 5 * 1024 * 1024
