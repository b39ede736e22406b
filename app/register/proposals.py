"""Filing, listing and moving proposals through their lifecycle (docs/register.md#proposals).

A proposal holds only the fields it changes, before and after (the ID number masked; the number
itself travels sealed beside it). Filing checks what can be checked now: the values, the ID number,
the same person twice, the record not changed since it was read, the grid the worker serves.
Approval (app/register/apply.py) checks the version again, since others may have changed it since.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.audittrail import record_event
from app.auth.policy import Action, Field, Principal, Resource, mask_name, mask_phone
from app.auth.scope import AreaScope
from app.desk import service as desk
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.grids.service import grid_of_point_sql
from app.locate.registry import today
from app.register import codes, fields, idnumbers, lifecycle, records
from app.register.keys import RegisterKeys
from app.register.schemas import DiffLine, ProposalIn, ProposalOut

NOT_YOURS = "您只能在自己负责的网格内提交登记簿变更"
MISSING = "变更申请不存在"
ACTIONS_OF: dict[str, tuple[str, ...]] = {
    "person": ("create", "update", "move", "remove"),
    "house": ("create", "update", "remove"),
    "organisation": ("create", "update", "remove"),
    "household": ("move",),
}
# Fields of a person that only a person with full view may read in a diff.
_CONTACT_FIELDS = {
    "name": mask_name,
    "phone": mask_phone,
    "landlord_name": mask_name,
    "landlord_phone": mask_phone,
    "contact_name": mask_name,
    "contact_phone": mask_phone,
}
_HIDDEN_WITHOUT_CONTACT = ("registered_address", "birth_date")

PROPOSAL_COLUMNS = (
    "id, client_id, kind, action, target_id, record_id, base_version, grid_code, from_grid_code, "
    "before, after, state, proposed_by, proposed_at, confirmed_by, reviewed_by, reviewed_at, "
    "reason, note"
)


# ---- the current values of a record, as proposal fields -----------------------------------------


def current_fields(session: Session, kind: str, row: Any) -> dict[str, Any]:
    """The record's values under the names proposals use (the ID number masked)."""
    if kind == "person":
        values = {name: getattr(row, name, None) for name in fields.PERSON if name != "id_number"}
        values["id_number"] = row.id_masked
        values["special_groups"] = list(row.special_groups)
        values["birth_date"] = row.birth_date.isoformat() if row.birth_date else None
        return values
    if kind == "household":
        return {"building_id": row.building_id, "unit": row.unit, "room": row.room}
    spec = fields.SPECS[kind]
    return {name: getattr(row, name, None) for name in spec}


def _household_row(session: Session, household_id: int, scope: AreaScope) -> Any:
    row = session.execute(
        text(
            f"SELECT h.id, h.building_id, h.unit, h.room, {grid_of_point_sql('h.location')} "
            "AS grid_code FROM households h WHERE h.id = :id"
        ),
        {"id": household_id},
    ).first()
    if row is None or not scope.covers(row.grid_code):
        raise NotFound("住户不存在")
    return row


def _building_grid(session: Session, building_id: int, scope: AreaScope, field: str) -> str:
    row = session.execute(
        text(
            f"SELECT b.id, {grid_of_point_sql('b.location')} AS grid_code FROM buildings b "
            "WHERE b.id = :id"
        ),
        {"id": building_id},
    ).first()
    if row is None:
        raise InvalidInput(f"{field}：楼栋 {building_id} 不存在", field=field)
    if row.grid_code is None:
        raise InvalidInput(f"{field}：该楼栋不在任何在用网格内", field=field)
    if not scope.covers(row.grid_code):
        raise Forbidden(NOT_YOURS)
    return str(row.grid_code)


def _point_grid(session: Session, lon: float, lat: float) -> str:
    code = session.execute(
        text("SELECT " + grid_of_point_sql("ST_SetSRID(ST_MakePoint(:lon, :lat), 4490)") + " AS g"),
        {"lon": lon, "lat": lat},
    ).scalar()
    if code is None:
        raise InvalidInput("fields.lon：该位置不在任何在用网格内", field="fields.lon")
    return str(code)


def _grid_of(
    session: Session, kind: str, values: dict[str, Any], current: dict[str, Any], scope: AreaScope
) -> str | None:
    """Where the record will be: from its house, household, building or point, else as given."""
    merged = {**current, **values}
    if kind == "person":
        if values.get("house_id"):
            return str(records.get_row(session, "house", values["house_id"], scope).grid_code)
        if values.get("household_id"):
            return str(_household_row(session, values["household_id"], scope).grid_code)
    if kind in ("house", "household") and values.get("building_id"):
        return _building_grid(session, values["building_id"], scope, "fields.building_id")
    if kind == "organisation":
        if values.get("lon") is not None and merged.get("lat") is not None:
            return _point_grid(session, merged["lon"], merged["lat"])
        if values.get("building_id"):
            return _building_grid(session, values["building_id"], scope, "fields.building_id")
    return merged.get("grid_code")


