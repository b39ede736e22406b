from pydantic import BaseModel, Field


class AreaOut(BaseModel):
    code: str
    name: str


class PersonOut(BaseModel):
    name: str
    phone: str | None
    employment: str


class GridOut(BaseModel):
    code: str
    name: str
    type: str


class MicroGridOut(BaseModel):
    code: str = Field(description="17 digits: the grid's 15 + a serial")
    name: str
    grid_code: str
    steward: str | None = Field(description="单元管家/楼栋长 (name)")


class NearestOut(BaseModel):
    grid: GridOut
    distance_m: float


class PointOut(BaseModel):
    lng: float
    lat: float
    crs: str = "cgcs2000"
    input_lng: float
    input_lat: float
    input_crs: str


class LocatePublic(BaseModel):
    """Which grid a point is in, and who answers for it."""

    point: PointOut
    found: bool
    grid: GridOut | None = None
    leader: PersonOut | None = None
    workers: list[PersonOut] = []
    community: AreaOut | None = None
    township: AreaOut | None = None
    county: AreaOut | None = None
    prefecture: AreaOut | None = Field(default=None, description="地级 (4-digit code)")
    province: AreaOut | None = Field(default=None, description="省级 (2-digit code)")
    near_edge: bool = False
    edge_distance_m: float | None = None
    nearest: NearestOut | None = None
    micro_grid: MicroGridOut | None = Field(
        default=None, description="the micro-grid (微网格) holding the point, if any"
    )
    message: str
