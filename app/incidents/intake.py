"""Intake: a report routed to its grid and stored with its history, outbox message and likely
duplicates in one INSERT … RETURNING (no HTTP here).

This is the hot path (docs/architecture.md#performance-targets: ≥ 500 reports/s over HTTP on two
cores), so it costs one database round trip besides BEGIN/COMMIT: the category comes from a
per-process copy that the statement re-checks (a stale copy inserts nothing and is reloaded), the id
comes from the sequence inside the statement, and the duplicate search reads the snapshot taken
before the insert, so the new case is never its own duplicate.

An Idempotency-Key belongs to its caller: it is stored as the pair (scope, key), unique together, and
looked up only within the caller's scope (``caller_scope``, ``open311_scope``; docs/public.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import math
import uuid
from typing import Any, NamedTuple

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.auth.policy import Principal, roles_label
from app.auth.scope import scope_of
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.geocode.service import geocode
from app.incidents import deadlines
from app.incidents import statemachine as sm
from app.incidents.calendar import WorkingCalendar
from app.incidents.categories import CategoryCache, CategoryRule
from app.incidents.config import IncidentSettings
from app.incidents.models import Incident, IncidentEvent
from app.incidents.schemas import DuplicateOut, IncidentCreate
from app.incidents.service import TIERS, _apply, now, record
from app.locate.registry import RegistrySnapshot
from app.locate.service import locate_point_dict

CATEGORIES = CategoryCache()

# Metres per degree of latitude (a lower bound); a degree of longitude is this times cos(lat).
_M_PER_DEG = 110_000.0

# A likely duplicate (the one rule, for intake and for the phone's check before sending): an open
# case of the same category reported within the window, within the distance, nearest first. The
# degree box lets the GiST index on location work; the exact test is in metres.
DUPLICATES = """
        SELECT id, case_no, state, reported_at,
               ST_Distance(location::geography,
                           ST_SetSRID(ST_MakePoint(:x, :y), 4490)::geography) AS d
          FROM incidents
         WHERE category_code = :category_code
           AND state = ANY(:open)
           AND reported_at >= :since
           AND ST_DWithin(location, ST_SetSRID(ST_MakePoint(:x, :y), 4490), :deg)
           AND ST_DWithin(location::geography,
                          ST_SetSRID(ST_MakePoint(:x, :y), 4490)::geography, :m)
         ORDER BY d LIMIT 5
