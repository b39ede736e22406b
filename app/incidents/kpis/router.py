"""/api/v1/kpis (one level, JSON or CSV) and /api/v1/kpis/league (the league tables the dashboard
draws): thin routes over the KPI package (docs/domain.md#kpis)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from app.auth.deps import SessionDep
from app.auth.policy import Resource
from app.auth.scope import AreaScope, access
from app.errors import InvalidInput
from app.incidents.calendar import TZ
from app.incidents.deps import IncidentSettingsDep as SettingsDep
from app.incidents.kpis import (
    COLUMNS,
    GROUPS,
    LEAGUES,
    compute_kpis,
    league_tables,
    metric_labels,
)

router = APIRouter(prefix="/api/v1", tags=["kpis"])
Kpis = Annotated[AreaScope, Depends(access(Resource.KPI))]
GROUP_PATTERN = "^(" + "|".join(GROUPS) + ")$"


def _period(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end] as days in Asia/Shanghai: from start's midnight to the midnight after end."""
    if end < start:
        raise InvalidInput("end: 结束日期早于开始日期", field="end")
    return (
        dt.datetime.combine(start, dt.time(0), TZ),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), TZ),
    )


@router.get("/kpis", responses={200: {"content": {"text/csv": {}}}})
def kpis(
    session: SessionDep,
    scope: Kpis,
    settings: SettingsDep,
    start: dt.date,
    end: dt.date,
    category: str | None = None,
    worker: str | None = None,
    group_by: Annotated[str, Query(pattern=GROUP_PATTERN)] = "none",
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Any:
    """KPIs of [start, end] (days in Asia/Shanghai) for an area code prefix, one row per group
    (by code): the cases reported in the period, the registered cases due in it and its dispatch
    moves (docs/domain.md#kpis)."""
    lo, hi = _period(start, end)
    rows = compute_kpis(
        session, start=lo, end=hi, scope=scope, category=category, worker=worker,
        group_by=group_by, kpi=settings.kpi,
    )  # fmt: skip
    if format == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        return Response(
            "\ufeff" + buf.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="kpis.csv"'},
        )
    return {"area": scope.prefix, "start": start, "end": end, "group_by": group_by, "rows": rows}


@router.get("/kpis/league")
def league(
    session: SessionDep,
    scope: Kpis,
    settings: SettingsDep,
    start: dt.date,
    end: dt.date,
    by: Annotated[list[str] | None, Query(description="levels; default: all five")] = None,
) -> Any:
    """League tables for [start, end]: the total, then per township, community, grid, worker and
    department, ranked by the composite score (weights and red/amber/green lights from
    ``GRIDGOV_INCIDENTS__KPI__*``), with what each column means."""
    lo, hi = _period(start, end)
    levels = tuple(by or LEAGUES)
    wrong = [lv for lv in levels if lv not in LEAGUES]
    if wrong:
        raise InvalidInput(f"by: 未知的排名层级 {wrong}；可选 {list(LEAGUES)}", field="by")
    result = league_tables(session, start=lo, end=hi, scope=scope, levels=levels, kpi=settings.kpi)
    return {
        "area": scope.prefix,
        "start": start,
        "end": end,
        **result,
        "metrics": metric_labels(settings.kpi),
    }