# ---- filing -------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _by_client_id(session: Session, client_id: Any) -> Any:
    return session.execute(
        text(f"SELECT {PROPOSAL_COLUMNS} FROM register_proposals WHERE client_id = :c"),
        {"c": client_id},
    ).first()


def _duplicate(
    session: Session, scope: AreaScope, keys: RegisterKeys, digest: bytes, target_id: int | None
) -> None:
    """409 if someone else holds (or is proposed with) this ID number: the record offered when
    the caller may see it, nothing named when it lies outside their area."""
    holder = session.execute(
        text("SELECT person_id, grid_code FROM register_id_holder(:h)"), {"h": digest}
    ).first()
    if holder is None or (target_id is not None and holder.person_id == target_id):
        return
    if holder.person_id is not None and scope.covers(holder.grid_code):
        existing = records.get_row(session, "person", holder.person_id, scope)
        view = records.person_view(existing, scope.principal, keys)
        raise Conflict(
            f"此人已登记（登记号 {view.id}，{view.name}），请在已有记录上提交变更，不要重复登记",
            conflict="duplicate",
            existing=view.model_dump(),
        )
    if holder.person_id is None and scope.covers(holder.grid_code):
        raise Conflict("此人已有一条待审核的新增申请，请勿重复提交", conflict="duplicate")
    raise Conflict(
        "该证件号码已在其他辖区登记或待审核；如系迁入，请联系原登记地办理迁出",
        conflict="duplicate",
    )


def file(
    session: Session, *, scope: AreaScope, keys: RegisterKeys | None, body: ProposalIn
) -> tuple[ProposalOut, bool]:
    """File ``body``; returns the proposal and whether it is new (False: a replayed client_id)."""
    principal = scope.principal
    replay = _by_client_id(session, body.client_id)
    if replay is not None:
        return proposal_out(replay, principal), False
    if body.action not in ACTIONS_OF[body.kind]:
        raise InvalidInput(
            f"action：{codes.KINDS[body.kind]}不支持「{codes.ACTIONS[body.action]}」",
            field="action",
        )
    creating = body.action == "create"
    values = (
        fields.read_fields(body.kind, body.fields, creating=creating)
        if body.fields or body.action not in ("remove",)
        else {}
    )
    current: dict[str, Any] = {}
    row = None
    if not creating:
        if body.target_id is None:
            raise InvalidInput("target_id：变更、迁移和注销须指明记录", field="target_id")
        if body.base_version is None and body.kind != "household":
            raise InvalidInput(
                "base_version：须带上读取记录时的版本号（防止覆盖他人的修改）", field="base_version"
            )
        if body.kind == "household":
            row = _household_row(session, body.target_id, scope)
        else:
            row = records.get_row(session, body.kind, body.target_id, scope)
        current = current_fields(session, body.kind, row)
        if body.kind != "household" and row.version != body.base_version:
            raise Conflict(
                "该记录在您读取之后已被修改，请核对最新内容后重新提交",
                conflict="stale",
                current=_current_view(row, body.kind, principal, keys),
                yours={k: _jsonable(v) for k, v in values.items()},
                current_version=row.version,
                your_version=body.base_version,
            )
    if body.action == "remove":
        status = values.get("status") or ("moved_out" if body.kind == "person" else "closed")
        values = {"status": status}

    sealed = digest = None
    if body.kind == "person" and "id_number" in values:
        if keys is None:
            raise InvalidInput("id_number：登记簿未配置密钥", field="fields.id_number")
        checked = idnumbers.check(
            values["id_number"] or "",
            id_type=values.get("id_type") or current.get("id_type") or idnumbers.RESIDENT_ID,
            field="fields.id_number",
        )
        digest = idnumbers.lookup_hash(keys, checked.number, checked.id_type)
        _duplicate(session, scope, keys, digest, body.target_id)
        sealed = idnumbers.seal(keys, checked.number)
        values["id_number"] = idnumbers.mask(checked.number)
        if checked.gender and "gender" not in values:
            values["gender"] = checked.gender
        if checked.birth_date and "birth_date" not in values:
            values["birth_date"] = checked.birth_date.isoformat()
        if (
            row is not None
            and values["id_number"] == current.get("id_number")
            and (bytes(row.id_cipher) and idnumbers.unseal(keys, row.id_cipher) == checked.number)
        ):
            values.pop("id_number")  # the same number: not a change
            sealed = digest = None

    grid = _grid_of(session, body.kind, values, current, scope)
    if grid is None:
        raise InvalidInput(
            "fields.grid_code：请指明所属网格（或居住房屋、所属住户）", field="fields.grid_code"
        )
    if body.kind in ("person", "house", "organisation") and grid != current.get("grid_code"):
        values["grid_code"] = grid
    from_grid = current.get("grid_code") if not creating else None
    if body.kind == "household":
        from_grid = row.grid_code if row is not None else None
    if not principal.edits_in(grid) or (
        from_grid is not None and not principal.edits_in(from_grid)
    ):
        raise Forbidden(NOT_YOURS)

    changed = {
        k: _jsonable(v)
        for k, v in values.items()
        if creating or _jsonable(current.get(k)) != _jsonable(v)
    }
    if not changed:
        raise InvalidInput("fields：提交的内容与现有记录相同，没有需要审核的变更", field="fields")
    before = {k: _jsonable(current.get(k)) for k in changed} if not creating else {}
    action = body.action
    if body.kind == "person" and action == "update" and from_grid and grid != from_grid:
        action = "move"
    state = "submitted" if body.confirm and not _confirms(principal) else "pending"
    new = session.execute(
        text(
            "INSERT INTO register_proposals (client_id, kind, action, target_id, base_version, "
            "grid_code, from_grid_code, before, after, id_cipher, id_hash, state, proposed_by, note) "
            "VALUES (:client_id, :kind, :action, :target, :base, :grid, :from_grid, "
            "CAST(:before AS jsonb), CAST(:after AS jsonb), :cipher, :hash, :state, :by, :note) "
            f"RETURNING {PROPOSAL_COLUMNS}"
        ),
        {
            "client_id": body.client_id,
            "kind": body.kind,
            "action": action,
            "target": body.target_id,
            "base": row.version if row is not None and body.kind != "household" else None,
            "grid": grid,
            "from_grid": from_grid if from_grid != grid else None,
            "before": _json(before),
            "after": _json(changed),
            "cipher": sealed,
            "hash": digest,
            "state": state,
            "by": principal.username,
            "note": body.note,
        },
    ).one()
    return proposal_out(new, principal), True


