"""The KPIs' two statements (docs/domain.md#kpis): one pass over the cases of a period and one over
its dispatch moves, each grouped at every level asked for at once (GROUPING SETS), so a set of
league tables costs two scans whatever the number of levels."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.auth.scope import AreaScope
from app.incidents.kpis.metrics import CASE_COUNTS, COUNTS, MOVE_COUNTS

# level → the case's column (a whitelist: no user string reaches the SQL text). A department is a
# unit of kind department or agency: grouped as a unit, picked out by its kind afterwards.
CASE_KEYS = {
    "township": "township_code",
    "community": "community_code",
    "grid": "grid_code",
    "category": "category_code",
    "worker": "assignee",
    "unit": "unit_code",
}
# The dispatch moves' keys: the unit is the one the move names (sent to, taken from, returned by);
# the areas and category are the case's. A move names no person it was taken from, so workers
# have no dispatch figures.
MOVE_KEYS = {k: f"i.{v}" for k, v in CASE_KEYS.items() if k not in ("worker", "unit")}
MOVE_KEYS["unit"] = "m.unit"
LEVELS = ("none", *CASE_KEYS, "department")

# Registered (立案): past 受理立案, not refused, not closed on the spot.
_REGISTERED = "NOT on_spot AND state NOT IN ('reported', 'accepted', 'rejected', 'voided')"
_GOOD = "('satisfied', 'basically')"

_CASES = f"""
SELECT {{keys}}
       count(*) FILTER (WHERE rep) AS reports,
       count(*) FILTER (WHERE rep AND on_spot) AS on_spot,
       count(*) FILTER (WHERE rep AND NOT on_spot) AS to_register,
       count(*) FILTER (WHERE rep AND reg) AS registered,
       count(*) FILTER (WHERE rep AND NOT on_spot AND register_late IS NOT NULL) AS acceptance_ended,
       count(*) FILTER (WHERE rep AND NOT on_spot AND NOT register_late) AS accepted_on_time,
       count(*) FILTER (WHERE due) AS due,
       count(*) FILTER (WHERE due AND closed_at IS NOT NULL) AS closed,
       count(*) FILTER (WHERE due AND handled_at <= deadline) AS handled_on_time,
       count(*) FILTER (WHERE due AND closed_at <= deadline) AS closed_on_time,
       count(*) FILTER (WHERE due AND COALESCE(handled_at, CAST(:now AS timestamptz)) > deadline)
           AS overdue,
       count(*) FILTER (WHERE due AND rework_count > 0) AS reworked,
       count(*) FILTER (WHERE due AND extension_count > 0) AS extended,
       count(*) FILTER (WHERE due AND reopen_count > 0) AS reopened,
       count(*) FILTER (WHERE due AND verification_late IS NOT NULL) AS verified,
       count(*) FILTER (WHERE due AND NOT verification_late) AS verified_on_time,
       count(*) FILTER (WHERE due AND resident_rating IS NOT NULL) AS rated,
       count(*) FILTER (WHERE due AND resident_rating IN {_GOOD}) AS satisfied,
       count(*) FILTER (WHERE due AND satisfaction IS NOT NULL) AS callbacks,
       count(*) FILTER (WHERE due AND satisfaction IN {_GOOD}) AS callback_satisfied,
       avg(hours) FILTER (WHERE due) AS mean_h,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY hours) FILTER (WHERE due) AS p90_h
  FROM (SELECT {{columns}}, on_spot, state, deadline, handled_at, closed_at, rework_count,
               extension_count, reopen_count, register_late, verification_late, resident_rating,
               satisfaction,
               reported_at >= :start AND reported_at < :end AS rep,
               {_REGISTERED} AS reg,
               deadline >= :start AND deadline < :end AND {_REGISTERED} AS due,
               EXTRACT(EPOCH FROM closed_at - reported_at) / 3600.0 AS hours
          FROM incidents
         WHERE ((reported_at >= :start AND reported_at < :end)
                OR (deadline >= :start AND deadline < :end))
           AND {{scope}} {{extra}}) c
 GROUP BY GROUPING SETS ({{sets}})
