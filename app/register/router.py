"""The register's API (docs/register.md#api): records read masked, changes filed as proposals and
reviewed by the community, the exchange files for administrators."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse

from app.audittrail import record_event
from app.audittrail.middleware import client_address
from app.auth.deps import SessionDep
from app.auth.policy import Action, Resource
from app.auth.scope import AreaScope, access, access_whole
from app.errors import PayloadTooLarge
from app.params import INT4_MAX, Id, Offset
from app.register import apply, codes, exchange, lifecycle, proposals, records
from app.register.fields import ID_TYPES
from app.register.keys import RegisterKeys, register_keys
from app.register.schemas import (
    HistoryOut,
    HouseOut,
    HousesOut,
    ImportReport,
    LookupIn,
    OrganisationOut,
    OrganisationsOut,
    PersonOut,
    PersonsOut,
    ProposalIn,
    ProposalOut,
    ProposalsOut,
    ReturnIn,
)

router = APIRouter(prefix="/api/v1/register", tags=["register 实有人口房屋单位"])


def _keys(request: Request) -> RegisterKeys:
    """The register's keys, or 503 saying which to configure (app/register/keys.py)."""
    return register_keys(request.app.state.settings)


Keys = Annotated[RegisterKeys, Depends(_keys)]
Reader = Annotated[AreaScope, Depends(access(Resource.REGISTER))]
ReaderWhole = Annotated[AreaScope, Depends(access_whole(Resource.REGISTER))]
ProposalReader = Annotated[AreaScope, Depends(access(Resource.REGISTER_PROPOSAL))]
ProposalReaderWhole = Annotated[AreaScope, Depends(access_whole(Resource.REGISTER_PROPOSAL))]
Proposer = Annotated[AreaScope, Depends(access_whole(Resource.REGISTER_PROPOSAL, Action.CREATE))]
Confirmer = Annotated[AreaScope, Depends(access_whole(Resource.REGISTER_PROPOSAL, Action.UPDATE))]
Reviewer = Annotated[AreaScope, Depends(access_whole(Resource.REGISTER_PROPOSAL, Action.APPROVE))]
Limit = Annotated[int, Query(ge=1, le=500)]
Grid = Annotated[str | None, Query(pattern=r"^[0-9]{15}$", description="15-digit grid code")]


def _purpose(request: Request) -> str:
    return f"{request.method} {request.url.path}"


@router.get("/codes")
def code_tables(_scope: ReaderWhole) -> dict[str, Any]:
    """The register's code tables (special groups merged with the national categories)."""
    pairs = lambda table: [{"code": c, "label": label} for c, label in table.items()]  # noqa: E731
    return {
        "special_groups": [
            {"code": g.code, "label": g.label, "source": g.source}
            for g in codes.SPECIAL_GROUP_TABLE
        ],
        "residence_types": pairs(codes.RESIDENCE_TYPES),
        "relations": pairs(codes.RELATIONS),
        "genders": pairs(codes.GENDERS),
        "id_types": pairs(ID_TYPES),
        "house_uses": pairs(codes.HOUSE_USES),
        "org_kinds": pairs(codes.ORG_KINDS),
        "person_statuses": pairs(codes.PERSON_STATUSES),
        "kinds": pairs(codes.KINDS),
        "actions": pairs(codes.ACTIONS),
        "states": pairs(lifecycle.STATES),
    }


@router.get("/persons", response_model=PersonsOut)
def persons(
    request: Request,
    session: SessionDep,
    scope: Reader,
    keys: Keys,
    grid: Grid = None,
    special_group: Annotated[str | None, Query(max_length=40)] = None,
    residence_type: Annotated[str | None, Query(max_length=20)] = None,
    status: Annotated[str | None, Query(max_length=20)] = "active",
    limit: Limit = 50,
    offset: Offset = 0,
) -> PersonsOut:
    """Persons in the caller's area (or ``area``, or one ``grid``), masked per the access policy;
    every person returned is logged as read."""
    scope = scope.narrow(grid)
    data, more = records.list_persons(
        session,
        scope=scope,
        keys=keys,
        purpose=_purpose(request),
        address=client_address(request.scope),
        limit=limit,
        offset=offset,
        special_group=special_group,
        residence_type=residence_type,
        status=status or None,
    )
    return PersonsOut(data=data, count=len(data), next_offset=more)


