"""/api/v1/incidents, /api/v1/incident-categories: thin routes over the service (the KPIs' routes
are app/incidents/kpis/router.py)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.pool import QueuePool
from starlette.concurrency import run_in_threadpool

from app.auth.deps import CurrentPrincipal, SessionDep
from app.auth.policy import Action, Resource
from app.auth.scope import AreaScope, access, access_whole, scope_of
from app.db import intake_access, request_session
from app.errors import InvalidInput, NotFound, PayloadTooLarge, UnsupportedMediaType
from app.incidents import intake as intake_mod
from app.incidents import service
from app.incidents.categories import upsert_categories
from app.incidents.deps import CalendarDep, IncidentSettingsDep, IntakeContextDep, StorageDep
from app.incidents.models import IncidentCategory, IncidentEvent
from app.incidents.public import to_receipt
from app.incidents.schemas import (
    CategoryCreate,
    CategoryPublic,
    EventPublic,
    IncidentCreate,
    IncidentPublic,
    IncidentReceipt,
    IncidentsPublic,
    TransitionIn,
)
from app.incidents.storage import photo_record
from app.params import BigId, Offset

router = APIRouter(prefix="/api/v1", tags=["incidents"])
# Who may do what is the policy table's (app/auth/policy.py); a case outside the caller's area is
# answered like a missing one (service.get_incident).
Cases = Annotated[AreaScope, Depends(access(Resource.INCIDENT))]
Case = Annotated[AreaScope, Depends(access_whole(Resource.INCIDENT))]
CategoryAdmin = Annotated[
    AreaScope, Depends(access_whole(Resource.INCIDENT_CATEGORY, Action.UPDATE))
]


def _validation_422(exc: ValidationError) -> InvalidInput:
    errors = [
        {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
        for e in exc.errors()
    ]
    summary = "；".join(f"{e['field']}: {e['message']}" for e in errors)
    return InvalidInput(f"输入有误：{summary}", errors=errors)


async def _parse_intake(
    request: Request, settings: Any, storage: Any
) -> tuple[IncidentCreate, list[tuple[str, bytes]]]:
    # JSON or multipart only: a text/plain (or type-less) body is what another site's page can send
    # without asking, so it is refused rather than parsed.
    mime = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    files: list[tuple[str, bytes]] = []
    if mime not in ("application/json", "multipart/form-data"):
        raise UnsupportedMediaType(
            f"不支持的内容类型 {mime or '（未声明）'}；事件上报请用 application/json 或 multipart/form-data"
        )
    if mime == "multipart/form-data":
        form = await request.form(max_files=settings.photo_max_count, max_fields=50)
        fields: dict[str, Any] = {}
        for key, value in form.multi_items():
            if isinstance(value, str):
                fields[key] = value
            elif key == "photos":
                data = await value.read(settings.photo_max_bytes + 1)
                files.append((value.filename or "photo", data))
        raw: Any = fields
    else:
        body = await request.body()
        try:
            raw = json.loads(body or b"null")
        except ValueError as exc:
            raise InvalidInput("请求体不是合法的 JSON") from exc
    try:
        return IncidentCreate.model_validate(raw), files
    except ValidationError as exc:
        raise _validation_422(exc) from exc


def _inline_ok(request: Request, data: IncidentCreate, files: list[tuple[str, bytes]]) -> bool:
    """Whether this report may be stored on the event loop instead of in the threadpool.

    Measured under wrk (2 workers, 2 shared cores): the threadpool trip and the GIL hand-offs it
    causes cost ~0.5 ms CPU per report and most of the p99 (520-560/s, p99 120-200 ms inline
    650-800/s, p99 40-90 ms). Only a report that is one bounded statement goes inline: coordinates,
    no photos (disk writes) and no address (the geocoder); and only while the pool has an idle
    connection, so the loop never waits for one held by a request that needs the loop to finish.
    """
    if files or data.lng is None:
        return False
    engine = getattr(request.app.state, "engine", None)
    return engine is not None and isinstance(engine.pool, QueuePool) and engine.pool.checkedin() > 0


@router.post(
    "/incidents",
    response_model=IncidentPublic | IncidentReceipt,
    status_code=201,
    responses={200: {"description": "same Idempotency-Key by the same caller: the original case"}},
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": IncidentCreate.model_json_schema()},
                "multipart/form-data": {"schema": {"type": "object"}},
            }
        }
    },
)
async def create_incident(
    request: Request,
    principal: CurrentPrincipal,
    ctx: IntakeContextDep,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
    x_device_id: Annotated[str | None, Header(max_length=128)] = None,
) -> Any:
    """Report an incident (JSON, or multipart with ``photos``); routed to its grid at once.

    Send an ``Idempotency-Key`` header: a retry with the same key by the same caller answers 200
    with the original case. The key is the caller's own: their account, or for an anonymous
    reporter their address plus the ``X-Device-Id`` header if sent (docs/public.md#idempotency).
    A caller who may not read the case (anonymous residents, staff outside its area) gets a
    receipt with its public fields and follow-up token only.
    """
    settings, storage = ctx.settings, ctx.storage
    data, files = await _parse_intake(request, settings, storage)
    if len(files) > settings.photo_max_count:
        raise PayloadTooLarge(f"照片最多 {settings.photo_max_count} 张", field="photos")
    scope = None
    if idempotency_key is not None:
        secret = request.app.state.settings.secret_key
        if not secret:
            raise RuntimeError("settings.secret_key is not set")
        address = request.client.host if request.client else ""
        scope = intake_mod.caller_scope(
            principal, source=f"{address}|{x_device_id or ''}", secret=secret
        )

    def work() -> tuple[IncidentPublic | IncidentReceipt, bool]:
        photos = [
            photo_record(storage, name, blob, max_bytes=settings.photo_max_bytes)
            for name, blob in files
        ]
        # The session is opened and committed here rather than through SessionDep: the whole
        # request then costs one trip to the threadpool instead of three, and the case is still
        # committed before the 201 is sent (an exception rolls it back when the session closes).
        # Intake files a case anywhere for anyone, hence the intake database role.
        with request_session(request, intake_access(principal)) as session:
            result = intake_mod.intake(
                session,
                ctx.snapshot,
                data=data,
                principal=principal,
                calendar=ctx.calendar,
                settings=settings,
                idempotency_key=idempotency_key,
                idempotency_scope=scope,
                photos=photos,
            )
            session.commit()
        incident, category = result.incident, result.category
        out: IncidentPublic | IncidentReceipt
        # The whole case for a caller who may read it (its role and area), else a receipt.
        reader_scope = scope_of(principal)
        reads = principal.may(Resource.INCIDENT, Action.READ)
        if reads and reader_scope.covers(incident.grid_code):
            name = category.name if category else None
            out = service.to_public(
                incident, principal, category_name=name, duplicates=result.duplicates
            )
        else:
            out = to_receipt(incident, category, result.duplicates)
        return out, result.created

    if _inline_ok(request, data, files):
        out, created = work()
    else:
        out, created = await run_in_threadpool(work)
    return Response(
        out.model_dump_json(), status_code=201 if created else 200, media_type="application/json"
    )


@router.get("/incidents", response_model=IncidentsPublic)
def list_incidents(
    session: SessionDep,
    scope: Cases,
    state: str | None = None,
    category: str | None = None,
    supervised: bool | None = None,
    q: Annotated[
        str | None,
        Query(max_length=100, description="case number, reporter's whole phone number or address"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> IncidentsPublic:
    total, rows = service.list_incidents(
        session,
        scope=scope,
        state=state,
        category=category,
        supervised=supervised,
        q=q,
        limit=limit,
        offset=offset,
    )
    return service.public_list(session, total, rows, scope.principal)


@router.get("/incidents/{incident_id}", response_model=IncidentPublic)
def get_incident(incident_id: BigId, session: SessionDep, scope: Case) -> IncidentPublic:
    incident = service.get_incident(session, incident_id, scope=scope)
    return service.public_view(session, incident, scope.principal)


@router.get(
    "/incidents/{incident_id}/photos/{n}",
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}}},
)
def photo(
    incident_id: BigId, n: int, session: SessionDep, scope: Case, storage: StorageDep
) -> Response:
    """The n-th photo (0-based) of a case the caller may see, with the type sniffed at intake."""
    incident = service.get_incident(session, incident_id, scope=scope)
    if not 0 <= n < len(incident.photos):
        raise NotFound(
            f"案件 {incident.case_no} 没有第 {n + 1} 张照片（共 {len(incident.photos)} 张）"
        )
    record = incident.photos[n]
    return Response(
        storage.open(record["key"]),
        media_type=record["content_type"],
        headers={"Cache-Control": "private, max-age=86400"},
    )


@router.get("/incidents/{incident_id}/history", response_model=list[EventPublic])
def history(incident_id: BigId, session: SessionDep, scope: Case) -> list[EventPublic]:
    service.get_incident(session, incident_id, scope=scope)
    events = session.scalars(
        select(IncidentEvent)
        .where(IncidentEvent.incident_id == incident_id)
        .order_by(IncidentEvent.id)
    )
    return [EventPublic.model_validate(e, from_attributes=True) for e in events]


@router.post("/incidents/{incident_id}/transitions", response_model=IncidentPublic)
def transition(
    incident_id: BigId,
    body: TransitionIn,
    session: SessionDep,
    scope: Case,
    calendar: CalendarDep,
    settings: IncidentSettingsDep,
) -> IncidentPublic:
    """Move a case along the lifecycle; send the ``version`` you saw (stale → 409). Which role
    makes which move is the lifecycle table's (statemachine.TRANSITIONS)."""
    incident = service.transition(
        session,
        incident_id=incident_id,
        body=body,
        scope=scope,
        calendar=calendar,
        escalation_share=settings.escalation_share,
    )
    return service.public_view(session, incident, scope.principal)


@router.get("/incident-categories", response_model=list[CategoryPublic])
def list_categories(session: SessionDep) -> list[CategoryPublic]:
    rows = session.scalars(select(IncidentCategory).order_by(IncidentCategory.code))
    return [CategoryPublic.model_validate(r, from_attributes=True) for r in rows]


@router.put("/incident-categories/{code}", response_model=CategoryPublic)
def put_category(
    code: str, body: CategoryCreate, session: SessionDep, _: CategoryAdmin
) -> CategoryPublic:
    """Create or edit a category (county admins)."""
    if body.code != code:
        raise InvalidInput("code: 路径中的编码与请求体不一致", field="code")
    if body.parent_code is not None:
        parent = session.scalar(
            select(IncidentCategory).where(IncidentCategory.code == body.parent_code)
        )
        if parent is None or parent.parent_code is not None:
            raise InvalidInput(
                f"parent_code: {body.parent_code} 不是已有的大类", field="parent_code"
            )
    row = body.model_dump()
    active = row.pop("active")
    upsert_categories(session, [row])
    cat = session.scalar(select(IncidentCategory).where(IncidentCategory.code == code))
    assert cat is not None
    cat.active = active
    session.flush()
    return CategoryPublic.model_validate(cat, from_attributes=True)
