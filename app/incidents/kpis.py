"""KPIs (docs/domain.md#kpis): ratios over the cases *due* in a period, in one aggregate query.

Due in [start, end) = deadline in the period, excluding cases that were never registered (rejected,
voided). Definitions, each over the due cases unless said otherwise:

- closure rate      = closed (closed or evaluated) / due
- on-time handling  = handled no later than the deadline / due
- on-time closure   = closed no later than the deadline / due
- overdue rate      = not handled by the deadline (handled late, or still unhandled after it) / due
- rework rate       = reworked at least once / due (返工率 = reworked / due to close)
- extension rate    = extended at least once / due
- satisfaction rate = satisfied or basically satisfied / evaluated
- mean, p90 time to close = hours from report to closure, over the closed due cases
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.auth.scope import AreaScope

# group_by → SQL expression; a whitelist, so no user string ever reaches the SQL text.
GROUPS = {
    "none": "NULL::text",
    "grid": "grid_code",
    "community": "community_code",
    "township": "township_code",
    "category": "category_code",
    "worker": "assignee",
}

COLUMNS = [
    "group", "due", "closed", "handled_on_time", "closed_on_time", "overdue", "reworked",
    "extended", "evaluated", "satisfied", "closure_rate", "on_time_handling_rate",
    "on_time_closure_rate", "overdue_rate", "rework_rate", "extension_rate", "satisfaction_rate",
    "mean_hours_to_close", "p90_hours_to_close",
]  # fmt: skip

_SQL = """
SELECT {group} AS grp,
       count(*) AS due,
       count(*) FILTER (WHERE closed_at IS NOT NULL) AS closed,
       count(*) FILTER (WHERE handled_at <= deadline) AS handled_on_time,
       count(*) FILTER (WHERE closed_at <= deadline) AS closed_on_time,
       count(*) FILTER (WHERE COALESCE(handled_at, CAST(:now AS timestamptz)) > deadline) AS overdue,
       count(*) FILTER (WHERE rework_count > 0) AS reworked,
       count(*) FILTER (WHERE extension_count > 0) AS extended,
       count(*) FILTER (WHERE satisfaction IS NOT NULL) AS evaluated,
       count(*) FILTER (WHERE satisfaction IN ('satisfied', 'basically')) AS satisfied,
       avg(EXTRACT(EPOCH FROM closed_at - reported_at) / 3600.0) AS mean_h,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM closed_at - reported_at) / 3600.0)
           FILTER (WHERE closed_at IS NOT NULL) AS p90_h
  FROM incidents
 WHERE deadline >= :start AND deadline < :end
   AND state NOT IN ('rejected', 'voided')
   AND {scope}
   {extra}
 GROUP BY 1
 ORDER BY 1 NULLS FIRST
"""


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def compute_kpis(
    session: Session,
    *,
    start: dt.datetime,
    end: dt.datetime,
    scope: AreaScope,
    category: str | None = None,
    worker: str | None = None,
    group_by: str = "none",
    at: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    """KPIs of the cases in ``scope`` (the caller's area, or the area asked for)."""
    if group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {sorted(GROUPS)}")
    extra = []
    params: dict[str, Any] = {
        "start": start,
        "end": end,
        "now": at or dt.datetime.now(dt.UTC),
        **scope.params(),
    }
    if category:
        extra.append("AND category_code LIKE :category")
        params["category"] = _like_prefix(category)
    if worker:
        extra.append("AND assignee = :worker")
        params["worker"] = worker
    sql = _SQL.format(group=GROUPS[group_by], scope=scope.sql("grid_code"), extra=" ".join(extra))
    out = []
    for r in session.execute(text(sql), params):
        due = int(r.due)
        out.append(
            {
                "group": r.grp,
                "due": due,
                "closed": r.closed,
                "handled_on_time": r.handled_on_time,
                "closed_on_time": r.closed_on_time,
                "overdue": r.overdue,
                "reworked": r.reworked,
                "extended": r.extended,
                "evaluated": r.evaluated,
                "satisfied": r.satisfied,
                "closure_rate": _ratio(r.closed, due),
                "on_time_handling_rate": _ratio(r.handled_on_time, due),
                "on_time_closure_rate": _ratio(r.closed_on_time, due),
                "overdue_rate": _ratio(r.overdue, due),
                "rework_rate": _ratio(r.reworked, due),
                "extension_rate": _ratio(r.extended, due),
                "satisfaction_rate": _ratio(r.satisfied, r.evaluated),
                "mean_hours_to_close": round(float(r.mean_h), 2) if r.mean_h is not None else None,
                "p90_hours_to_close": round(float(r.p90_h), 2) if r.p90_h is not None else None,
            }
        )
    if not out and group_by == "none":
        out.append(
            {c: (0 if c not in ("group",) else None) for c in COLUMNS[:10]}
            | dict.fromkeys(COLUMNS[10:])
        )
    return out


def _like_prefix(code: str) -> str:
    escaped = code.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"
