"""What the building desk takes and answers."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from app.auth.schemas import USERNAME


class Post(BaseModel):
    """A building (or one unit of it) the caller looks after."""

    building_id: int
    building_name: str
    compound: str | None
    unit: str | None  # a unit steward's unit; None: the whole building
    grid_code: str
    lng: float
    lat: float


class DeskCase(BaseModel):
    id: int
    case_no: str
    category_name: str
    state: str
    description: str
    address: str | None
    reported_at: dt.datetime
    building_id: int


class Desk(BaseModel):
    role_label: str
    posts: list[Post]
    cases: list[DeskCase]


class LoginGrant(BaseModel):
    staff_code: str = Field(max_length=32)
    username: str = USERNAME
    password: str = Field(max_length=128)


class LoginGranted(BaseModel):
    username: str
    role: str
    role_label: str
    jurisdiction_code: str
    staff_code: str
    message: str
