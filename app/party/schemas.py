"""The party API's bodies and answers (docs/party.md)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from app.params import IdField

PHONE = r"^[0-9][0-9 \-]{5,19}$"
GRID = r"^[0-9]{15}$"


class OrgIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["branch", "group"]
    area_code: str = Field(pattern=r"^[0-9]{9}([0-9]{3})?$")
    parent_id: IdField | None = None
    secretary: str | None = Field(default=None, max_length=50)
    phone: str | None = Field(default=None, pattern=PHONE)
    grid_codes: list[str] = Field(default_factory=list, max_length=200)


class OrgOut(BaseModel):
    id: int
    name: str
    kind: str
    kind_label: str
    area_code: str
    area_name: str | None
    parent_id: int | None
    secretary: str | None
    phone: str | None
    grid_codes: list[str]
    members: int
    buildings_led: int


class MemberIn(BaseModel):
    name: str = Field(min_length=1, max_length=50)
    phone: str | None = Field(default=None, pattern=PHONE)
    person_id: IdField | None = None
    # The member's staff row if they serve as 楼栋长 (a 党员楼栋长)
    staff_id: IdField | None = None
    active: bool = True


class MemberOut(BaseModel):
    id: int
    org_id: int
    name: str
    phone: str | None
    person_id: int | None
    staff_id: int | None
    buildings_led: list[str]
    active: bool


class OrgGrid(BaseModel):
    grid_code: str
    org_id: int
    org_name: str
    kind: str
    kind_label: str


class DualIn(BaseModel):
    community_code: str = Field(pattern=r"^[0-9]{12}$")
    unit_code: str = Field(min_length=2, max_length=40)
    name: str = Field(min_length=1, max_length=50)
    phone: str = Field(pattern=PHONE)
    username: str | None = Field(default=None, max_length=64)
    registered_on: dt.date | None = None


class DualOut(BaseModel):
    id: int
    community_code: str
    community_name: str | None
    unit_code: str
    unit_name: str | None
    name: str
    phone: str | None
    username: str | None
    registered_on: dt.date
    active: bool
    hours: Decimal
    entries: int


class HoursIn(BaseModel):
    served_on: dt.date
    hours: Decimal = Field(gt=0, le=24, max_digits=3, decimal_places=1)
    activity: str = Field(min_length=1, max_length=200)


class HoursOut(BaseModel):
    id: int
    registration_id: int
    served_on: dt.date
    hours: Decimal
    activity: str
    recorded_by: str


class CommunityDual(BaseModel):
    community_code: str
    community_name: str | None
    members: int
    hours: Decimal


class Figures(BaseModel):
    """The party-building figures of an area, for the dashboard."""

    area_code: str
    grids: int
    grids_with_org: int
    buildings: int
    buildings_led: int
    buildings_party_led: int
    orgs: int
    party_members: int
    dual_members: int
    dual_hours: Decimal
    by_community: list[CommunityDual]