def _json(value: dict[str, Any]) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def _confirms(principal: Principal) -> bool:
    """A building leader's or steward's own report needs no further confirmation."""
    return principal.may(Resource.REGISTER_PROPOSAL, Action.UPDATE)


def _current_view(row: Any, kind: str, principal: Principal, keys: RegisterKeys | None) -> Any:
    if kind == "person":
        return records.person_view(row, principal, keys).model_dump()
    if kind == "house":
        return records.house_view(row, principal).model_dump()
    if kind == "organisation":
        return records.organisation_view(row, principal).model_dump()
    return dict(row._mapping)


# ---- reading ------------------------------------------------------------------------------------


def _masked(kind: str, values: dict[str, Any], principal: Principal, grid: str) -> dict[str, Any]:
    if principal.sees(Field.RESIDENT_CONTACT, grid):
        shown = dict(values)
    else:
        shown = {
            k: (_CONTACT_FIELDS[k](v) if k in _CONTACT_FIELDS and isinstance(v, str) else v)
            for k, v in values.items()
            if k not in _HIDDEN_WITHOUT_CONTACT
        }
    if "special_groups" in shown and not principal.sees(Field.SPECIAL_GROUPS, grid):
        shown["special_groups"] = None
    return shown


def _summary(row: Any, after: dict[str, Any]) -> str:
    what = f"{codes.ACTIONS.get(row.action, row.action)}{codes.KINDS.get(row.kind, row.kind)}"
    target = f" #{row.target_id}" if row.target_id else ""
    named = after.get("name")
    changed = "、".join(fields.label(row.kind, f) for f in after)
    return f"{what}{target}{' ' + str(named) if named else ''}：{changed}"


