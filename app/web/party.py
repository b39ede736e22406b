"""The party-building page (/party) and the task admission page (/admission): shells whose scripts
load everything from /api/v1/party, /api/v1/task-kinds and /api/v1/grid-tasks (docs/party.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.auth.deps import SessionDep
from app.auth.policy import Action, Resource
from app.web.deps import (
    AreaQuery,
    PagePrincipal,
    area_info,
    checked_area,
    page_context,
    render,
    require_page,
)

router = APIRouter(tags=["web"], include_in_schema=False)


def _page(
    request: Request,
    session: SessionDep,
    principal: PagePrincipal,
    area: str | None,
    href: str,
    template: str,
    may: dict[str, bool],
) -> Response:
    require_page(principal, href)
    code = checked_area(principal, area)
    ctx = page_context(request, principal, area=code, area_info=area_info(session, code))
    ctx["cfg"]["may"] = may
    return render(request, template, ctx)


@router.get("/party")
def party(
    request: Request, session: SessionDep, principal: PagePrincipal, area: AreaQuery = None
) -> Response:
    """Party organisations in the grids and 双报到: the community registers members and their hours;
    a unit's member sees their own registration and logs their hours."""
    may = {
        "orgs": principal.may(Resource.PARTY, Action.READ),
        "edit_orgs": principal.may(Resource.PARTY, Action.UPDATE),
        "register": principal.may(Resource.DUAL_SERVICE, Action.CREATE),
        "log_hours": principal.may(Resource.DUAL_SERVICE, Action.UPDATE),
    }
    return _page(request, session, principal, area, "/party", "party.html", may)


@router.get("/admission")
def admission(
    request: Request, session: SessionDep, principal: PagePrincipal, area: AreaQuery = None
) -> Response:
    """The county's admission list (edited by the county admin), giving a task to a grid worker,
    the caller's own tasks and the load per worker by kind."""
    may = {
        "edit_list": principal.may(Resource.TASK_KIND, Action.UPDATE),
        "read_list": principal.may(Resource.TASK_KIND, Action.READ),
        "give": principal.may(Resource.GRID_TASK, Action.CREATE),
        "do": principal.may(Resource.GRID_TASK, Action.UPDATE),
        "load": principal.may(Resource.KPI, Action.READ),
    }
    return _page(request, session, principal, area, "/admission", "admission.html", may)