"""

_MOVES = """
SELECT {keys}
       sum(m.sent) AS sent, sum(m.reassigned) AS reassigned, sum(m.returned) AS returned
  FROM incident_events e
  JOIN incidents i ON i.id = e.incident_id
  CROSS JOIN LATERAL (
        SELECT e.data->>'unit' AS unit, (e.action <> 'return')::int AS sent, 0 AS reassigned,
               (e.action = 'return')::int AS returned
        UNION ALL
        SELECT e.data->>'from_unit', 0, 1, 0 WHERE e.action = 'reassign') m
 WHERE e.action IN ('dispatch', 'reassign', 'return') AND e.at >= :start AND e.at < :end
   AND {scope} {extra}
 GROUP BY GROUPING SETS ({sets})
"""

Key = tuple[str, str | None]  # (level, group code)


def _grouping(levels: Sequence[str], keys: dict[str, str]) -> tuple[str, str, list[str]]:
    """The select list, the grouping sets and the levels in bit order for ``levels``."""
    named = [lv for lv in levels if lv in keys]
    cols = [keys[lv] for lv in named]
    select = "".join(f"{c} AS g{n}, " for n, c in enumerate(cols))
    if cols:
        select += f"GROUPING({', '.join(cols)}) AS gmask, "
    sets = [f"({c})" for c in cols] + (["()"] if "none" in levels else [])
    return select, ", ".join(sets), named


def _level_of(row: Any, named: list[str]) -> Key:
    if not named:
        return ("none", None)
    n = len(named)
    for j, level in enumerate(named):
        # GROUPING's bits: the first column is the highest; 0 = grouped by that column.
        if not (row.gmask >> (n - 1 - j)) & 1:
            return (level, getattr(row, f"g{j}"))
    return ("none", None)


def counts(
    session: Session,
    *,
    levels: Sequence[str],
    start: dt.datetime,
    end: dt.datetime,
    scope: AreaScope,
    at: dt.datetime,
    category: str | None = None,
    worker: str | None = None,
) -> dict[Key, dict[str, Any]]:
    """Every count of docs/domain.md#kpis for each group of each level (``none``: the total)."""
    sql_levels = ["unit" if lv == "department" else lv for lv in levels]
    sql_levels = list(dict.fromkeys(sql_levels))
    params: dict[str, Any] = {"start": start, "end": end, "now": at, **scope.params()}
    extra = ""
    if category:
        extra += " AND category_code LIKE :category"
        params["category"] = _like_prefix(category)
    if worker:
        extra += " AND assignee = :worker"
        params["worker"] = worker
    out: dict[Key, dict[str, Any]] = {}

    def slot(key: Key) -> dict[str, Any]:
        if key not in out:
            out[key] = dict.fromkeys(COUNTS, 0) | {"mean_h": None, "p90_h": None}
        return out[key]

    select, sets, named = _grouping(sql_levels, CASE_KEYS)
    columns = ", ".join(CASE_KEYS[lv] for lv in named) or "NULL AS none"
    sql = _CASES.format(
        keys=select, columns=columns, scope=scope.sql("grid_code"), extra=extra, sets=sets
    )
    for row in session.execute(text(sql), params):
        target = slot(_level_of(row, named))
        for name in CASE_COUNTS:
            target[name] = int(getattr(row, name))
        target["mean_h"], target["p90_h"] = row.mean_h, row.p90_h

    move_levels = [lv for lv in sql_levels if lv in MOVE_KEYS or lv == "none"]
    if move_levels and not worker:
        select, sets, named = _grouping(move_levels, MOVE_KEYS)
        sql = _MOVES.format(
            keys=select,
            scope=scope.sql("i.grid_code"),
            extra=extra.replace("category_code", "i.category_code"),
            sets=sets,
        )
        for row in session.execute(text(sql), params):
            target = slot(_level_of(row, named))
            for name in MOVE_COUNTS:
                target[name] = int(getattr(row, name) or 0)
    return out


def _like_prefix(code: str) -> str:
    escaped = code.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"
