"""The phone's field-work routes (docs/domain.md#field-tasks-the-phone): 我的待办, duplicates before sending,
photos of the handling or the on-site check. Declared before ``/incidents/{incident_id}``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from app.auth.deps import SessionDep
from app.auth.policy import Resource
from app.auth.scope import AreaScope, access, access_whole
from app.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from app.incidents import field, service
from app.incidents import statemachine as sm
from app.incidents.deps import IncidentSettingsDep, StorageDep
from app.incidents.schemas import IncidentPublic, IncidentsPublic
from app.incidents.storage import check_photo, photo_record
from app.params import BigId, Offset
from gis.crs import DEFAULT_CRS

router = APIRouter(prefix="/api/v1", tags=["incidents"])
Cases = Annotated[AreaScope, Depends(access(Resource.INCIDENT))]
Case = Annotated[AreaScope, Depends(access_whole(Resource.INCIDENT))]


class NearbyCase(BaseModel):
    id: int
    case_no: str
    state: str
    state_label: str
    reported_at: dt.datetime
    distance_m: float
    summary: str
    address: str | None
    grid_code: str


class NearbyOut(BaseModel):
    count: int
    data: list[NearbyCase]


@router.get("/incidents/mine", response_model=IncidentsPublic)
def my_cases(
    session: SessionDep,
    scope: Cases,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> IncidentsPublic:
    """我的待办: the cases waiting on the caller (their units' cases, those assigned to them, and
    on-site checks asked of their grid), most urgent deadline first, each with the moves the caller
    may make on it now."""
    standing = service.standing_of(session, scope.principal)
    total, rows = field.my_cases(
        session, scope=scope, standing=standing, limit=limit, offset=offset
    )
    return service.public_list(session, total, rows, scope.principal, standing)


@router.get("/incidents/nearby", response_model=NearbyOut)
def nearby(
    session: SessionDep,
    scope: Cases,
    settings: IncidentSettingsDep,
    category_code: Annotated[str, Query(min_length=1, max_length=16)],
    lng: float,
    lat: float,
    crs: Annotated[str, Query(max_length=16)] = DEFAULT_CRS,
) -> NearbyOut:
    """The open cases a report of this category here would duplicate (intake's own rule), among
    the caller's: the phone shows them before sending, with "same case" (``same_as`` at intake)."""
    rows = field.nearby_cases(
        session, scope=scope, settings=settings, category_code=category_code, lng=lng, lat=lat,
        crs=crs,
    )  # fmt: skip
    return NearbyOut(count=len(rows), data=[NearbyCase.model_validate(r) for r in rows])


@router.post("/incidents/{incident_id}/photos", response_model=IncidentPublic)
async def add_photos(
    incident_id: BigId,
    request: Request,
    session: SessionDep,
    scope: Case,
    settings: IncidentSettingsDep,
    storage: StorageDep,
) -> IncidentPublic:
    """Photos of the handling (before 处置完毕) or of the on-site check, as multipart ``photos``
    (with the ``version`` seen, optional). A photo over the limit is a 413 and nothing is stored."""
    mime = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if mime != "multipart/form-data":
        raise UnsupportedMediaType(
            f"不支持的内容类型 {mime or '（未声明）'}；上传照片请用 multipart/form-data"
        )
    form = await request.form(max_files=settings.photo_max_count, max_fields=10)
    files = [
        (v.filename or "photo", await v.read(settings.photo_max_bytes + 1))
        for k, v in form.multi_items()
        if k == "photos" and not isinstance(v, str)
    ]
    if not files:
        raise InvalidInput("photos: 请选择至少一张照片", field="photos")
    if len(files) > settings.photo_max_count:
        raise PayloadTooLarge(f"照片最多 {settings.photo_max_count} 张", field="photos")
    raw_version = form.get("version")
    version = None
    if isinstance(raw_version, str) and raw_version.strip():
        if not raw_version.strip().isdigit():
            raise InvalidInput("version: 应为整数", field="version")
        version = int(raw_version)

    def work() -> IncidentPublic:
        incident = service.get_incident(session, incident_id, scope=scope, lock=True)
        principal = scope.principal
        moves = sm.moves_for(principal, incident, service.standing_of(session, principal))
        stage = field.photo_stage(incident, moves, version)
        # Every photo is checked before one is written: one over the limit or of the wrong type
        # stores nothing (413/415), and the phone keeps the handling as a draft.
        for name, blob in files:
            check_photo(name, blob, max_bytes=settings.photo_max_bytes)
        records = [
            photo_record(storage, n, b, max_bytes=settings.photo_max_bytes) for n, b in files
        ]
        field.attach_photos(session, incident, records, principal=principal, stage=stage)
        return service.public_view(session, incident, principal)

    return await run_in_threadpool(work)
