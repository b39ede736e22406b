"""Approving a proposal: the change becomes current in the same transaction (docs/register.md).

The record's version must still be the one the proposal was made against (else 409 with both);
the record's version rises by one and the new version is written to ``register_history``. Moving a
household moves its persons with it, in this one transaction. A person's special groups roll up to
their household (the household's flags are the union of its registered members' groups), so the
visit cadences and the audits, which work on households, follow the register.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.policy import Action, Resource, system_principal
from app.auth.scope import AreaScope
from app.errors import Conflict, Forbidden
from app.grids.service import grid_of_point_sql
from app.register import codes, lifecycle, proposals, records
from app.register.keys import RegisterKeys
from app.register.schemas import ProposalOut

_PERSON_COLUMNS = (
    "name", "gender", "birth_date", "id_type", "phone", "ethnicity", "residence_type",
    "registered_address", "household_id", "relation", "house_id", "grid_code",
    "special_groups", "party_member", "status",
)  # fmt: skip
_HOUSE_COLUMNS = (
    "grid_code", "building_id", "unit", "room", "room_id", "door_number_id", "use",
    "landlord_person_id", "landlord_name", "landlord_phone", "area_m2", "status",
)  # fmt: skip
_ORG_COLUMNS = (
    "grid_code", "kind", "name", "credit_code", "address", "building_id", "contact_name",
    "contact_phone", "employees", "status",
)  # fmt: skip
COLUMNS = {"person": _PERSON_COLUMNS, "house": _HOUSE_COLUMNS, "organisation": _ORG_COLUMNS}
TABLES = records.TABLES
CROSS_AREA = "这条变更涉及您辖区以外的网格，须由共同的上级（街道或县）审核"


def _with_floating_tag(values: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """The floating-population tag follows the residence type (codes.FLOATING_TAG)."""
    if "residence_type" not in values and "special_groups" not in values:
        return values
    residence = values.get("residence_type", current.get("residence_type"))
    groups = [
        g for g in values.get("special_groups", current.get("special_groups") or [])
        if g != codes.FLOATING_TAG
    ]  # fmt: skip
    if residence == "floating":
        groups.append(codes.FLOATING_TAG)
    return {**values, "special_groups": sorted(groups, key=codes.SPECIAL_GROUPS.index)}


def _assignments(kind: str, values: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    sets, params = [], {}
    for column in COLUMNS[kind]:
        if column in values:
            sets.append(f"{column} = :v_{column}")
            params[f"v_{column}"] = values[column]
    if kind == "organisation" and ("lon" in values or "building_id" in values):
        sets.append("location = " + _org_point(values))
        params.update(_org_point_params(values))
    return sets, params


def _org_point(values: dict[str, Any]) -> str:
    if values.get("lon") is not None and values.get("lat") is not None:
        return "ST_SetSRID(ST_MakePoint(:p_lon, :p_lat), 4490)"
    if values.get("building_id"):
        return "(SELECT location FROM buildings WHERE id = :p_building)"
    return "NULL"


def _org_point_params(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "p_lon": values.get("lon"),
        "p_lat": values.get("lat"),
        "p_building": values.get("building_id"),
    }


def snapshot(session: Session, kind: str, record_id: int) -> tuple[dict[str, Any], int, str]:
    """The whole record as history keeps it (no ciphertext, no hash): data, version, grid."""
    row = records.get_row(session, kind, record_id, AreaScope(_SYSTEM_VIEW, "", app_filters=False))
    data = {
        k: (v.isoformat() if hasattr(v, "isoformat") else v)
        for k, v in row._mapping.items()
        if k not in ("id_cipher",)
    }
    if kind == "person":
        data["id_number"] = data.pop("id_masked")
    return data, int(row.version), str(row.grid_code)


_SYSTEM_VIEW = system_principal("register")


def write_history(
    session: Session, kind: str, record_id: int, *, by: str, proposal_id: int | None
) -> None:
    data, version, grid = snapshot(session, kind, record_id)
    session.execute(
        text(
            "INSERT INTO register_history (kind, record_id, version, grid_code, data, proposal_id, "
            "changed_by) VALUES (:k, :r, :v, :g, CAST(:d AS jsonb), :p, :by)"
        ),
        {"k": kind, "r": record_id, "v": version, "g": grid, "d": json.dumps(data, ensure_ascii=False),
         "p": proposal_id, "by": by},
    )  # fmt: skip


def sync_household_groups(session: Session, household_ids: set[int | None]) -> None:
    """A household's special groups are the union of its registered members' groups."""
    ids = [h for h in household_ids if h]
    if not ids:
        return
    session.execute(
        text(
            "UPDATE households h SET special_groups = coalesce((SELECT array_agg(DISTINCT g ORDER BY g) "
            "FROM persons p, unnest(p.special_groups) g WHERE p.household_id = h.id "
            "AND p.status = 'active'), '{}') WHERE h.id = ANY(:ids)"
        ),
        {"ids": ids},
    )


def link_household(session: Session, house_id: int) -> None:
    """An occupied house has its household (户): the one at its address, or a new one there, so
    households stay the grid's load (app/grids/service.py)."""
    session.execute(
        text(
            """
            WITH h AS (SELECT id, building_id, unit, room FROM houses
                        WHERE id = :id AND household_id IS NULL
                          AND use IN ('self_occupied', 'rented') AND status = 'active'),
                 made AS (
                   INSERT INTO households (building_id, unit, room, size, location)
                   SELECT h.building_id, h.unit, h.room, 0, b.location
                     FROM h JOIN buildings b ON b.id = h.building_id
                   ON CONFLICT (building_id, unit, room) DO UPDATE SET unit = EXCLUDED.unit
                   RETURNING id)
            UPDATE houses SET household_id = (SELECT id FROM made) WHERE id IN (SELECT id FROM h)
            """
        ),
        {"id": house_id},
    )