def proposal_out(row: Any, principal: Principal) -> ProposalOut:
    before = _masked(row.kind, dict(row.before or {}), principal, row.grid_code)
    after = _masked(row.kind, dict(row.after or {}), principal, row.grid_code)
    names = list(dict.fromkeys([*after, *before]))
    return ProposalOut(
        id=row.id,
        client_id=row.client_id,
        kind=row.kind,
        action=row.action,
        target_id=row.target_id,
        record_id=row.record_id,
        base_version=row.base_version,
        grid_code=row.grid_code,
        from_grid_code=row.from_grid_code,
        state=row.state,
        state_label=lifecycle.STATES[row.state],
        summary=_summary(row, after),
        diff=[
            DiffLine(
                field=n, label=fields.label(row.kind, n), before=before.get(n), after=after.get(n)
            )
            for n in names
        ],
        proposed_by=row.proposed_by,
        proposed_at=row.proposed_at.isoformat(),
        confirmed_by=row.confirmed_by,
        reviewed_by=row.reviewed_by,
        reviewed_at=row.reviewed_at.isoformat() if row.reviewed_at else None,
        reason=row.reason,
        note=row.note,
    )


def list_proposals(
    session: Session,
    *,
    scope: AreaScope,
    state: str | None,
    kind: str | None,
    mine: bool,
    before_id: int | None,
    limit: int,
    address: str | None,
) -> tuple[list[ProposalOut], int | None]:
    """The review list: newest first, a page at a time (keyset on id)."""
    where = [f"({scope.sql('grid_code')} OR {scope.sql('from_grid_code')})"]
    params: dict[str, Any] = {**scope.params(), "limit": limit + 1}
    for column, value in (("state", state), ("kind", kind)):
        if value:
            where.append(f"{column} = :{column}")
            params[column] = value
    if mine:
        where.append("proposed_by = :me")
        params["me"] = scope.principal.username
    if before_id:
        where.append("id < :before_id")
        params["before_id"] = before_id
    own = desk.proposal_filter(session, scope, today())
    if own is not None:
        where.append(own[0])
        params.update(own[1])
    rows = session.execute(
        text(
            f"SELECT {PROPOSAL_COLUMNS} FROM register_proposals WHERE {' AND '.join(where)} "
            "ORDER BY id DESC LIMIT :limit"
        ),
        params,
    ).all()
    more = len(rows) > limit
    out = [proposal_out(r, scope.principal) for r in rows[:limit]]
    if out:
        record_event(
            session,
            actor=scope.principal.username,
            address=address,
            action="personal.read",
            object="register_proposals",
            outcome="success",
            detail={"proposal_ids": [p.id for p in out], "purpose": "review list"},
        )
    return out, (out[-1].id if more else None)


def get_proposal(
    session: Session, scope: AreaScope, proposal_id: int, *, lock: bool = False
) -> Any:
    row = session.execute(
        text(
            f"SELECT {PROPOSAL_COLUMNS}, id_cipher, id_hash FROM register_proposals WHERE id = :id"
            + (" FOR UPDATE" if lock else "")
        ),
        {"id": proposal_id},
    ).first()
    if row is None or not (scope.covers(row.grid_code) or scope.covers(row.from_grid_code)):
        raise NotFound(MISSING)
    own = desk.proposal_filter(session, scope, today())
    if own is not None and not session.scalar(
        text(f"SELECT 1 FROM register_proposals WHERE id = :id AND {own[0]}"),
        {"id": proposal_id, **own[1]},
    ):
        raise NotFound(MISSING)  # another building's change: as if it did not exist
    return row


def transition(
    session: Session,
    *,
    scope: AreaScope,
    proposal_id: int,
    verb: str,
    reason: str | None = None,
) -> ProposalOut:
    """Confirm, return or withdraw (approval is app/register/apply.py: it changes the record)."""
    principal = scope.principal
    row = get_proposal(session, scope, proposal_id, lock=True)
    to_state, needs = lifecycle.step(row.state, verb)
    if needs is None and row.proposed_by != principal.username:
        raise Forbidden("只有提交人可以撤回这条变更")
    if needs is not None and not principal.may(Resource.REGISTER_PROPOSAL, needs):
        raise Forbidden(f"您的角色不能{lifecycle.VERB_LABELS[verb]}登记簿变更")
    if verb == "confirm" and not principal.edits_in(row.grid_code):
        raise Forbidden(NOT_YOURS)
    if verb == "return" and row.proposed_by == principal.username:
        raise Forbidden("不能审核自己提交的变更")
    columns = {
        "confirm": "confirmed_by = :me, confirmed_at = now()",
        "return": "reviewed_by = :me, reviewed_at = now(), reason = :reason",
        "withdraw": "reviewed_at = now()",
    }[verb]
    updated = session.execute(
        text(
            f"UPDATE register_proposals SET state = :state, {columns} WHERE id = :id "
            f"RETURNING {PROPOSAL_COLUMNS}"
        ),
        {"state": to_state, "me": principal.username, "reason": reason, "id": proposal_id},
    ).one()
    return proposal_out(updated, principal)
