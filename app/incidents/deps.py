"""Dependencies shared by the incident and Open311 routers.

All ``async def``: they do no I/O, and a plain ``def`` dependency costs a trip through the threadpool
on every request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.incidents.calendar import WorkingCalendar, default_calendar
from app.incidents.config import IncidentSettings, get_incident_settings
from app.incidents.storage import LocalPhotoStorage, PhotoStorage
from app.locate.registry import RegistrySnapshot


async def _settings(request: Request) -> IncidentSettings:
    # Tests (and embedders) may pin settings on the app; otherwise the environment decides.
    return getattr(request.app.state, "incident_settings", None) or get_incident_settings()


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
