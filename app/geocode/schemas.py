from pydantic import BaseModel

from app.locate.schemas import LocatePublic


class BuildingOut(BaseModel):
    code: str
    name: str
    compound: str
    address: str


class CandidateOut(BaseModel):
    building: BuildingOut
    community: str
    township: str
    level: str
    score: float
    matched_on: str
    lng: float
    lat: float


class GeocodePublic(BaseModel):
    """An address matched to a building, then located like a point."""

    address: str
    match_level: str
    score: float
    matched_on: str
    ambiguous: bool
    unit: str | None
    room: str | None
    building: BuildingOut
    location: LocatePublic
    candidates: list[CandidateOut]