"""


def duplicate_params(
    settings: IncidentSettings, *, category_code: str, x: float, y: float, at: dt.datetime
) -> dict[str, Any]:
    """The bind parameters of ``DUPLICATES`` for a report of ``category_code`` at (x, y)."""
    return {
        "category_code": category_code,
        "x": x,
        "y": y,
        "since": at - dt.timedelta(hours=settings.duplicate_window_hours),
        "deg": degree_radius(settings.duplicate_distance_m, y),
        "m": settings.duplicate_distance_m,
        "open": list(sm.OPEN_STATES),
    }


_INTAKE = text(
    """
    WITH rule AS (
        SELECT code FROM incident_categories
         WHERE code = :category_code AND active AND parent_code IS NOT NULL
           AND name = :cat_name AND default_tier = :cat_tier
           AND limit_value = :lv AND limit_unit = :lu
           AND urgent_limit_value IS NOT DISTINCT FROM CAST(:ulv AS double precision)
           AND urgent_limit_unit IS NOT DISTINCT FROM CAST(:ulu AS varchar)
           AND sensitive = :cat_sensitive
    ), new AS (
        SELECT nextval('incidents_id_seq') AS id FROM rule
    ), ins AS (
        INSERT INTO incidents (id, case_no, token, idempotency_scope, idempotency_key,
            category_code, urgent,
            description, address, source, reporter_name, reporter_phone, reporter_username,
            location, grid_code, community_code, township_code, leader_name, locate, photos,
            state, tier, reported_at, deadline, escalate_at,
            limit_value, limit_unit, stage_started_at, stage_due_at, amber_at)
        SELECT id, 'SJ' || :day || lpad(id::text, greatest(8, length(id::text)), '0'), :token,
               :idempotency_scope, :idem, :category_code, :urgent, :description, :address,
               :source, :reporter_name, :reporter_phone, :reporter_username, ST_SetSRID(ST_MakePoint(:x, :y), 4490),
               :grid_code, :community_code, :township_code, :leader_name,
               CAST(:locate AS jsonb), CAST(:photos AS jsonb), 'reported', :tier, :reported_at,
               :deadline, :escalate_at, :limit_value, :limit_unit, :stage_started_at,
               :stage_due_at, :amber_at
          FROM new
        ON CONFLICT (idempotency_scope, idempotency_key) WHERE idempotency_key IS NOT NULL
        DO NOTHING
        RETURNING id, case_no
    ), ev AS (
        INSERT INTO incident_events (incident_id, action, from_state, to_state, actor, role, note)
        SELECT id, 'report', NULL, 'reported', :actor, :role, :note FROM ins
    ), ob AS (
        INSERT INTO incident_outbox (incident_id, kind, payload)
        SELECT id, 'incident.report',
               CAST(:payload AS jsonb) || jsonb_build_object('case_no', case_no)
          FROM ins
    ), dup AS (
        DUPLICATES
    )
    SELECT ins.id, ins.case_no,
           (SELECT json_agg(json_build_object('id', id, 'case_no', case_no, 'state', state,
                                              'reported_at', reported_at, 'distance_m', d)
                            ORDER BY d)
              FROM dup) AS duplicates
      FROM ins
    """.replace("DUPLICATES", DUPLICATES.strip())
)


def degree_radius(metres: float, lat: float) -> float:
    """A radius in degrees that covers ``metres`` in every direction at latitude ``lat``.

    A degree of longitude shrinks with cos(lat) (≈ 67 km at 53°N, Mohe), so a fixed
    metres-per-degree would miss east–west neighbours in the north.
    """
    return metres / (_M_PER_DEG * math.cos(math.radians(min(abs(lat), 89.0))))


def get_category(session: Session, code: str, *, reload: bool = False) -> CategoryRule:
    cat = CATEGORIES.get(session, code, reload=reload)
    if not reload and (cat is None or not cat.active or cat.limit_value is None):
        # Refuse only on the table's word: the copy may predate a re-activation elsewhere.
        cat = CATEGORIES.get(session, code, reload=True)
    if cat is None or not cat.active:
        raise InvalidInput(f"category_code: 未知的事件类别 {code!r}", field="category_code")
    if cat.parent_code is None or cat.limit_value is None or cat.limit_unit is None:
        raise InvalidInput(
            f"category_code: {code}（{cat.name}）是大类，请选择其下的小类", field="category_code"
        )
    return cat


def route(
    snapshot: RegistrySnapshot, session: Session, data: IncidentCreate, principal: Principal
) -> dict[str, Any]:
    """The locate answer (a dict shaped like LocatePublic) for the report's point or address."""
    if data.lng is not None and data.lat is not None:
        answer = locate_point_dict(
            snapshot, lng=data.lng, lat=data.lat, crs=data.crs, principal=principal
        )
    else:
        try:
            located = geocode(snapshot, session, address=data.address or "", principal=principal)
        except NotFound as exc:
            raise InvalidInput(f"address: {exc.message}", field="address", **exc.detail) from exc
        if located.location is None:  # a community or township: no one grid answers for it
            raise InvalidInput(
                f"address: 地址只定位到{located.area.name if located.area else '社区'}，无法确定网格；"
                "请补充道路门牌或小区楼栋，或在地图上选点",
                field="address",
            )
        answer = located.location.model_dump(mode="json")
    if not answer["found"] or answer["grid"] is None or answer["community"] is None:
        raise InvalidInput(
            f"位置不在本县任何网格内，无法分派：{answer['message']}",
            field="location",
            locate=answer,
        )
    return answer


def caller_scope(principal: Principal, *, source: str, secret: str) -> str:
    """The scope of a caller's Idempotency-Keys (docs/public.md#idempotency).

    A logged-in caller is their user id. An anonymous one has no identity, so the scope is the
    best stable source the request offers: ``source`` is the client address plus the device id
    header if sent, kept only as a keyed hash (HMAC with the secret key; an address is personal
    data and a plain hash of an IPv4 address is reversed by trying them all).
    """
    if not principal.is_anonymous:
        return f"user:{principal.user_id}"
    digest = hmac.new(secret.encode(), source.encode(), hashlib.sha256).hexdigest()
    return f"anon:{digest[:40]}"


def open311_scope(client_id: int) -> str:
    """The scope of an Open311 client's Idempotency-Keys: the client (its api_key)."""
    return f"open311:{client_id}"


