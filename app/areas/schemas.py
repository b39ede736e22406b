from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class AreaRef(BaseModel):
    code: str
    name: str


class PointOut(BaseModel):
    lng: float = Field(description="CGCS2000 longitude the lookup used")
    lat: float
    input_lng: float
    input_lat: float
    input_crs: str


class AreasAtPublic(BaseModel):
    """The areas holding a point on a day, one per level (null where none holds it)."""

    point: PointOut
    date: dt.date
    province: AreaRef | None = Field(description="省级 (2-digit code)")
    prefecture: AreaRef | None = Field(
        description="地级: city, autonomous prefecture, league (4-digit)"
    )
    county: AreaRef | None = Field(description="县级 (6-digit)")
    township: AreaRef | None = Field(description="乡镇/街道 (9-digit)")
    community: AreaRef | None = Field(description="村/社区 (12-digit)")
    message: str
