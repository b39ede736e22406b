"""Plan routes (thin: parse, call the service, shape the response) and the point-in-time grid query."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile

from app.auth.deps import SessionDep
from app.auth.policy import Action, Resource, allowed_roles, roles_label
from app.auth.scope import AreaScope, access, access_whole
from app.errors import Forbidden, InvalidInput, NotFound
from app.imports.upload import receive_upload
from app.params import Id
from app.plans import approval, balance, exchange, history
from app.plans.create import create_plan as create_draft
from app.plans.edit import (
    EditFn,
    apply_edit,
    merge_edit,
    move_buildings_edit,
    rename_grid,
    reshape_edit,
    split_edit,
)
from app.plans.impact import impact as impact_of
from app.plans.load import get_plan, plan_grids
from app.plans.load import list_plans as plans_in
from app.plans.lock import acquire_lock, lock_public
from app.plans.lock import release_lock as release
from app.plans.models import Plan
from app.plans.rules import PlanRules
from app.plans.schemas import (
    ApprovalPublic,
    ApproveIn,
    BalancePublic,
    Edit,
    GridAtPublic,
    ImpactPublic,
    LockPublic,
    MergeEdit,
    MoveBuildingsEdit,
    PlanCreate,
    PlanPublic,
    PlansPublic,
    PlanSummary,
    PreviewIn,
    RenameEdit,
    ReshapeEdit,
    ReturnIn,
    SplitEdit,
    SubmitIn,
    ValidationPublic,
)
from app.plans.validate import submit as submit_plan
from app.plans.validate import validate
from app.plans.view import plan_public

router = APIRouter(tags=["plans"])
P = "/api/v1/plans"

# Who may do what: the policy table (app/auth/policy.py). A plan outside the caller's area is
# answered like a missing one (app/plans/load.py get_plan).
Lister = Annotated[AreaScope, Depends(access(Resource.PLAN))]
Reader = Annotated[AreaScope, Depends(access_whole(Resource.PLAN))]
Creator = Annotated[AreaScope, Depends(access_whole(Resource.PLAN, Action.CREATE))]
Planner = Annotated[AreaScope, Depends(access_whole(Resource.PLAN, Action.UPDATE))]
Approver = Annotated[AreaScope, Depends(access_whole(Resource.PLAN, Action.APPROVE))]


def _rules(request: Request) -> PlanRules:
    return PlanRules.of(request.app.state.settings)


# The county's plan rules, from the settings this app was built with.
Rules = Annotated[PlanRules, Depends(_rules)]


def _readable(session: SessionDep, plan_id: int, who: AreaScope) -> Plan:
    return get_plan(session, plan_id, scope=who)


@router.get(P, response_model=PlansPublic)
def list_plans(
    session: SessionDep, who: Lister, community_code: str | None = None, status: str | None = None
) -> PlansPublic:
    plans = plans_in(session, scope=who, community_code=community_code, status=status)
    data = [
        PlanSummary(
            id=p.id,
            community_code=p.community_code,
            name=p.name,
            status=p.status,
            version=p.version,
            effective_date=p.effective_date,
        )
        for p in plans
    ]
    return PlansPublic(data=data, count=len(data))


@router.post(P, response_model=PlanPublic, status_code=201)
def create_plan(session: SessionDep, who: Creator, rules: Rules, body: PlanCreate) -> PlanPublic:
    rules = rules.override(target=body.target, band=body.band)
    plan, notes = create_draft(
        session,
        community_code=body.community_code,
        scope=who,
        rules=rules,
        source=body.source,
        name=body.name,
    )
    return plan_public(session, plan, band=rules.band, principal=who.principal, notes=notes)


@router.post(f"{P}/upload", response_model=PlanPublic, status_code=201)
async def upload_plan(
    request: Request,
    session: SessionDep,
    who: Creator,
    rules: Rules,
    file: Annotated[UploadFile, File(description="GeoPackage, GeoJSON, zipped Shapefile, KML")],
    community_code: Annotated[str, Form(pattern=r"^[0-9]{12}$")],
    crs: Annotated[str | None, Form()] = None,
    layer: Annotated[str | None, Form()] = None,
    name: Annotated[str | None, Form()] = None,
) -> PlanPublic:
    with tempfile.TemporaryDirectory() as tmp:
        target = await receive_upload(file, Path(tmp), request.app.state.settings)
        plan, notes = exchange.import_plan(
            session,
            path=target,
            community_code=community_code,
            scope=who,
            crs=crs,
            layer=layer,
            name=name,
        )
    return plan_public(session, plan, band=rules.band, principal=who.principal, notes=notes)


@router.get(f"{P}/{{plan_id}}", response_model=PlanPublic)
def read_plan(session: SessionDep, who: Reader, rules: Rules, plan_id: Id) -> PlanPublic:
    plan = _readable(session, plan_id, who)
    return plan_public(session, plan, band=rules.band, principal=who.principal)


@router.get(f"{P}/{{plan_id}}/validation", response_model=ValidationPublic)
def validate_plan(session: SessionDep, who: Reader, rules: Rules, plan_id: Id) -> ValidationPublic:
    plan = _readable(session, plan_id, who)
    return validate(session, plan, plan_grids(session, plan), band=rules.band)


@router.get(f"{P}/{{plan_id}}/export")
def export_plan(
    session: SessionDep, who: Reader, plan_id: Id, f: Annotated[str, Query()] = "gpkg"
) -> Response:
    content, media, name = exchange.export_plan(session, plan_id=plan_id, scope=who, fmt=f)
    return Response(
        content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


# --------------------------------------------------------------------------- lock
@router.get(f"{P}/{{plan_id}}/lock", response_model=LockPublic)
def read_lock(session: SessionDep, who: Reader, plan_id: Id) -> LockPublic:
    return lock_public(_readable(session, plan_id, who))


@router.post(f"{P}/{{plan_id}}/lock", response_model=LockPublic)
def take_lock(session: SessionDep, who: Planner, rules: Rules, plan_id: Id) -> LockPublic:
    plan = get_plan(session, plan_id, scope=who, for_update=True)
    acquire_lock(plan, who.principal, minutes=rules.lock_minutes)
    return lock_public(plan)


@router.delete(f"{P}/{{plan_id}}/lock", response_model=LockPublic)
def release_lock(session: SessionDep, who: Planner, plan_id: Id, force: bool = False) -> LockPublic:
    """Release your lock; ``force=true`` breaks someone else's (those who approve plans)."""
    if force and not who.principal.may(Resource.PLAN, Action.APPROVE):
        breakers = roles_label(allowed_roles(Resource.PLAN, Action.APPROVE))
        raise Forbidden(f"只有{breakers}可以强制解除他人的锁")
    plan = get_plan(session, plan_id, scope=who, for_update=True)
    release(plan, who.principal, force=force)
    return lock_public(plan)


