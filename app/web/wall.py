"""The command-centre wall screen (指挥大屏, docs/wall.md): the page, and the one figure set it
needs that no other endpoint gives: today's intake and closures, the open cases overdue now, and
the open cases of each township by deadline light (红黄绿灯).

Everything else on the wall comes from the endpoints the console and the dashboard use (the cases
layer, the live case stream, the KPI league tables). The figures are counted in PostgreSQL over
the cases the caller may list (``case_filters``: the caller's area, row-level security behind it),
with the light of ``deadlines.light_sql``, the same rule as every list and map.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import func, select

from app.areas.service import area_names
from app.auth.deps import SessionDep
from app.auth.policy import Resource
from app.auth.scope import AreaScope, access
from app.incidents import deadlines
from app.incidents.calendar import TZ
from app.incidents.models import Incident
from app.incidents.service import case_filters
from app.incidents.statemachine import IN_PROGRESS_STATES
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
LIGHTS = ("red", "amber", "green", "paused")


@router.get("/api/v1/wall/figures")
def wall_figures(session: SessionDep, scope: IncidentScope) -> dict[str, Any]:
    """Today's figures of an area (days in Asia/Shanghai): cases reported today (``intake``),
    closed today (``closed``), open cases whose current stage is overdue now (``overdue``, the red
    light), and per township the open cases by light (townships without an open case are listed
    with zeros, so the wall shows every township)."""
    midnight = dt.datetime.combine(dt.datetime.now(TZ).date(), dt.time(0), TZ)
    mine = case_filters(scope)
    intake, closed = session.execute(
        select(
            func.count().filter(Incident.reported_at >= midnight),
            func.count().filter(Incident.closed_at >= midnight),
        ).where(*mine, (Incident.reported_at >= midnight) | (Incident.closed_at >= midnight))
    ).one()
    light = deadlines.light_sql(Incident, func.now()).label("light")
    rows = session.execute(
        select(Incident.township_code, light, func.count())
        .where(*mine, Incident.state.in_(IN_PROGRESS_STATES))
        .group_by(Incident.township_code, light)
    ).all()
    names = area_names(session, scope, "township")
    towns: dict[str, dict[str, Any]] = {
        code: {"code": code, "name": name, **dict.fromkeys(LIGHTS, 0)}
        for code, name in sorted(names.items())
    }
    overdue = 0
    for code, colour, n in rows:
        if colour not in LIGHTS or code is None:
            continue  # no clock (verified, awaiting closure): no light to count
        town = towns.setdefault(code, {"code": code, "name": code, **dict.fromkeys(LIGHTS, 0)})
        town[colour] += n
        if colour == "red":
            overdue += n
    return {
        "area": scope.prefix,
        "date": midnight.date(),
        "intake": intake,
        "closed": closed,
        "overdue": overdue,
        "townships": list(towns.values()),
    }


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
