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
# The dispatch moves' keys: the unit is the one the move names (sent to and returned by; a 改派's
# from_unit for the one it was taken from, a grouping set of its own); the areas and category are
# the case's. A move names no person it was taken from, so workers
# have no dispatch figures.
MOVE_KEYS = {k: f"i.{v}" for k, v in CASE_KEYS.items() if k not in ("worker", "unit")}
MOVE_KEYS["unit"] = "(e.data->>'unit')"  # sent to, returned by
MOVE_KEYS["from_unit"] = "(e.data->>'from_unit')"  # taken away from (改派)
LEVELS = ("none", *CASE_KEYS, "department")

# Registered (立案): past 受理立案, not refused, not closed on the spot.
_REGISTERED = "NOT on_spot AND state NOT IN ('reported', 'accepted', 'rejected', 'voided')"
_GOOD = "('satisfied', 'basically')"
# The p90 is an ordered-set aggregate: PostgreSQL then sorts for every grouping set instead of
# hashing them all in one pass, so it is computed for a single level only (GET /api/v1/kpis).
_P90 = "percentile_cont(0.9) WITHIN GROUP (ORDER BY hours) FILTER (WHERE due)"

# A case of the period: reported in it, or due in it (each found by its own index; an OR of the
# two would be one scan of the whole table).
_ROW = f"""{{columns}}, on_spot, state, deadline, handled_at, closed_at, rework_count,
               extension_count, reopen_count, register_late, verification_late, resident_rating,
               satisfaction,
               reported_at >= :start AND reported_at < :end AS rep,
               {_REGISTERED} AS reg,
               deadline >= :start AND deadline < :end AND {_REGISTERED} AS due,
               EXTRACT(EPOCH FROM closed_at - reported_at) / 3600.0 AS hours"""

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
       {{p90}} AS p90_h
  FROM (SELECT {_ROW} FROM incidents
         WHERE reported_at >= :start AND reported_at < :end AND {{scope}} {{extra}}
        UNION ALL
        SELECT {_ROW} FROM incidents
         WHERE deadline >= :start AND deadline < :end
           AND NOT (reported_at >= :start AND reported_at < :end) AND {{scope}} {{extra}}) c
 GROUP BY GROUPING SETS ({{sets}})
"""

_MOVES = """
SELECT {keys}
       count(*) FILTER (WHERE e.action <> 'return') AS sent,
       count(*) FILTER (WHERE e.action = 'reassign') AS reassigned,
       count(*) FILTER (WHERE e.action = 'return') AS returned
  FROM incident_events e
  JOIN incidents i ON i.id = e.incident_id
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


Statement = tuple[str, list[str]]  # SQL text, the levels of its GROUPING bits


def statements(
    levels: Sequence[str], scope: AreaScope, extra: str = "", *, worker: bool = False
) -> tuple[Statement, Statement | None]:
    """The cases' and the moves' statements for ``levels`` (``none`` and the keys of CASE_KEYS);
    no moves statement when filtering by worker (a move names no person it was taken from)."""
    select, sets, named = _grouping(levels, CASE_KEYS)
    columns = ", ".join(CASE_KEYS[lv] for lv in named) or "NULL AS none"
    p90 = _P90 if len(levels) == 1 else "CAST(NULL AS float8)"
    cases = _CASES.format(
        keys=select, columns=columns, scope=scope.sql("grid_code"), extra=extra, sets=sets, p90=p90
    )
    move_levels = [lv for lv in levels if lv in MOVE_KEYS or lv == "none"]
    if "unit" in move_levels:
        move_levels.append("from_unit")
    if worker or not move_levels:
        return (cases, named), None
    select, sets, mnamed = _grouping(move_levels, MOVE_KEYS)
    moves = _MOVES.format(
        keys=select,
        scope=scope.sql("i.grid_code"),
        extra=extra.replace("category_code", "i.category_code"),
        sets=sets,
    )
    return (cases, named), (moves, mnamed)


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

    (sql, named), moves = statements(sql_levels, scope, extra, worker=bool(worker))
    result = session.execute(text(sql), params)
    at_ = {k: n for n, k in enumerate(result.keys())}
    wanted = [(name, at_[name]) for name in CASE_COUNTS]
    for row in result.all():
        target = slot(_level_of(row, named))
        for name, n in wanted:
            target[name] = row[n]
        target["mean_h"], target["p90_h"] = row.mean_h, row.p90_h

    if moves is not None:
        sql, named = moves
        for row in session.execute(text(sql), params):
            level, code = _level_of(row, named)
            if level == "from_unit":  # a unit's 改派 away from it: only that count
                slot(("unit", code))["reassigned"] = int(row.reassigned)
                continue
            target = slot((level, code))
            names = ("sent", "returned") if level == "unit" else MOVE_COUNTS
            for name in names:
                target[name] = int(getattr(row, name) or 0)
    return out


def _like_prefix(code: str) -> str:
    escaped = code.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"