def _replay(session: Session, scope: str, key: str, data: IncidentCreate) -> Incident | None:
    """The caller's own case filed with this key, if any; a key reused for a different report is
    refused rather than answered with a case the caller may not have filed."""
    found = session.scalar(
        select(Incident).where(Incident.idempotency_scope == scope, Incident.idempotency_key == key)
    )
    if found is not None and (
        found.category_code != data.category_code or found.description != data.description
    ):
        raise Conflict(
            "此 Idempotency-Key 已用于另一份内容不同的报告；提交新报告请使用新的 Idempotency-Key",
            field="Idempotency-Key",
        )
    return found


class IntakeResult(NamedTuple):
    incident: Incident
    created: bool  # False: the caller's own earlier case for the same Idempotency-Key
    duplicates: list[DuplicateOut]
    category: CategoryRule | None


def intake(
    session: Session,
    snapshot: RegistrySnapshot,
    *,
    data: IncidentCreate,
    principal: Principal,
    calendar: WorkingCalendar,
    settings: IncidentSettings,
    idempotency_key: str | None = None,
    idempotency_scope: str | None = None,
    photos: list[dict[str, Any]] | None = None,
    source: str = "api",
) -> IntakeResult:
    """Create a case, routed to its grid; returns it with its likely duplicates and category.

    A key this caller (``idempotency_scope``) already used returns the original case with
    created=False. The new case comes back as a transient ``Incident`` (not attached to the
    session) unless it was resolved on the spot.
    """
    if idempotency_key is not None:
        if idempotency_scope is None:
            raise ValueError("an Idempotency-Key needs the caller's scope")
        found = _replay(session, idempotency_scope, idempotency_key, data)
        if found is not None:
            return IntakeResult(found, False, [], _category(session, found.category_code))
    if data.same_as is not None:
        return _same_case(
            session, data=data, principal=principal, photos=photos or [],
            key=idempotency_key, scope=idempotency_scope,
        )  # fmt: skip
    on_spot = sm.TRANSITIONS["resolve_on_spot"]
    if data.resolved_on_spot and principal.role not in on_spot.roles:
        raise Forbidden(
            f"只有{roles_label(on_spot.roles)}可以自行处置（resolved_on_spot）",
            field="resolved_on_spot",
        )
    cat = get_category(session, data.category_code)
    answer = route(snapshot, session, data, principal)
    x, y = answer["point"]["lng"], answer["point"]["lat"]
    township = answer["township"]
    leader = answer["leader"]
    reported_at = now()
    values: dict[str, Any] = {
        "token": str(uuid.uuid4()),
        "idempotency_scope": idempotency_scope if idempotency_key is not None else None,
        "idempotency_key": idempotency_key,
        "urgent": data.urgent,
        "description": data.description,
        "address": data.address,
        "source": source,
        "reporter_name": data.reporter_name,
        "reporter_phone": data.reporter_phone,
        "reporter_username": None if principal.is_anonymous else principal.username,
        "grid_code": answer["grid"]["code"],
        "community_code": answer["community"]["code"],
        "township_code": township["code"] if township else None,
        "leader_name": leader["name"] if leader else None,
        "locate": answer,
        "photos": photos or [],
        "state": "reported",
        "reported_at": reported_at,
    }
    row = None
    for attempt in (1, 2):
        tier = TIERS.index(cat.default_tier)
        values.update(
            category_code=cat.code,
            tier=tier,
            **deadlines.intake_clock(
                reported_at,
                cat.code,
                deadlines.handling_limit(cat, urgent=data.urgent),
                calendar,
                deadlines.default_policy(),
                tier=tier,
                escalation_share=settings.escalation_share,
            ),
        )
        row = session.execute(
            _INTAKE, _params(values, cat, x, y, principal, data, settings, calendar)
        ).first()
        if row is not None:
            break
        if idempotency_key is not None and idempotency_scope is not None:
            # Another request of this caller with the same key won the race (ON CONFLICT).
            original = _replay(session, idempotency_scope, idempotency_key, data)
            if original is not None:
                return IntakeResult(original, False, [], _category(session, original.category_code))
        if attempt == 2:
            raise Conflict("事件类别刚被修改，请重试", field="category_code")
        # The cached category no longer matches the table: reload (it may now be refused).
        cat = get_category(session, data.category_code, reload=True)
    assert row is not None  # the loop breaks with a row or raises
    duplicates = [DuplicateOut.model_validate(d) for d in row.duplicates or ()]
    for d in duplicates:
        d.distance_m = round(d.distance_m, 1)
    incident = Incident(
        id=row.id,
        case_no=row.case_no,
        supervised=False,
        version=1,
        extension_count=0,
        rework_count=0,
        escalation_count=0,
        on_spot=False,
        location=from_shape(Point(x, y), srid=4490),
        **values,
    )
    if data.resolved_on_spot:
        persistent = session.get(Incident, row.id)
        assert persistent is not None
        _apply(
            session, persistent, sm.TRANSITIONS["resolve_on_spot"], principal, data.note, calendar
        )
        incident = persistent
    return IntakeResult(incident, True, duplicates, cat)


