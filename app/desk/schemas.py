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
    # None: the server makes a strong initial password and answers it once.
    password: str | None = Field(default=None, max_length=128)


class Eligible(BaseModel):
    """A building leader or unit steward of the area and the login they have, if any."""

    staff_code: str
    name: str
    role: str
    role_label: str
    building_name: str
    unit: str | None
    grid_code: str
    username: str | None  # their login; None: none yet


class EligibleList(BaseModel):
    data: list[Eligible]


class LoginGranted(BaseModel):
    username: str
    role: str
    role_label: str
    jurisdiction_code: str
    staff_code: str
    message: str
    initial_password: str | None = None  # only when the server made it: shown once