@router.post("/persons/lookup", response_model=PersonOut)
def person_lookup(
    request: Request, session: SessionDep, scope: ReaderWhole, keys: Keys, body: LookupIn
) -> PersonOut:
    """The person with an ID number (sent in the body, never in a URL), found by its keyed hash."""
    return records.find_person(
        session,
        scope=scope,
        keys=keys,
        id_number=body.id_number,
        id_type=body.id_type,
        purpose=_purpose(request),
        address=client_address(request.scope),
    )


@router.get("/persons/{person_id}", response_model=PersonOut)
def person(
    request: Request, session: SessionDep, scope: ReaderWhole, keys: Keys, person_id: Id
) -> PersonOut:
    return records.get_person(
        session,
        scope=scope,
        keys=keys,
        person_id=person_id,
        purpose=_purpose(request),
        address=client_address(request.scope),
    )


def _history_route(kind: str, path: str) -> None:
    @router.get(f"/{path}/{{record_id}}/history", response_model=HistoryOut, name=f"{kind}_history")
    def _history(
        request: Request, session: SessionDep, scope: ReaderWhole, _keys: Keys, record_id: Id
    ) -> HistoryOut:
        """Every version of the record as it became current (masked as the record is)."""
        entries = records.history(
            session,
            scope=scope,
            kind=kind,
            record_id=record_id,
            purpose=_purpose(request),
            address=client_address(request.scope),
        )
        return HistoryOut.model_validate({"data": entries})


for _kind, _path in (("person", "persons"), ("house", "houses"), ("organisation", "organisations")):
    _history_route(_kind, _path)


