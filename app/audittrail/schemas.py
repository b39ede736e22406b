from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field


class AuditEventPublic(BaseModel):
    id: int = Field(description="position in the hash chain (1, 2, 3 … without gaps)")
    at: dt.datetime
    actor: str | None = Field(description="username; null for an anonymous caller")
    address: str | None = Field(description="client address")
    action: str = Field(description="e.g. auth.login, http.write, personal.read, audit.purge")
    object: str = Field(description="what it was done to: a path template, household:123 …")
    outcome: str = Field(description="success | failure | refused | error")
    detail: dict[str, Any] | None
    prev_hash: str
    hash: str


class AuditTrailPage(BaseModel):
    data: list[AuditEventPublic]
    count: int = Field(description="events on this page")
    total: int = Field(description="events matching the filters")
    offset: int
    limit: int
