"""Open311 GeoReport v2 façade at /open311/v2/ (JSON and XML chosen by extension, as the spec does).

Mapping: service_code = category code (小类), status = open|closed with our state in status_notes.
POST needs an api_key issued by a county admin (only its SHA-256 is stored); an ``Idempotency-Key``
header is scoped to that client. Requests are created synchronously, so the token resolves at once.

GET requests shows what a resident may see, read from the ``public_incidents`` view
(app/incidents/public.py): no names, phones, address or description, a coarse point, and no case of a
sensitive category; such a case is answered like one that does not exist (docs/public.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import xml.etree.ElementTree as ET
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.auth.deps import SessionDep
from app.auth.policy import ANONYMOUS, Action, Resource
from app.auth.scope import AreaScope, access_whole
from app.db import intake_access, request_session
from app.errors import InvalidInput, NotFound, Unauthorized
from app.incidents import intake as intake_mod
from app.incidents import service
from app.incidents.calendar import TZ, WorkingCalendar
from app.incidents.config import IncidentSettings
from app.incidents.deps import CalendarDep, IncidentSettingsDep, SnapshotDep
from app.incidents.models import IncidentCategory, Open311Client
from app.incidents.public import PublicRequest, public_requests
from app.incidents.schemas import IncidentCreate
from app.locate.registry import RegistrySnapshot
from app.params import parse_big_id

router = APIRouter(prefix="/open311/v2", tags=["open311"])
admin_router = APIRouter(prefix="/api/v1", tags=["open311"])
_LIST_FIELDS = (
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
)


def _render(
    request: Request, fmt: str, root: str, item: str | None, data: Any, status: int = 200
) -> Response:
    if fmt == "xml":
        return Response(
            _to_xml(root, item, data), status_code=status, media_type="text/xml; charset=utf-8"
        )
    import json

    return Response(
        json.dumps(data, ensure_ascii=False, default=str),
        status_code=status,
        media_type="application/json",
    )


def _to_xml(root: str, item: str | None, data: Any) -> bytes:
    top = ET.Element(root)
    items = data if isinstance(data, list) else [data]
    for obj in items:
        parent = ET.SubElement(top, item) if item else top
        _fill(parent, obj)
    return ET.tostring(top, encoding="utf-8", xml_declaration=True)


def _fill(parent: ET.Element, obj: dict[str, Any]) -> None:
    for key, value in obj.items():
        if isinstance(value, list):
            holder = ET.SubElement(parent, key)
            singular = {
                "endpoints": "endpoint",
                "attributes": "attribute",
                "formats": "format",
                "values": "value",
            }.get(key, "item")
            for v in value:
                child = ET.SubElement(holder, singular)
                if isinstance(v, dict):
                    _fill(child, v)
                else:
                    child.text = str(v)
        elif isinstance(value, dict):
            _fill(ET.SubElement(parent, key), value)
        else:
            el = ET.SubElement(parent, key)
            if value is not None:
                el.text = str(value).lower() if isinstance(value, bool) else str(value)


def _fmt(fmt: str) -> str:
    if fmt not in ("json", "xml"):
        raise NotFound(f"不支持的格式 .{fmt}；请使用 .json 或 .xml")
    return fmt


def _iso(t: dt.datetime | None) -> str | None:
    """Beijing time with its offset, whichever zone the value came in (the database's or not)."""
    return t.astimezone(TZ).isoformat(timespec="seconds") if t else None


def _service(cat: IncidentCategory, groups: dict[str, str]) -> dict[str, Any]:
    return {
        "service_code": cat.code,
        "service_name": cat.name,
        "description": f"处置时限 {cat.limit_value:g} {'工作小时' if cat.limit_unit == 'working_hours' else '工作日'}；立案条件：{cat.open_condition}",
        "metadata": False,
        "type": "realtime",
        "keywords": cat.name,
        "group": groups.get(cat.parent_code or "", ""),
    }


def _request_out(r: PublicRequest, names: dict[str, str]) -> dict[str, Any]:
    """A request as GeoReport v2 shows it to anyone: public fields only (see the module doc)."""
    return {
        "service_request_id": str(r.id),
        "status": r.status,
        "status_notes": r.status_note,
        "service_name": names.get(r.category_code, ""),
        "service_code": r.category_code,
        "service_notice": f"案件编号 {r.case_no}",
        "requested_datetime": _iso(r.reported_at),
        "updated_datetime": _iso(r.updated_at),
        "lat": r.lat,
        "long": r.lng,
    }


@router.get("/discovery.{fmt}")
def discovery(request: Request, fmt: str) -> Response:
    base = str(request.base_url).rstrip("/") + "/open311/v2/"
    data = {
        "changeset": "2026-01-01T00:00:00+08:00",
        "contact": "县网格化服务管理中心",
        "key_service": "向县级管理员申请 api_key（POST /api/v1/open311-clients）",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": base,
                "changeset": "2026-01-01T00:00:00+08:00",
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    return _render(request, _fmt(fmt), "discovery", None, data)


def _small_classes(session: Session) -> tuple[list[IncidentCategory], dict[str, str]]:
    cats = list(
        session.scalars(
            select(IncidentCategory).where(IncidentCategory.active).order_by(IncidentCategory.code)
        )
    )
    groups = {c.code: c.name for c in cats if c.parent_code is None}
    return [c for c in cats if c.parent_code is not None], groups


@router.get("/services.{fmt}")
def services(request: Request, fmt: str, session: SessionDep) -> Response:
    cats, groups = _small_classes(session)
    return _render(request, _fmt(fmt), "services", "service", [_service(c, groups) for c in cats])


@router.get("/services/{code}.{fmt}")
def service_definition(request: Request, code: str, fmt: str, session: SessionDep) -> Response:
    cats, _ = _small_classes(session)
    if code not in {c.code for c in cats}:
        raise NotFound(f"未知的 service_code {code}")
    # No extra attributes: description and location are all a case needs.
    return _render(
        request, _fmt(fmt), "service_definition", None, {"service_code": code, "attributes": []}
    )


def _client(session: Session, api_key: str | None) -> Open311Client:
    if not api_key:
        raise Unauthorized("缺少 api_key")
    digest = hashlib.sha256(api_key.encode()).hexdigest()
    client = session.scalar(
        select(Open311Client).where(Open311Client.key_sha256 == digest, Open311Client.active)
    )
    if client is None:
        raise Unauthorized("api_key 无效")
    return client


@router.post("/requests.{fmt}")
async def post_request(
    request: Request,
    fmt: str,
    snapshot: SnapshotDep,
    calendar: CalendarDep,
    settings: IncidentSettingsDep,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> Response:
    """File a request. A retry with the same ``Idempotency-Key`` by the same client answers 200
    with the original request; the key is the client's own (docs/public.md#idempotency)."""
    _fmt(fmt)
    form = dict((await request.form()).items())
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    caller = replace(ANONYMOUS, username="open311")

    def work() -> tuple[dict[str, Any], bool]:
        # Intake files a case anywhere for anyone, hence the intake database role.
        with request_session(request, intake_access(caller)) as session:
            out = _file(session, fields, idempotency_key, snapshot, calendar, settings)
            session.commit()
        return out

    out, created = await run_in_threadpool(work)
    return _render(request, fmt, "service_requests", "request", [out], 201 if created else 200)


def _file(
    session: Session,
    fields: dict[str, str],
    idempotency_key: str | None,
    snapshot: RegistrySnapshot,
    calendar: WorkingCalendar,
    settings: IncidentSettings,
) -> tuple[dict[str, Any], bool]:
    """One Open311 POST: check the api_key, then intake as that client (created or replayed)."""
    client = _client(session, fields.get("api_key"))
    name = " ".join(x for x in (fields.get("last_name"), fields.get("first_name")) if x) or None
    try:
        data = IncidentCreate(
            category_code=fields.get("service_code", ""),
            description=fields.get("description") or "（未填写描述）",
            lng=float(fields["long"]) if fields.get("long") else None,
            lat=float(fields["lat"]) if fields.get("lat") else None,
            crs="wgs84",
            address=fields.get("address_string"),
            reporter_name=name,
            reporter_phone=fields.get("phone"),
        )
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"输入有误：{exc}") from exc
    principal = replace(ANONYMOUS, username=f"open311:{client.name}")
    incident, created, _, _ = intake_mod.intake(
        session,
        snapshot,
        data=data,
        principal=principal,
        calendar=calendar,
        settings=settings,
        source="open311",
        idempotency_key=idempotency_key,
        idempotency_scope=intake_mod.open311_scope(client.id),
    )
    return {
        "service_request_id": str(incident.id),
        "token": incident.token,
        "service_notice": f"已受理，案件编号 {incident.case_no}，期限 {_iso(incident.deadline)}",
        "account_id": None,
    }, created


def _parse_time(value: str | None, name: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"{name}: 不是 ISO 8601 时间") from exc
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


@router.get("/requests.{fmt}")
def get_requests(
    request: Request,
    fmt: str,
    session: SessionDep,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
) -> Response:
    """Public requests (see the module doc); sensitive categories are never listed."""
    _fmt(fmt)
    if service_request_id:
        parsed = [parse_big_id(x.strip()) for x in service_request_id.split(",") if x.strip()]
        ids = [i for i in parsed if i is not None]
        if len(ids) < len(parsed):
            raise InvalidInput("service_request_id: 应为逗号分隔的编号（正整数）")
        rows = public_requests(session, ids=ids)
    else:
        # The spec's defaults: the last 90 days, at most 1000 requests.
        end = _parse_time(end_date, "end_date") or service.now()
        start = _parse_time(start_date, "start_date") or end - dt.timedelta(days=90)
        wanted = set(status.split(",")) if status else set()
        if not wanted <= {"open", "closed"}:
            raise InvalidInput("status: 只能是 open 或 closed")
        rows = public_requests(
            session,
            categories=service_code.split(",") if service_code else None,
            start=start,
            end=end,
            status=wanted.pop() if len(wanted) == 1 else None,
        )
    names = service.category_names(session)
    return _render(
        request, fmt, "service_requests", "request", [_request_out(r, names) for r in rows]
    )


@router.get("/requests/{rid}.{fmt}")
def get_request(request: Request, rid: str, fmt: str, session: SessionDep) -> Response:
    """One public request; a sensitive case is answered exactly like a missing one."""
    _fmt(fmt)
    rid_int = parse_big_id(rid)
    rows = public_requests(session, ids=[rid_int]) if rid_int is not None else []
    if not rows:
        raise NotFound("服务请求不存在")
    names = service.category_names(session)
    return _render(request, fmt, "service_requests", "request", [_request_out(rows[0], names)])


@router.get("/tokens/{token}.{fmt}")
def get_token(request: Request, token: str, fmt: str, session: SessionDep) -> Response:
    _fmt(fmt)
    # Through the owner's-rights lookup of migration 0013: the public reads no case table.
    rid = session.scalar(select(func.incident_id_for_token(token)))
    if rid is None:
        raise NotFound("token 不存在")
    return _render(
        request,
        fmt,
        "service_requests",
        "request",
        [{"service_request_id": str(rid), "token": token}],
    )


class ClientCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)


@admin_router.post("/open311-clients", status_code=201)
def create_client(
    body: ClientCreate,
    session: SessionDep,
    _: Annotated[AreaScope, Depends(access_whole(Resource.OPEN311_CLIENT, Action.CREATE))],
) -> dict[str, Any]:
    """Issue an Open311 api_key; it is shown once, only its hash is kept."""
    key = secrets.token_urlsafe(24)
    client = Open311Client(name=body.name, key_sha256=hashlib.sha256(key.encode()).hexdigest())
    session.add(client)
    session.flush()
    return {"id": client.id, "name": client.name, "api_key": key}