def _insert(session: Session, kind: str, values: dict[str, Any], row: Any) -> int:
    sets, params = _assignments(kind, values)
    columns = [s.split(" = ", 1)[0] for s in sets]
    exprs = [s.split(" = ", 1)[1] for s in sets]
    if kind == "person":
        columns += ["id_hash", "id_cipher", "id_masked"]
        exprs += [":id_hash", ":id_cipher", ":id_masked"]
        params.update(id_hash=row.id_hash, id_cipher=row.id_cipher, id_masked=values["id_number"])
    try:
        with session.begin_nested():
            return int(
                session.execute(
                    text(
                        f"INSERT INTO {TABLES[kind]} ({', '.join(columns)}) "
                        f"VALUES ({', '.join(exprs)}) RETURNING id"
                    ),
                    params,
                ).scalar_one()
            )
    except IntegrityError as exc:
        raise _integrity(kind, exc) from exc


def _integrity(kind: str, exc: IntegrityError) -> Conflict:
    constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", "") or ""
    if constraint == "uq_persons_id_hash":
        return Conflict("此人已登记（另一条变更已先通过），本条不能再新增", conflict="duplicate")
    if constraint == "uq_houses_address":
        return Conflict("该地址的房屋已登记，请在已有记录上提交变更", conflict="duplicate")
    if constraint == "uq_organisations_credit_code":
        return Conflict("该统一社会信用代码的单位已登记", conflict="duplicate")
    return Conflict(f"登记簿拒绝了这次变更（{constraint or exc.orig}）")


def _update(session: Session, kind: str, record_id: int, values: dict[str, Any], row: Any) -> None:
    sets, params = _assignments(kind, values)
    if kind == "person" and row.id_hash is not None:
        sets += ["id_hash = :id_hash", "id_cipher = :id_cipher", "id_masked = :id_masked"]
        params.update(id_hash=row.id_hash, id_cipher=row.id_cipher, id_masked=values["id_number"])
    sets += ["version = version + 1", "updated_at = now()"]
    try:
        with session.begin_nested():
            session.execute(
                text(f"UPDATE {TABLES[kind]} SET {', '.join(sets)} WHERE id = :rid"),
                {**params, "rid": record_id},
            )
    except IntegrityError as exc:
        raise _integrity(kind, exc) from exc


