"""Micro-grid request bodies (docs/domain.md#micro-grids)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

NAME = Field(min_length=1, max_length=100, description="名称，如 “3号楼微网格”")
GEOMETRY_DOC = "GeoJSON Polygon or MultiPolygon, CGCS2000 lon/lat; must lie inside the grid"


class MicroGridCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grid_code: str = Field(pattern=r"^[0-9]{15}$", description="the comprehensive grid (15 digits)")
    name: str = NAME
    geometry: dict[str, Any] = Field(description=GEOMETRY_DOC)
    steward_staff_id: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="staff id of the 单元管家/楼栋长"
    )
    code: str | None = Field(
        default=None,
        pattern=r"^[0-9]{17}$",
        description="17 digits (the grid's 15 + a serial); default: the next unused serial",
    )


class MicroGridUpdate(BaseModel):
    """Only the fields sent are changed; ``steward_staff_id: null`` clears the steward."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    geometry: dict[str, Any] | None = Field(default=None, description=GEOMETRY_DOC)
    steward_staff_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
