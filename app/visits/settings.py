"""Visit rules that are local practice, hence settings (env prefix ``GRIDGOV_VISIT_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class VisitSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRIDGOV_VISIT_", env_file=".env", extra="ignore")

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


@lru_cache
def get_visit_settings() -> VisitSettings:
    return VisitSettings()
