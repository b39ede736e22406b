"""Findings only the database knows: leaders, visit coverage, overdue visits and cases.

Each function returns rows in the gis.coverage shape: kind, severity, objects, geometry, area_m2,
message. A check whose data is not installed returns None so the report can say so honestly.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.auth.scope import AreaScope
from app.visits.cadence import CadenceRule, interval_sql, rule_for
from app.visits.coverage import grid_coverage
from app.visits.service import BEIJING, GROUP_LABELS

Row = dict[str, Any]
_OPEN_CASE_EXCLUDED = ("closed", "evaluated", "rejected", "voided")
_INCIDENT_COLUMNS = {"id", "case_no", "grid_code", "state", "deadline", "location"}


def _row(kind: str, severity: str, objects: list[str], wkb: Any, message: str) -> Row:
    geom = shapely.from_wkb(bytes(wkb), on_invalid="ignore") if wkb is not None else None
    return {
        "kind": kind,
        "severity": severity,
        "objects": objects,
        "geometry": geom,
        "area_m2": math.nan,
        "message": message,
    }


def leaderless_grids(session: Session, scope: AreaScope, today: dt.date) -> list[Row]:
    rows = session.execute(
        text(
            "SELECT g.code, g.name, ST_AsBinary(g.geom) AS wkb, "
            "  (SELECT max(a.end_date) FROM staff_assignments a WHERE a.grid_code = g.code "
            "   AND a.role = 'leader' AND a.end_date < :d) AS ended "
            f"FROM grids g WHERE g.status = 'active' AND {scope.sql('g.code')} AND NOT EXISTS ("
            "  SELECT 1 FROM staff_assignments a WHERE a.grid_code = g.code AND a.role = 'leader' "
            "  AND a.start_date <= :d AND (a.end_date IS NULL OR a.end_date >= :d)) ORDER BY g.code"
        ),
        {"d": today, **scope.params()},
    ).all()
    out = []
    for r in rows:
        why = f"原网格长任期已于 {r.ended:%Y-%m-%d} 结束，尚无继任" if r.ended else "从未配备网格长"
        out.append(
            _row(
                "no_leader", "error", [r.code], r.wkb, f"网格 {r.code}（{r.name}）没有网格长：{why}"
            )
        )
    return out


def low_visit_coverage(
    session: Session,
    scope: AreaScope,
    today: dt.date,
    target: float,
    rules: tuple[CadenceRule, ...],
) -> list[Row]:
    """Grids whose share of households visited in the last 365 days is below ``target``."""
    start = today - dt.timedelta(days=365)
    rows = grid_coverage(
        session, scope=scope, start=start, end=today + dt.timedelta(days=1), rules=rules
    )
    low = [r for r in rows if r.households and (r.visited_share or 0) < target]
    if not low:
        return []
    geoms: dict[str, Any] = dict(
        session.execute(
            text(
                "SELECT code, ST_AsBinary(geom) FROM grids WHERE status = 'active' AND code = ANY(:c)"
            ),
            {"c": [r.code for r in low]},
        ).all()
    )
    return [
        _row(
            "low_visit_coverage",
            "warning",
            [r.code],
            geoms.get(r.code),
            f"网格 {r.code} 近一年走访覆盖率 {100 * (r.visited_share or 0):.1f}%"
            f"（{r.visited}/{r.households} 户），低于目标 {100 * target:.0f}%",
        )
        for r in low
    ]


def overdue_special_households(
    session: Session, area_code: str, today: dt.date, rules: tuple[CadenceRule, ...]
) -> list[Row]:
    """Special-group households inside the area whose last visit is older than their cadence."""
    case, params = interval_sql(rules)
    rows = session.execute(
        text(
            "SELECT h.id, h.special_groups, ST_AsBinary(h.location) AS wkb, "
            "  concat_ws('', b.compound, b.name, nullif(h.unit, '') || '单元', h.room) AS address, "
            "  (SELECT max(v.visited_at) FROM visits v WHERE v.household_id = h.id) AS last, "
            f"  {case} AS interval_days "
            "FROM households h JOIN buildings b ON b.id = h.building_id "
            "WHERE cardinality(h.special_groups) > 0 AND ST_Intersects("
            "  (SELECT geom FROM areas WHERE code = :area AND valid_to IS NULL), h.location) "
            "ORDER BY h.id"
        ),
        {"area": area_code, **params},
    ).all()
    out = []
    for r in rows:
        last = r.last.astimezone(BEIJING).date() if r.last else None
        if last is not None and (today - last).days <= r.interval_days:
            continue
        rule = rule_for(r.special_groups, rules)
        groups = "、".join(GROUP_LABELS.get(g, g) for g in r.special_groups)
        since = f"已 {(today - last).days} 天未走访" if last else "从未走访"
        out.append(
            _row(
                "special_group_overdue",
                "error",
                [str(r.id)],
                r.wkb,
                f"{groups}住户 {r.id}（{r.address}）{since}，按规定（{rule.label}）"
                f"应每 {rule.interval_days} 天走访一次",
            )
        )
    return out


def incidents_available(session: Session) -> bool:
    """True when the incidents table exists with the columns this check reads (another branch)."""
    cols = set(
        session.scalars(
            text(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = 'incidents'"
            )
        )
    )
    return cols >= _INCIDENT_COLUMNS


def overdue_cases(session: Session, scope: AreaScope, now: dt.datetime) -> list[Row] | None:
    if not incidents_available(session):
        return None
    rows = session.execute(
        text(
            "SELECT i.id, i.case_no, i.grid_code, i.state, i.deadline, ST_AsBinary(i.location) AS wkb "
            f"FROM incidents i WHERE {scope.sql('i.grid_code')} AND i.deadline < :now "
            "AND NOT (i.state = ANY(:done)) ORDER BY i.deadline"
        ),
        {"now": now, "done": list(_OPEN_CASE_EXCLUDED), **scope.params()},
    ).all()
    out = []
    for r in rows:
        late = now - r.deadline
        hours = late.total_seconds() / 3600
        amount = f"{hours / 24:.1f} 天" if hours >= 24 else f"{hours:.0f} 小时"
        out.append(
            _row(
                "case_overdue",
                "error",
                [r.case_no, r.grid_code],
                r.wkb,
                f"案件 {r.case_no}（网格 {r.grid_code}）已超期 {amount}，"
                f"处置时限为 {r.deadline.astimezone(BEIJING):%Y-%m-%d %H:%M}",
            )
        )
    return out
