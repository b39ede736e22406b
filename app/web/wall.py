"""The command-centre wall screen (指挥大屏, docs/wall.md): the page, and the one figure set it
needs that no other endpoint gives: today's intake and closures, the open cases overdue now, and
the open cases of each township by deadline light (红黄绿灯).

Everything else on the wall comes from the endpoints the console and the dashboard use (the cases
layer, the live case stream, the KPI league tables). The figures are counted in PostgreSQL over
the cases the caller may list (``case_filters``: the caller's area, row-level security behind it),
with the light of ``deadlines.light_sql``, the same rule as every list and map.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from app.auth.deps import SessionDep
from app.auth.policy import Resource
from app.auth.scope import AreaScope, access
from app.incidents import figures
from app.web.deps import (
    AreaQuery,
    PagePrincipal,
    area_crumbs,
    area_info,
    checked_area,
    page_context,
    render,
    require_page,
)

router = APIRouter(tags=["web"])
pages = APIRouter(tags=["web"], include_in_schema=False)

IncidentScope = Annotated[AreaScope, Depends(access(Resource.INCIDENT))]


@router.get("/api/v1/wall/figures")
def wall_figures(session: SessionDep, scope: IncidentScope) -> dict[str, Any]:
    """Today's figures of an area (docs/wall.md): see ``app.incidents.figures.today``."""
    return figures.today(session, scope)


@pages.get("/wall")
def wall(
    request: Request, session: SessionDep, principal: PagePrincipal, area: AreaQuery = None
) -> Response:
    """The wall screen: map, live stream, figures, lights per township, 督办 list, league table."""
    require_page(principal, "/wall")
    code = checked_area(principal, area)
    ctx = page_context(
        request,
        principal,
        area=code,
        area_info=area_info(session, code),
        crumbs=area_crumbs(session, principal.scope_prefix, code),
    )
    return render(request, "wall.html", ctx)
