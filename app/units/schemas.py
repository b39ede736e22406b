"""Request and response shapes for units, members, the routing table and the dispatch picker."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field, model_validator

Kind = Literal["grid", "community", "township", "county", "department", "agency"]
Tier = Literal["grid", "community", "township", "county"]
AREA = r"^[0-9]{6}([0-9]{3}){0,3}$"
CODE = r"^[A-Za-z0-9_-]{2,40}$"


class UnitIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    kind: Kind
    area_code: str = Field(pattern=AREA, description="the jurisdiction: cases in it may go here")
    parent_code: str | None = Field(default=None, pattern=CODE)
    phone: str | None = Field(default=None, max_length=32)
    active: bool = True


class UnitCreate(UnitIn):
    code: str = Field(pattern=CODE)


class UnitPublic(UnitCreate):
    kind_label: str


class MemberIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    valid_from: dt.date
    valid_to: dt.date | None = None

    @model_validator(mode="after")
    def _dates(self) -> MemberIn:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to 不能早于 valid_from")
        return self


class MemberPublic(MemberIn):
    id: int
    unit_code: str
    full_name: str | None = None


class RuleIn(BaseModel):
    category_code: str = Field(min_length=1, max_length=16)
    area_code: str = Field(pattern=AREA)
    unit_code: str | None = Field(default=None, pattern=CODE)
    tier: Tier | None = None
    note: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _one_target(self) -> RuleIn:
        if (self.unit_code is None) == (self.tier is None):
            raise ValueError("请指定承办单位（unit_code）或承办层级（tier），二者选一")
        return self


class RulePublic(RuleIn):
    id: int
    category_name: str | None = None
    unit_name: str | None = None


class PersonOut(BaseModel):
    username: str
    name: str


class DispatchOption(BaseModel):
    code: str
    name: str
    kind: str
    kind_label: str
    area_code: str
    phone: str | None
    suggested: bool
    staff: list[PersonOut]


class DispatchOptions(BaseModel):
    incident_id: int
    suggested: str | None = Field(description="the routing table's unit, listed first")
    units: list[DispatchOption]
