"""Roads and door numbers as the API reads and writes them (docs/addresses.md#editing)."""

from __future__ import annotations

from pydantic import BaseModel, Field

Coordinate = tuple[float, float]


class RoadIn(BaseModel):
    county_code: str = Field(pattern=r"^[0-9]{6}$", description="县级区划编码")
    name: str = Field(min_length=1, max_length=60, description="道路名称，如“人民路”")
    aliases: list[str] = Field(default_factory=list, max_length=20, description="曾用名")
    first_number: int | None = Field(default=None, ge=0, le=99_999)
    last_number: int | None = Field(default=None, ge=1, le=99_999)
    odd_side: str = Field(default="left", pattern="^(left|right)$", description="单号在左或右")
    line: list[Coordinate] | None = Field(
        default=None,
        min_length=2,
        max_length=5000,
        description="中心线 [[经度,纬度],…]（CGCS2000）",
    )


class RoadPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=60)
    aliases: list[str] | None = Field(default=None, max_length=20)
    first_number: int | None = Field(default=None, ge=0, le=99_999)
    last_number: int | None = Field(default=None, ge=1, le=99_999)
    odd_side: str | None = Field(default=None, pattern="^(left|right)$")
    line: list[Coordinate] | None = Field(default=None, min_length=2, max_length=5000)


class RoadOut(BaseModel):
    id: int
    county_code: str
    name: str
    aliases: list[str]
    first_number: int | None
    last_number: int | None
    odd_side: str
    line: list[Coordinate] | None
    doors: int


class DoorIn(BaseModel):
    road_id: int = Field(ge=1, le=2_147_483_647)
    number: str = Field(min_length=1, max_length=12, description="门牌号，如 15、15-1、十五")
    lng: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    building_codes: list[str] = Field(default_factory=list, max_length=500)


class DoorPatch(BaseModel):
    lng: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    interpolate: bool = Field(default=False, description="丢弃实测点，沿道路插值定位")
    building_codes: list[str] | None = Field(default=None, max_length=500)


class DoorOut(BaseModel):
    id: int
    road_id: int
    road: str
    number: int
    suffix: str
    label: str
    community_code: str
    located: str
    lng: float
    lat: float
    building_codes: list[str]
