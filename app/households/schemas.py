from pydantic import BaseModel


class HouseholdPublic(BaseModel):
    """A household as the caller may see it: names and phones masked unless the role may see them,
    special groups only for roles that work with them."""

    id: int
    building_code: str
    address: str | None
    unit: str
    room: str
    size: int
    head_name: str | None
    phone: str | None
    special_groups: list[str] | None
    grid_code: str | None
    masked: bool


class HouseholdsPublic(BaseModel):
    data: list[HouseholdPublic]
    count: int


class AccessLogEntry(BaseModel):
    at: str
    username: str
    role: str
    household_id: int
    purpose: str


class AccessLogPublic(BaseModel):
    data: list[AccessLogEntry]
    count: int
