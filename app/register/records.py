"""Reading the register: each record as the caller may see it, every read of a person logged
(access_log and the audit trail, docs/register.md#privacy)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.audittrail import record_event
from app.auth.policy import Field, Principal, mask_name, mask_phone
from app.auth.scope import AreaScope
from app.errors import NotFound
from app.register import idnumbers
from app.register.keys import RegisterKeys
from app.register.schemas import HouseOut, OrganisationOut, PersonOut

MISSING = {"person": "人员不存在", "house": "房屋不存在", "organisation": "单位不存在"}
TABLES = {"person": "persons", "house": "houses", "organisation": "organisations"}

PERSON_COLUMNS = (
    "p.id, p.version, p.grid_code, p.name, p.gender, p.birth_date, p.id_type, p.id_cipher, "
    "p.id_masked, p.phone, p.ethnicity, p.residence_type, p.registered_address, p.household_id, "
    "p.relation, p.house_id, p.special_groups, p.party_member, p.status"
)
HOUSE_SELECT = """
    SELECT h.id, h.version, h.grid_code, h.building_id, b.name AS building_name, b.address,
           h.unit, h.room, h.room_id, h.door_number_id, h.use, h.landlord_person_id,
           h.landlord_name, h.landlord_phone, h.area_m2, h.household_id, h.status
      FROM houses h JOIN buildings b ON b.id = h.building_id
"""
ORG_SELECT = """
    SELECT o.id, o.version, o.grid_code, o.kind, o.name, o.credit_code, o.address, o.building_id,
           ST_X(o.location) AS lon, ST_Y(o.location) AS lat, o.contact_name, o.contact_phone,
           o.employees, o.status
      FROM organisations o
