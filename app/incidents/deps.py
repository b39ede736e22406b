"""Dependencies shared by the incident and Open311 routers.

All ``async def``: they do no I/O, and a plain ``def`` dependency costs a trip through the threadpool
on every request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from app.incidents.calendar import WorkingCalendar, default_calendar
from app.incidents.config import IncidentSettings
from app.incidents.storage import LocalPhotoStorage, PhotoStorage
from app.locate.registry import RegistrySnapshot


async def _settings(request: Request) -> IncidentSettings:
    settings: IncidentSettings = request.app.state.settings.incidents
    return settings


async def _calendar() -> WorkingCalendar:
    return default_calendar()


async def _snapshot(request: Request) -> RegistrySnapshot:
    return request.app.state.registry.snapshot()


async def _storage(request: Request) -> PhotoStorage:
    return LocalPhotoStorage(request.app.state.settings.data_dir / "incident_photos")


IncidentSettingsDep = Annotated[IncidentSettings, Depends(_settings)]
CalendarDep = Annotated[WorkingCalendar, Depends(_calendar)]
SnapshotDep = Annotated[RegistrySnapshot, Depends(_snapshot)]
StorageDep = Annotated[PhotoStorage, Depends(_storage)]


@dataclass(frozen=True)
class IntakeContext:
    """Everything intake needs besides the caller, as one dependency: FastAPI's cost is per
    dependency, and ``POST /incidents`` is the hot path."""

    settings: IncidentSettings
    calendar: WorkingCalendar
    snapshot: RegistrySnapshot
    storage: PhotoStorage


async def _intake_context(request: Request) -> IntakeContext:
    return IntakeContext(
        settings=await _settings(request),
        calendar=await _calendar(),
        snapshot=await _snapshot(request),
        storage=await _storage(request),
    )


IntakeContextDep = Annotated[IntakeContext, Depends(_intake_context)]
