from pydantic import BaseModel, Field

from app.locate.schemas import LocatePublic


class BuildingOut(BaseModel):
    code: str
    name: str
    compound: str
    address: str


class DoorOut(BaseModel):
    """A door number (门牌号) on a road (docs/addresses.md)."""

    id: int
    label: str = Field(description="如“人民路15号”")
    road: str
    number: int
    suffix: str
    located: str = Field(description="surveyed（实测点）或 interpolated（沿道路插值）")


class AreaOut(BaseModel):
    """A township or community answered as itself, with its active grids."""

    code: str
    name: str
    level: str
    grids: list[str]


class CandidateOut(BaseModel):
    building: BuildingOut | None
    door: DoorOut | None = None
    area: AreaOut | None = None
    community: str
    township: str
    level: str
    score: float
    matched_on: str
    lng: float
    lat: float


class GeocodePublic(BaseModel):
    """An address matched to a building, a door number or an area; a building or door is then
    located like a point, an area is answered with its grids (docs/addresses.md#match-levels)."""

    address: str
    match_level: str = Field(
        description="room | building | door | compound | road | community | township"
    )
    score: float
    matched_on: str
    ambiguous: bool
    certain: bool = Field(
        description="可直接采用：唯一、非模糊匹配、达到所问的层级；歧义时恒为 false"
    )
    unit: str | None
    room: str | None
    building: BuildingOut | None
    door: DoorOut | None = None
    area: AreaOut | None = None
    location: LocatePublic | None = Field(description="楼栋或门牌所在网格；社区、乡镇级答案为空")
    candidates: list[CandidateOut]