@router.get("/houses", response_model=HousesOut)
def houses(
    request: Request,
    session: SessionDep,
    scope: Reader,
    _keys: Keys,
    grid: Grid = None,
    use: Annotated[str | None, Query(max_length=20)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> HousesOut:
    scope = scope.narrow(grid)
    data, more = records.list_houses(
        session,
        scope=scope,
        limit=limit,
        offset=offset,
        address=client_address(request.scope),
        use=use,
    )
    return HousesOut(data=data, count=len(data), next_offset=more)


@router.get("/houses/{house_id}", response_model=HouseOut)
def house(
    request: Request, session: SessionDep, scope: ReaderWhole, keys: Keys, house_id: Id
) -> HouseOut:
    """A house with the persons living there (each logged as read)."""
    return records.get_house(
        session,
        scope=scope,
        keys=keys,
        house_id=house_id,
        purpose=_purpose(request),
        address=client_address(request.scope),
    )


@router.get("/organisations", response_model=OrganisationsOut)
def organisations(
    request: Request,
    session: SessionDep,
    scope: Reader,
    _keys: Keys,
    grid: Grid = None,
    kind: Annotated[str | None, Query(max_length=20)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> OrganisationsOut:
    scope = scope.narrow(grid)
    data, more = records.list_organisations(
        session,
        scope=scope,
        limit=limit,
        offset=offset,
        address=client_address(request.scope),
        kind=kind,
    )
    return OrganisationsOut(data=data, count=len(data), next_offset=more)


@router.get("/organisations/{org_id}", response_model=OrganisationOut)
def organisation(
    request: Request, session: SessionDep, scope: ReaderWhole, _keys: Keys, org_id: Id
) -> OrganisationOut:
    return records.get_organisation(
        session, scope=scope, org_id=org_id, address=client_address(request.scope)
    )


# ---- proposals ----------------------------------------------------------------------------------


@router.post("/proposals", response_model=ProposalOut, status_code=201)
def file_proposal(session: SessionDep, scope: Proposer, keys: Keys, body: ProposalIn) -> Response:
    """File a change (201), or get back the one already filed with this ``client_id`` (200)."""
    proposal, new = proposals.file(session, scope=scope, keys=keys, body=body)
    return JSONResponse(proposal.model_dump(mode="json"), status_code=201 if new else 200)


@router.get("/proposals", response_model=ProposalsOut)
def proposal_list(
    request: Request,
    session: SessionDep,
    scope: ProposalReader,
    _keys: Keys,
    state: Annotated[
        str | None, Query(pattern="^(submitted|pending|approved|returned|withdrawn)$")
    ] = "pending",
    kind: Annotated[str | None, Query(pattern="^(person|house|organisation|household)$")] = None,
    grid: Grid = None,
    mine: bool = False,
    before_id: Annotated[int | None, Query(ge=1, le=INT4_MAX)] = None,
    limit: Limit = 50,
) -> ProposalsOut:
    """The review list: the area's proposals in ``state`` (pending by default), newest first, each
    with its diff; page on with ``before_id``."""
    scope = scope.narrow(grid)
    data, more = proposals.list_proposals(
        session,
        scope=scope,
        state=state,
        kind=kind,
        mine=mine,
        before_id=before_id,
        limit=limit,
        address=client_address(request.scope),
    )
    return ProposalsOut(data=data, count=len(data), next_before_id=more)


@router.get("/proposals/{proposal_id}", response_model=ProposalOut)
def proposal(
    session: SessionDep, scope: ProposalReaderWhole, _keys: Keys, proposal_id: Id
) -> ProposalOut:
    row = proposals.get_proposal(session, scope, proposal_id)
    return proposals.proposal_out(row, scope.principal)


@router.post("/proposals/{proposal_id}/approve", response_model=ProposalOut)
def approve(session: SessionDep, scope: Reviewer, keys: Keys, proposal_id: Id) -> ProposalOut:
    """Approve: the change becomes current now (409 with both versions if the record changed
    since the proposal was filed)."""
    return apply.approve(session, scope=scope, keys=keys, proposal_id=proposal_id)


@router.post("/proposals/{proposal_id}/return", response_model=ProposalOut)
def return_proposal(
    session: SessionDep, scope: Reviewer, _keys: Keys, proposal_id: Id, body: ReturnIn
) -> ProposalOut:
    """Return to the proposer with a reason (required)."""
    return proposals.transition(
        session, scope=scope, proposal_id=proposal_id, verb="return", reason=body.reason.strip()
    )


@router.post("/proposals/{proposal_id}/confirm", response_model=ProposalOut)
def confirm(session: SessionDep, scope: Confirmer, _keys: Keys, proposal_id: Id) -> ProposalOut:
    """A building leader or unit steward confirms a resident's change: it goes to the community."""
    return proposals.transition(session, scope=scope, proposal_id=proposal_id, verb="confirm")


@router.post("/proposals/{proposal_id}/withdraw", response_model=ProposalOut)
def withdraw(session: SessionDep, scope: Proposer, _keys: Keys, proposal_id: Id) -> ProposalOut:
    """The proposer takes back a change still waiting."""
    return proposals.transition(session, scope=scope, proposal_id=proposal_id, verb="withdraw")


# ---- exchange (GB/T 31000-shaped files) -------------------------------------------------------

Exporter = Annotated[AreaScope, Depends(access(Resource.REGISTER_EXCHANGE))]
Importer = Annotated[AreaScope, Depends(access(Resource.REGISTER_EXCHANGE, Action.CREATE))]
KindParam = Annotated[str, Query(pattern="^(person|house|organisation)$")]


@router.get("/export")
def export(
    request: Request,
    session: SessionDep,
    scope: Exporter,
    keys: Keys,
    kind: KindParam = "person",
    f: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv",
) -> Response:
    """The area's register as a GB/T 31000-shaped CSV or Excel file (administrators only; the
    export is recorded in the audit trail with its row count)."""
    rows = list(exchange.export_rows(session, scope=scope, keys=keys, kind=kind))
    record_event(
        session,
        actor=scope.principal.username,
        address=client_address(request.scope),
        action="personal.read" if kind == "person" else "register.export",
        object=f"register_export:{kind}:{scope.prefix or 'all'}",
        outcome="success",
        detail={"rows": len(rows) - 1, "format": f},
    )
    name = f"register_{kind}_{scope.prefix or 'all'}"
    if f == "xlsx":
        return Response(
            exchange.to_xlsx(rows, codes.KINDS[kind]),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return Response(
        "".join(exchange.to_csv(rows)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.post("/import", response_model=ImportReport)
def import_file(
    request: Request,
    session: SessionDep,
    scope: Importer,
    keys: Keys,
    file: Annotated[UploadFile, File(description="GB/T 31000-shaped CSV or .xlsx")],
    kind: Annotated[str, Form(pattern="^(person|house|organisation)$")] = "person",
    dry_run: Annotated[bool, Form()] = True,
) -> ImportReport:
    """Import a register file: a dry-run report by default (rows to add, change, leave, reject
    with reasons); ``dry_run=false`` writes them. Idempotent: the same file twice changes nothing."""
    limit = int(request.app.state.settings.upload_max_bytes)
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge("文件超过上传大小上限")
    report = exchange.import_rows(
        session,
        scope=scope,
        keys=keys,
        kind=kind,
        rows=exchange.read_rows(file.filename or "upload.csv", data),
        dry_run=dry_run,
        by=scope.principal.username,
    )
    return ImportReport.model_validate(report.as_dict())