# --------------------------------------------------------------------------- edits
def _edited(
    session: SessionDep,
    who: AreaScope,
    rules: PlanRules,
    plan_id: Id,
    version: int,
    fn: EditFn,
    kind: str,
) -> PlanPublic:
    plan = apply_edit(
        session, plan_id=plan_id, version=version, scope=who, edit=fn, kind=kind,
        lock_minutes=rules.lock_minutes,
    )  # fmt: skip
    return plan_public(session, plan, band=rules.band, principal=who.principal)


@router.post(f"{P}/{{plan_id}}/reshape", response_model=PlanPublic)
def reshape(
    session: SessionDep, who: Planner, rules: Rules, plan_id: Id, body: ReshapeEdit
) -> PlanPublic:
    fn = reshape_edit(body.grid_id, body.geometry)
    return _edited(session, who, rules, plan_id, body.version, fn, "reshape")


@router.post(f"{P}/{{plan_id}}/split", response_model=PlanPublic)
def split(
    session: SessionDep, who: Planner, rules: Rules, plan_id: Id, body: SplitEdit
) -> PlanPublic:
    fn = split_edit(body.grid_id, body.line)
    return _edited(session, who, rules, plan_id, body.version, fn, "split")


@router.post(f"{P}/{{plan_id}}/merge", response_model=PlanPublic)
def merge(
    session: SessionDep, who: Planner, rules: Rules, plan_id: Id, body: MergeEdit
) -> PlanPublic:
    fn = merge_edit(body.grid_id, body.other_grid_id)
    return _edited(session, who, rules, plan_id, body.version, fn, "merge")


@router.post(f"{P}/{{plan_id}}/move-buildings", response_model=PlanPublic)
def move_buildings(
    session: SessionDep, who: Planner, rules: Rules, plan_id: Id, body: MoveBuildingsEdit
) -> PlanPublic:
    fn = move_buildings_edit(session, body.building_ids, body.to_grid_id)
    return _edited(session, who, rules, plan_id, body.version, fn, "move-buildings")


@router.post(f"{P}/{{plan_id}}/rename", response_model=PlanPublic)
def rename(
    session: SessionDep, who: Planner, rules: Rules, plan_id: Id, body: RenameEdit
) -> PlanPublic:
    """Name a grid of the plan: the name it keeps on the map, in lists, exports and once live."""
    plan = rename_grid(
        session, plan_id=plan_id, version=body.version, scope=who, grid_id=body.grid_id,
        name=body.name, lock_minutes=rules.lock_minutes,
    )  # fmt: skip
    return plan_public(session, plan, band=rules.band, principal=who.principal)