SAME_REPORT = "same_report"


def _same_case(
    session: Session,
    *,
    data: IncidentCreate,
    principal: Principal,
    photos: list[dict[str, Any]],
    key: str | None,
    scope: str | None,
) -> IntakeResult:
    """A report the reporter linked to the open case ``data.same_as`` (同一事件): an event on that
    case records who reported it again, with the note and photos; no case is made. The caller must
    be able to read the case (staff of its area: the suggestion came from their own list). With an
    Idempotency-Key, a replay answers the case again (created=False) and links nothing twice."""
    if key is not None and scope is not None:
        linked = session.scalar(
            select(IncidentEvent.incident_id).where(
                IncidentEvent.action == SAME_REPORT,
                IncidentEvent.data["idempotency_scope"].astext == scope,
                IncidentEvent.data["idempotency_key"].astext == key,
            )
        )
        if linked is not None:
            found = session.get(Incident, linked)
            assert found is not None
            return IntakeResult(found, False, [], _category(session, found.category_code))
    missing = f"same_as: 找不到案件 {data.same_as}，请作为新事件上报"
    target = session.get(Incident, data.same_as, with_for_update=True)
    area_scope = scope_of(principal)
    if target is None or not area_scope.covers(target.grid_code):
        raise InvalidInput(missing, field="same_as")
    if target.state not in sm.IN_PROGRESS_STATES:
        raise Conflict(
            f"案件 {target.case_no} 已{sm.STATE_LABELS[target.state]}，不能再作为同一事件；请作为新事件上报",
            field="same_as",
            current_state=target.state,
        )
    if target.category_code != data.category_code:
        raise InvalidInput(
            f"same_as: 案件 {target.case_no} 的类别（{target.category_code}）与本次上报"
            f"（{data.category_code}）不同，不是同一事件",
            field="same_as",
        )
    if photos:
        by = None if principal.is_anonymous else principal.username
        target.photos = [*target.photos, *({**p, "stage": SAME_REPORT, "by": by} for p in photos)]
    event: dict[str, Any] = {"reporter": None if principal.is_anonymous else principal.username}
    if data.lng is not None:
        event.update(lng=data.lng, lat=data.lat, crs=data.crs)
    if key is not None and scope is not None:
        event.update(idempotency_scope=scope, idempotency_key=key)
    if photos:
        event["photos"] = len(photos)
    note = "；".join(p for p in (data.description, data.note) if p)
    record(session, target, action=SAME_REPORT, from_state=target.state, actor=principal,
           note=note, data=event)  # fmt: skip
    session.flush()
    return IntakeResult(target, True, [], _category(session, target.category_code))


def _params(
    values: dict[str, Any],
    cat: CategoryRule,
    x: float,
    y: float,
    principal: Principal,
    data: IncidentCreate,
    settings: IncidentSettings,
    calendar: WorkingCalendar,
) -> dict[str, Any]:
    at: dt.datetime = values["reported_at"]
    return {
        **values,
        "idem": values["idempotency_key"],
        "locate": json.dumps(values["locate"], ensure_ascii=False),
        "photos": json.dumps(values["photos"], ensure_ascii=False),
        "x": x,
        "y": y,
        "day": at.astimezone(calendar.tz).strftime("%Y%m%d"),
        "cat_name": cat.name,
        "cat_tier": cat.default_tier,
        "cat_sensitive": cat.sensitive,
        "lv": cat.limit_value,
        "lu": cat.limit_unit,
        "ulv": cat.urgent_limit_value,
        "ulu": cat.urgent_limit_unit,
        "actor": principal.username,
        "role": principal.role,
        "note": data.note,
        "payload": json.dumps(
            {
                "action": "report",
                "state": "reported",
                "grid_code": values["grid_code"],
                "tier": TIERS[values["tier"]],
                "supervised": False,
                "deadline": values["deadline"].isoformat(),
                "actor": principal.username,
                "note": data.note,
            },
            ensure_ascii=False,
        ),
        **duplicate_params(settings, category_code=cat.code, x=x, y=y, at=at),
    }


def _category(session: Session, code: str) -> CategoryRule | None:
    return CATEGORIES.get(session, code)
