"""What the register's API reads and answers (docs/register.md#api)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.params import IdField

Kind = Literal["person", "house", "organisation", "household"]
ActionName = Literal["create", "update", "move", "remove"]


class PersonOut(BaseModel):
    """A person as the caller may see them: ID number, name, phone and address masked unless the
    role may see them there; special groups only for roles that work with them (else null)."""

    id: int
    version: int
    grid_code: str
    name: str | None
    gender: str | None
    birth_date: str | None
    id_type: str
    id_number: str
    phone: str | None
    ethnicity: str | None
    residence_type: str
    registered_address: str | None
    household_id: int | None
    relation: str | None
    house_id: int | None
    special_groups: list[str] | None
    party_member: bool
    status: str
    masked: bool


class HouseOut(BaseModel):
    id: int
    version: int
    grid_code: str
    building_id: int
    building_name: str | None
    address: str | None
    unit: str
    room: str
    room_id: int | None
    door_number_id: int | None
    use: str
    landlord_person_id: int | None
    landlord_name: str | None
    landlord_phone: str | None
    area_m2: float | None
    household_id: int | None
    status: str
    masked: bool
    residents: list[PersonOut] | None = None


class OrganisationOut(BaseModel):
    id: int
    version: int
    grid_code: str
    kind: str
    name: str
    credit_code: str | None
    address: str | None
    building_id: int | None
    lon: float | None
    lat: float | None
    contact_name: str | None
    contact_phone: str | None
    employees: int | None
    status: str
    masked: bool


class Page(BaseModel):
    count: int
    next_offset: int | None


class PersonsOut(Page):
    data: list[PersonOut]


class HousesOut(Page):
    data: list[HouseOut]


class OrganisationsOut(Page):
    data: list[OrganisationOut]


class HistoryEntry(BaseModel):
    version: int
    data: dict[str, Any]
    proposal_id: int | None
    changed_by: str
    changed_at: str


class HistoryOut(BaseModel):
    data: list[HistoryEntry]


class ProposalIn(BaseModel):
    """A change to the register. ``client_id`` makes it idempotent: a phone that sends the same
    queued change twice gets the same proposal back."""

    client_id: uuid.UUID
    kind: Kind
    action: ActionName
    target_id: IdField | None = None
    base_version: int | None = Field(default=None, ge=1)
    fields: dict[str, Any] = Field(default_factory=dict)
    note: str | None = Field(default=None, max_length=500)
    confirm: bool = Field(
        default=False,
        description="a resident's change: the building leader or unit steward confirms it first",
    )


class DiffLine(BaseModel):
    field: str
    label: str
    before: Any
    after: Any


class ProposalOut(BaseModel):
    id: int
    client_id: uuid.UUID
    kind: str
    action: str
    target_id: int | None
    record_id: int | None
    base_version: int | None
    grid_code: str
    from_grid_code: str | None
    state: str
    state_label: str
    summary: str
    diff: list[DiffLine]
    proposed_by: str
    proposed_at: str
    confirmed_by: str | None
    reviewed_by: str | None
    reviewed_at: str | None
    reason: str | None
    note: str | None


class ProposalsOut(BaseModel):
    data: list[ProposalOut]
    count: int
    next_before_id: int | None


class ReturnIn(BaseModel):
    reason: str = Field(min_length=2, max_length=500)


class LookupIn(BaseModel):
    id_number: str = Field(min_length=1, max_length=40)
    id_type: str = "111"


class ImportReport(BaseModel):
    kind: str
    dry_run: bool
    rows: int
    added: int
    changed: int
    unchanged: int
    rejected: list[dict[str, Any]]
