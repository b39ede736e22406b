"""Today's figures of an area for the command-centre wall (docs/wall.md): cases reported and
closed today, open cases overdue now, and the open cases of each township by deadline light
(红黄绿灯), counted in PostgreSQL over the cases the caller may list (``case_filters``) with the
light of ``deadlines.light_sql``, the same rule as every list and map."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.areas.service import area_names
from app.auth.scope import AreaScope
from app.incidents import deadlines
from app.incidents.calendar import TZ
from app.incidents.models import Incident
from app.incidents.service import case_filters
from app.incidents.statemachine import IN_PROGRESS_STATES

LIGHTS = ("red", "amber", "green", "paused")


def today(session: Session, scope: AreaScope) -> dict[str, Any]:
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
