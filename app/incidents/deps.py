"""Dependencies shared by the incident and Open311 routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.incidents.calendar import WorkingCalendar, default_calendar
from app.incidents.config import IncidentSettings, get_incident_settings
from app.incidents.storage import LocalPhotoStorage, PhotoStorage
from app.locate.registry import RegistrySnapshot


def _settings(request: Request) -> IncidentSettings:
    # Tests (and embedders) may pin settings on the app; otherwise the environment decides.
    return getattr(request.app.state, "incident_settings", None) or get_incident_settings()


def _calendar() -> WorkingCalendar:
    return default_calendar()


def _snapshot(request: Request) -> RegistrySnapshot:
    return request.app.state.registry.snapshot()


def _storage(request: Request) -> PhotoStorage:
    return LocalPhotoStorage(request.app.state.settings.data_dir / "incident_photos")


IncidentSettingsDep = Annotated[IncidentSettings, Depends(_settings)]
CalendarDep = Annotated[WorkingCalendar, Depends(_calendar)]
SnapshotDep = Annotated[RegistrySnapshot, Depends(_snapshot)]
StorageDep = Annotated[PhotoStorage, Depends(_storage)]