@router.post(f"{P}/{{plan_id}}/undo", response_model=PlanPublic)
def undo(session: SessionDep, who: Planner, rules: Rules, plan_id: Id, body: Edit) -> PlanPublic:
    """Take back the last edit (the history is the plan's: it survives a reload)."""
    return _step(session, who, rules, plan_id, body.version, forward=False)


@router.post(f"{P}/{{plan_id}}/redo", response_model=PlanPublic)
def redo(session: SessionDep, who: Planner, rules: Rules, plan_id: Id, body: Edit) -> PlanPublic:
    """Make the last undone edit again."""
    return _step(session, who, rules, plan_id, body.version, forward=True)


def _step(
    session: SessionDep, who: AreaScope, rules: PlanRules, plan_id: Id, version: int, *,
    forward: bool,
) -> PlanPublic:  # fmt: skip
    plan = history.step(
        session, plan_id=plan_id, version=version, scope=who, lock_minutes=rules.lock_minutes,
        forward=forward,
    )  # fmt: skip
    return plan_public(session, plan, band=rules.band, principal=who.principal)


@router.post(f"{P}/{{plan_id}}/preview", response_model=BalancePublic)
def preview(
    session: SessionDep, who: Planner, rules: Rules, plan_id: Id, body: PreviewIn
) -> BalancePublic:
    """The live balance while drawing: households, buildings and band per grid if this edit were
    made now. Nothing is written, no lock is taken."""
    fn = _preview_edit(session, body)
    return balance.preview(session, plan_id=plan_id, scope=who, edit=fn, band=rules.band)


def _preview_edit(session: SessionDep, body: PreviewIn) -> EditFn:
    def need(value: Any, what: str) -> Any:
        if value is None or value == []:
            raise InvalidInput(f"预览{_KINDS[body.kind]}需要 {what}")
        return value

    if body.kind == "reshape":
        return reshape_edit(need(body.grid_id, "grid_id"), need(body.geometry, "geometry"))
    if body.kind == "split":
        return split_edit(need(body.grid_id, "grid_id"), need(body.line, "line"))
    if body.kind == "merge":
        return merge_edit(need(body.grid_id, "grid_id"), need(body.other_grid_id, "other_grid_id"))
    return move_buildings_edit(
        session, need(body.building_ids, "building_ids"), need(body.to_grid_id, "to_grid_id")
    )


_KINDS = {"reshape": "调整边界", "split": "拆分", "merge": "合并", "move-buildings": "移动楼栋"}


# --------------------------------------------------------------------------- workflow
@router.post(f"{P}/{{plan_id}}/submit", response_model=ValidationPublic)
def submit(
    session: SessionDep, who: Planner, rules: Rules, plan_id: Id, body: SubmitIn
) -> ValidationPublic:
    """Submit for approval, with a reason for each grid that needs one (no households, no
    buildings, fewer households than the band); refused while anything is wrong."""
    return submit_plan(
        session, plan_id=plan_id, version=body.version, scope=who, band=rules.band,
        reasons=body.reasons,
    )  # fmt: skip


@router.post(f"{P}/{{plan_id}}/return", response_model=PlanPublic)
def return_plan(
    session: SessionDep, who: Approver, rules: Rules, plan_id: Id, body: ReturnIn
) -> PlanPublic:
    """退回: send a submitted plan back to its planner, with the reason."""
    plan = approval.return_plan(session, plan_id=plan_id, scope=who, reason=body.reason)
    return plan_public(session, plan, band=rules.band, principal=who.principal)


@router.get(f"{P}/{{plan_id}}/impact", response_model=ImpactPublic)
def impact(session: SessionDep, who: Reader, plan_id: Id) -> ImpactPublic:
    return impact_of(session, plan_id=plan_id, scope=who)


@router.post(f"{P}/{{plan_id}}/approve", response_model=ApprovalPublic)
def approve(
    request: Request, session: SessionDep, who: Approver, rules: Rules, plan_id: Id, body: ApproveIn
) -> ApprovalPublic:
    result = approval.approve(
        session,
        plan_id=plan_id,
        scope=who,
        effective_date=body.effective_date,
        reason=body.reason,
        band=rules.band,
    )
    if result.status == "approved":  # swapped now; a scheduled plan is swapped at its date
        request.app.state.registry.invalidate()
    return result


# --------------------------------------------------------------------------- history
@router.get("/api/v1/grids/at", response_model=GridAtPublic, tags=["grids"])
def grid_at(
    session: SessionDep,
    lng: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    date: dt.date | None = None,
) -> GridAtPublic:
    """Which grid was this point in on ``date`` (default today)? Retired versions included."""
    day = date or dt.date.today()
    grid = approval.grid_at(session, lng=lng, lat=lat, day=day)
    if grid is None:
        raise NotFound(f"{day} 该位置不在任何网格内")
    return approval.grid_at_public(grid)