"""


def person_view(row: Any, principal: Principal, keys: RegisterKeys | None) -> PersonOut:
    contact = principal.sees(Field.RESIDENT_CONTACT, row.grid_code)
    full_id = keys is not None and principal.sees(Field.ID_NUMBER, row.grid_code)
    groups = principal.sees(Field.SPECIAL_GROUPS, row.grid_code)
    return PersonOut(
        id=row.id,
        version=row.version,
        grid_code=row.grid_code,
        name=row.name if contact else mask_name(row.name),
        gender=row.gender,
        birth_date=row.birth_date.isoformat() if contact and row.birth_date else None,
        id_type=row.id_type,
        id_number=idnumbers.unseal(keys, row.id_cipher) if full_id and keys else row.id_masked,
        phone=row.phone if contact else mask_phone(row.phone),
        ethnicity=row.ethnicity,
        residence_type=row.residence_type,
        registered_address=row.registered_address if contact else None,
        household_id=row.household_id,
        relation=row.relation,
        house_id=row.house_id,
        special_groups=list(row.special_groups) if groups else None,
        party_member=row.party_member,
        status=row.status,
        masked=not (contact and full_id),
    )


def house_view(row: Any, principal: Principal) -> HouseOut:
    contact = principal.sees(Field.RESIDENT_CONTACT, row.grid_code)
    return HouseOut(
        **{k: v for k, v in row._mapping.items() if k not in ("landlord_name", "landlord_phone")},
        landlord_name=row.landlord_name if contact else mask_name(row.landlord_name),
        landlord_phone=row.landlord_phone if contact else mask_phone(row.landlord_phone),
        masked=not contact,
    )


def organisation_view(row: Any, principal: Principal) -> OrganisationOut:
    contact = principal.sees(Field.RESIDENT_CONTACT, row.grid_code)
    return OrganisationOut(
        **{k: v for k, v in row._mapping.items() if k not in ("contact_name", "contact_phone")},
        contact_name=row.contact_name if contact else mask_name(row.contact_name),
        contact_phone=row.contact_phone if contact else mask_phone(row.contact_phone),
        masked=not contact,
    )


def log_person_reads(
    session: Session,
    principal: Principal,
    person_ids: list[int],
    purpose: str,
    *,
    address: str | None,
    obj: str,
) -> None:
    """Every read of persons: one access_log row each (who read whom, why) and one audit event."""
    if not person_ids:
        return
    session.execute(
        text(
            "INSERT INTO access_log (username, role, person_id, purpose) "
            "SELECT :u, :r, unnest(CAST(:ids AS int[])), :p"
        ),
        {"u": principal.username, "r": principal.role, "ids": person_ids, "p": purpose[:200]},
    )
    record_event(
        session,
        actor=principal.username,
        address=address,
        action="personal.read",
        object=obj,
        outcome="success",
        detail={"purpose": purpose, "person_ids": person_ids[:200], "count": len(person_ids)},
    )


def log_place_reads(
    session: Session, principal: Principal, kind: str, ids: list[int], *, address: str | None
) -> None:
    """Houses (landlords) and organisations (contacts) name people too: each read is an event."""
    if ids:
        record_event(
            session,
            actor=principal.username,
            address=address,
            action="personal.read",
            object=f"{kind}s",
            outcome="success",
            detail={f"{kind}_ids": ids[:200], "count": len(ids)},
        )


def _filters(scope: AreaScope, alias: str, **wanted: Any) -> tuple[str, dict[str, Any]]:
    where = [scope.sql(f"{alias}.grid_code")]
    params: dict[str, Any] = dict(scope.params())
    for column, value in wanted.items():
        if value is None:
            continue
        if column == "special_group":
            where.append(f":special_group = ANY({alias}.special_groups)")
        else:
            where.append(f"{alias}.{column} = :{column}")
        params[column] = value
    return " AND ".join(where), params


def list_persons(
    session: Session,
    *,
    scope: AreaScope,
    keys: RegisterKeys | None,
    purpose: str,
    address: str | None,
    limit: int,
    offset: int,
    **filters: Any,
) -> tuple[list[PersonOut], int | None]:
    where, params = _filters(scope, "p", **filters)
    rows = session.execute(
        text(
            f"SELECT {PERSON_COLUMNS} FROM persons p WHERE {where} "
            "ORDER BY p.grid_code, p.id LIMIT :limit OFFSET :offset"
        ),
        {**params, "limit": limit + 1, "offset": offset},
    ).all()
    more = len(rows) > limit
    people = [person_view(r, scope.principal, keys) for r in rows[:limit]]
    log_person_reads(
        session,
        scope.principal,
        [p.id for p in people],
        purpose,
        address=address,
        obj=f"persons:{scope.prefix or 'all'}",
    )
    return people, (offset + limit) if more else None


def get_row(session: Session, kind: str, record_id: int, scope: AreaScope) -> Any:
    """One record's row (the caller's scope applied: outside it, it is missing)."""
    sql = {
        "person": f"SELECT {PERSON_COLUMNS} FROM persons p WHERE p.id = :id",
        "house": HOUSE_SELECT + " WHERE h.id = :id",
        "organisation": ORG_SELECT + " WHERE o.id = :id",
    }[kind]
    row = session.execute(text(sql), {"id": record_id}).first()
    if row is None:
        raise NotFound(MISSING[kind])
    scope.require(row.grid_code, missing=MISSING[kind])
    return row


def get_person(
    session: Session,
    *,
    scope: AreaScope,
    keys: RegisterKeys | None,
    person_id: int,
    purpose: str,
    address: str | None,
) -> PersonOut:
    person = person_view(get_row(session, "person", person_id, scope), scope.principal, keys)
    log_person_reads(
        session, scope.principal, [person.id], purpose, address=address, obj=f"person:{person.id}"
    )
    return person


def find_person(
    session: Session,
    *,
    scope: AreaScope,
    keys: RegisterKeys,
    id_number: str,
    id_type: str,
    purpose: str,
    address: str | None,
) -> PersonOut:
    """The person with this ID number, by its keyed hash (the number itself is never searched)."""
    checked = idnumbers.check(id_number, id_type=id_type)
    digest = idnumbers.lookup_hash(keys, checked.number, checked.id_type)
    row = session.execute(
        text(f"SELECT {PERSON_COLUMNS} FROM persons p WHERE p.id_hash = :h"), {"h": digest}
    ).first()
    if row is None or not scope.covers(row.grid_code):
        raise NotFound("未找到持该证件号码的在册人员")
    person = person_view(row, scope.principal, keys)
    log_person_reads(
        session, scope.principal, [person.id], purpose, address=address, obj=f"person:{person.id}"
    )
    return person


def list_houses(
    session: Session,
    *,
    scope: AreaScope,
    limit: int,
    offset: int,
    address: str | None = None,
    **filters: Any,
) -> tuple[list[HouseOut], int | None]:
    where, params = _filters(scope, "h", **filters)
    rows = session.execute(
        text(
            HOUSE_SELECT + f" WHERE {where} ORDER BY h.grid_code, h.id LIMIT :limit OFFSET :offset"
        ),
        {**params, "limit": limit + 1, "offset": offset},
    ).all()
    more = len(rows) > limit
    houses = [house_view(r, scope.principal) for r in rows[:limit]]
    log_place_reads(session, scope.principal, "house", [h.id for h in houses], address=address)
    return houses, (offset + limit) if more else None


def get_house(
    session: Session,
    *,
    scope: AreaScope,
    keys: RegisterKeys | None,
    house_id: int,
    purpose: str,
    address: str | None,
) -> HouseOut:
    house = house_view(get_row(session, "house", house_id, scope), scope.principal)
    log_place_reads(session, scope.principal, "house", [house.id], address=address)
    rows = session.execute(
        text(f"SELECT {PERSON_COLUMNS} FROM persons p WHERE p.house_id = :id ORDER BY p.id"),
        {"id": house_id},
    ).all()
    house.residents = [person_view(r, scope.principal, keys) for r in rows]
    log_person_reads(
        session,
        scope.principal,
        [p.id for p in house.residents],
        purpose,
        address=address,
        obj=f"house:{house_id}",
    )
    return house


def list_organisations(
    session: Session,
    *,
    scope: AreaScope,
    limit: int,
    offset: int,
    address: str | None = None,
    **filters: Any,
) -> tuple[list[OrganisationOut], int | None]:
    where, params = _filters(scope, "o", **filters)
    rows = session.execute(
        text(ORG_SELECT + f" WHERE {where} ORDER BY o.grid_code, o.id LIMIT :limit OFFSET :offset"),
        {**params, "limit": limit + 1, "offset": offset},
    ).all()
    more = len(rows) > limit
    orgs = [organisation_view(r, scope.principal) for r in rows[:limit]]
    log_place_reads(session, scope.principal, "organisation", [o.id for o in orgs], address=address)
    return orgs, (offset + limit) if more else None


def get_organisation(
    session: Session, *, scope: AreaScope, org_id: int, address: str | None = None
) -> OrganisationOut:
    org = organisation_view(get_row(session, "organisation", org_id, scope), scope.principal)
    log_place_reads(session, scope.principal, "organisation", [org.id], address=address)
    return org


def history(
    session: Session,
    *,
    scope: AreaScope,
    kind: str,
    record_id: int,
    purpose: str,
    address: str | None,
) -> list[dict[str, Any]]:
    """Every version of a record, masked as the record is; reading a person's history is logged."""
    get_row(session, kind, record_id, scope)  # 404 unless the caller may see the record
    rows = session.execute(
        text(
            "SELECT version, grid_code, data, proposal_id, changed_by, changed_at "
            "FROM register_history WHERE kind = :kind AND record_id = :id ORDER BY version DESC"
        ),
        {"kind": kind, "id": record_id},
    ).all()
    principal = scope.principal
    out = []
    for r in rows:
        data = dict(r.data)
        if not principal.sees(Field.RESIDENT_CONTACT, r.grid_code):
            for key in ("name", "landlord_name", "contact_name"):
                if isinstance(data.get(key), str):
                    data[key] = mask_name(data[key])
            for key in ("phone", "landlord_phone", "contact_phone"):
                if isinstance(data.get(key), str):
                    data[key] = mask_phone(data[key])
            for key in ("registered_address", "birth_date"):
                data.pop(key, None)
        if "special_groups" in data and not principal.sees(Field.SPECIAL_GROUPS, r.grid_code):
            data["special_groups"] = None
        data.pop("id_hash", None)
        out.append(
            {
                "version": r.version,
                "data": data,
                "proposal_id": r.proposal_id,
                "changed_by": r.changed_by,
                "changed_at": r.changed_at.isoformat(),
            }
        )
    if kind == "person":
        log_person_reads(
            session,
            principal,
            [record_id],
            purpose,
            address=address,
            obj=f"person:{record_id}:history",
        )
    return out