def _move_household(session: Session, household_id: int, values: dict[str, Any], by: str) -> str:
    """The household to its new address, its persons and houses with it; returns the new grid."""
    old = session.execute(
        text("SELECT building_id, unit, room FROM households WHERE id = :id FOR UPDATE"),
        {"id": household_id},
    ).one()
    target = {
        "building_id": values.get("building_id", old.building_id),
        "unit": values.get("unit", old.unit) or "",
        "room": values.get("room", old.room) or "",
    }
    session.execute(
        text(
            "UPDATE households SET building_id = :building_id, unit = :unit, room = :room, "
            "location = (SELECT location FROM buildings WHERE id = :building_id) WHERE id = :id"
        ),
        {**target, "id": household_id},
    )
    grid = session.execute(
        text(f"SELECT {grid_of_point_sql('h.location')} FROM households h WHERE h.id = :id"),
        {"id": household_id},
    ).scalar_one()
    # The house left behind is empty now; the one moved into is this household's.
    left = (
        session.execute(
            text(
                "UPDATE houses SET household_id = NULL, use = 'vacant', version = version + 1, "
                "updated_at = now() WHERE household_id = :id RETURNING id"
            ),
            {"id": household_id},
        )
        .scalars()
        .all()
    )
    moved_into = session.execute(
        text(
            "INSERT INTO houses (grid_code, building_id, unit, room, use, household_id) "
            "VALUES (:grid, :building_id, :unit, :room, 'self_occupied', :id) "
            "ON CONFLICT (building_id, unit, room) DO UPDATE SET household_id = EXCLUDED.household_id, "
            "use = 'self_occupied', grid_code = EXCLUDED.grid_code, version = houses.version + 1, "
            "updated_at = now() RETURNING id"
        ),
        {**target, "grid": grid, "id": household_id},
    ).scalar_one()
    people = (
        session.execute(
            text(
                "UPDATE persons SET grid_code = :grid, house_id = :house, version = version + 1, "
                "updated_at = now() WHERE household_id = :id RETURNING id"
            ),
            {"grid": grid, "house": moved_into, "id": household_id},
        )
        .scalars()
        .all()
    )
    for house_id in {*left, moved_into}:
        write_history(session, "house", house_id, by=by, proposal_id=None)
    for person_id in people:
        write_history(session, "person", person_id, by=by, proposal_id=None)
    return str(grid)


def approve(
    session: Session, *, scope: AreaScope, keys: RegisterKeys | None, proposal_id: int
) -> ProposalOut:
    principal = scope.principal
    row = proposals.get_proposal(session, scope, proposal_id, lock=True)
    lifecycle.step(row.state, "approve")
    if not principal.may(Resource.REGISTER_PROPOSAL, Action.APPROVE):
        raise Forbidden("您的角色不能审核登记簿变更")
    if row.proposed_by == principal.username:
        raise Forbidden("不能审核自己提交的变更")
    if not scope.covers(row.grid_code) or (
        row.from_grid_code is not None and not scope.covers(row.from_grid_code)
    ):
        raise Forbidden(CROSS_AREA)
    after = dict(row.after)
    by = principal.username
    record_id: int
    if row.kind == "household":
        _move_household(session, row.target_id, after, by)
        record_id = row.target_id
        touched: set[int | None] = {row.target_id}
    elif row.action == "create":
        values = _with_floating_tag(after, {}) if row.kind == "person" else after
        record_id = _insert(session, row.kind, values, row)
        touched = {values.get("household_id")}
    else:
        current = session.execute(
            text(f"SELECT * FROM {TABLES[row.kind]} WHERE id = :id FOR UPDATE"),
            {"id": row.target_id},
        ).first()
        if current is None:
            raise Conflict("该记录已不存在，这条变更无法通过")
        if current.version != row.base_version:
            view = proposals._current_view(
                records.get_row(session, row.kind, row.target_id, scope), row.kind, principal, keys
            )
            raise Conflict(
                "该记录在这条变更提交之后已被修改；请退回，由提交人核对最新内容后重新提交",
                conflict="stale",
                current=view,
                yours=proposals.proposal_out(row, principal).model_dump(mode="json"),
                current_version=current.version,
                your_version=row.base_version,
            )
        values = after
        if row.kind == "person":
            values = _with_floating_tag(after, dict(current._mapping))
        _update(session, row.kind, row.target_id, values, row)
        record_id = row.target_id
        touched = {getattr(current, "household_id", None), values.get("household_id")}
    if row.kind == "house":
        link_household(session, record_id)
    if row.kind == "person":
        # A person living in a house belongs to its household unless told otherwise.
        joined = session.execute(
            text(
                "UPDATE persons p SET household_id = h.household_id FROM houses h "
                "WHERE p.id = :id AND p.household_id IS NULL AND h.id = p.house_id "
                "AND h.household_id IS NOT NULL RETURNING p.household_id"
            ),
            {"id": record_id},
        ).scalar()
        sync_household_groups(session, touched | {joined})
    if row.kind != "household":
        write_history(session, row.kind, record_id, by=by, proposal_id=row.id)
    updated = session.execute(
        text(
            "UPDATE register_proposals SET state = 'approved', reviewed_by = :me, "
            "reviewed_at = now(), record_id = :rid WHERE id = :id "
            f"RETURNING {proposals.PROPOSAL_COLUMNS}"
        ),
        {"me": by, "rid": record_id, "id": row.id},
    ).one()
    return proposals.proposal_out(updated, principal)
