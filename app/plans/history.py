"""A draft's edit history, kept in the database so undo and redo survive a reload and another
browser: each edit stores the plan's grids before and after it (``plan_edits``); ``plans.edit_seq``
counts the edits applied. Undo restores the last applied edit's "before", redo the next one's
"after"; a new edit after an undo drops the edits that could have been redone (as editors do).
Buildings and households are re-assigned from the restored shapes, so they are today's counts.
"""

from __future__ import annotations

from typing import Any

import shapely
from geoalchemy2.shape import from_shape, to_shape
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.auth.scope import AreaScope
from app.base import SRID
from app.errors import Conflict
from app.plans.load import (
    assign_buildings,
    community_buildings,
    community_geom,
    get_plan,
    plan_grids,
)
from app.plans.lock import acquire_lock, check_version
from app.plans.models import Plan, PlanEdit, PlanGrid
from app.plans.workflow import require_state

KIND_LABELS = {
    "reshape": "调整边界",
    "split": "拆分",
    "merge": "合并",
    "move-buildings": "移动楼栋",
    "rename": "改名",
}


def snapshot(grids: list[PlanGrid]) -> list[dict[str, Any]]:
    return [
        {
            "id": g.id,
            "code": g.code,
            "name": g.name,
            "type": g.type,
            "wkb": shapely.to_wkb(to_shape(g.geom), hex=True),
            "reason": g.exception_reason,
        }
        for g in grids
    ]


def _summary(kind: str, before: list[dict[str, Any]], after: list[dict[str, Any]]) -> str:
    """The edit in words: its kind and the grids it touched (by their names after the edit)."""
    old = {g["id"]: g for g in before}
    new = {g["id"]: g for g in after}
    touched = [
        g["name"]
        for gid, g in new.items()
        if gid not in old or (old[gid]["wkb"], old[gid]["name"]) != (g["wkb"], g["name"])
    ] + [g["name"] for gid, g in old.items() if gid not in new]
    names = "、".join(f"「{n}」" for n in touched[:4]) + ("等" if len(touched) > 4 else "")
    return f"{KIND_LABELS.get(kind, kind)} {names}".strip()[:200]


def record(
    session: Session,
    plan: Plan,
    kind: str,
    before: list[dict[str, Any]],
    after: list[dict[str, Any]],
    *,
    user: str,
) -> None:
    session.execute(
        delete(PlanEdit).where(PlanEdit.plan_id == plan.id, PlanEdit.seq > plan.edit_seq)
    )
    plan.edit_seq += 1
    session.add(
        PlanEdit(
            plan_id=plan.id,
            seq=plan.edit_seq,
            kind=kind,
            summary=_summary(kind, before, after),
            before=before,
            after=after,
            made_by=user,
        )
    )


def restore(session: Session, plan: Plan, state: list[dict[str, Any]]) -> None:
    """Make the plan's grids exactly ``state`` (ids kept, so the page's selection and names hold)."""
    current = {g.id: g for g in plan_grids(session, plan)}
    wanted = {s["id"] for s in state}
    for gid, grid in current.items():
        if gid not in wanted:
            session.delete(grid)
    session.flush()
    rows: list[PlanGrid] = []
    for s in sorted(state, key=lambda s: s["id"]):
        found = current.get(s["id"])
        grid = found if found is not None else PlanGrid(id=s["id"], plan_id=plan.id)
        session.add(grid)
        grid.code, grid.name, grid.type = s["code"], s["name"], s["type"]
        grid.exception_reason = s.get("reason")
        grid.geom = from_shape(shapely.from_wkb(s["wkb"]), srid=SRID)
        rows.append(grid)
    session.flush()
    community = community_geom(session, plan.community_code)
    assign_buildings(rows, community_buildings(session, plan.community_code, community))
    session.flush()


def step(
    session: Session,
    *,
    plan_id: int,
    version: int,
    scope: AreaScope,
    lock_minutes: int,
    forward: bool,
) -> Plan:
    """Undo (``forward=False``) the last applied edit or redo the next undone one."""
    plan = get_plan(session, plan_id, scope=scope, for_update=True)
    require_state(plan, "redo" if forward else "undo")
    check_version(plan, version)
    seq = plan.edit_seq + 1 if forward else plan.edit_seq
    entry = (
        session.scalar(select(PlanEdit).where(PlanEdit.plan_id == plan.id, PlanEdit.seq == seq))
        if seq >= 1
        else None
    )
    if entry is None:
        raise Conflict("没有可以重做的编辑" if forward else "没有可以撤销的编辑")
    acquire_lock(plan, scope.principal, minutes=lock_minutes)
    restore(session, plan, entry.after if forward else entry.before)
    plan.edit_seq = seq if forward else seq - 1
    plan.version += 1
    session.flush()
    return plan


def undo_redo(session: Session, plan: Plan) -> tuple[str | None, str | None]:
    """What undo and redo would do now (the edits' summaries), or None where there is nothing."""
    rows = dict(
        session.execute(
            select(PlanEdit.seq, PlanEdit.summary).where(
                PlanEdit.plan_id == plan.id, PlanEdit.seq.in_((plan.edit_seq, plan.edit_seq + 1))
            )
        ).all()
    )
    return rows.get(plan.edit_seq) if plan.edit_seq >= 1 else None, rows.get(plan.edit_seq + 1)
