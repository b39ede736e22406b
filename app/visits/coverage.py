"""Visit coverage per grid, community, township or county and period
(docs/domain.md#visit-coverage).

Households are assigned to grids in memory and visits aggregated compactly in SQL
(app.visits.rollup); the per-grid roll-up is numpy.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.auth.scope import AreaScope
from app.errors import InvalidInput, NotFound
from app.visits import rollup
from app.visits.cadence import CadenceRule, load_rules
from app.visits.schemas import CoveragePublic, CoverageRow, WorkerCoverage, WorkerMonth
from gis.codes import LENGTH_BY_LEVEL, BadAreaCode, level_of


@dataclass(frozen=True)
class AreaInfo:
    code: str
    level: str
    name: str


def resolve_area(session: Session, code: str) -> AreaInfo:
    """A current area (6/9/12 digits) or an active grid (15 digits); 404 if unknown."""
    try:
        level = level_of(code)
    except BadAreaCode as exc:
        raise InvalidInput(f"area: {exc}", field="area") from exc
    if level == "grid":
        name = session.scalar(
            text("SELECT name FROM grids WHERE code = :c AND status = 'active'"), {"c": code}
        )
    else:
        name = session.scalar(
            text("SELECT name FROM areas WHERE code = :c AND valid_to IS NULL"), {"c": code}
        )
    if name is None:
        raise NotFound(f"找不到区域或网格 {code}", area=code)
    return AreaInfo(code=code, level=level, name=name)


def grid_coverage(
    session: Session,
    *,
    scope: AreaScope,
    start: dt.date,
    end: dt.date,
    rules: tuple[CadenceRule, ...],
) -> list[CoverageRow]:
    """One row per active grid in ``scope`` with households and visits in [start, end).

    A household counts once, in the grid routing sends it to (gis.pointindex: on a shared edge,
    the smallest code); see app.visits.rollup for why the work is split between the database and
    numpy.
    """
    codes, hh = rollup.grid_households(session, scope=scope, rules=rules)
    period = {"start": _beijing(start), "end": _beijing(end)}
    visited = rollup.visited_households(session, ids=hh.id, **period)
    on_cadence = np.zeros(len(hh.id), dtype=bool)
    special = np.flatnonzero(hh.special)
    if len(special):
        counts = rollup.visit_counts(session, ids=hh.id[special], **period)
        needed = np.maximum(1, (end - start).days // hh.interval_days[special])
        on_cadence[special] = counts >= needed
    n = len(codes)
    columns = [
        np.bincount(hh.grid, minlength=n),
        np.bincount(hh.grid[visited], minlength=n),
        np.bincount(hh.grid[hh.special], minlength=n),
        np.bincount(hh.grid[on_cadence], minlength=n),
    ]
    return [_row(code, *(int(c[i]) for c in columns)) for i, code in enumerate(codes)]


def worker_coverage(
    session: Session, *, scope: AreaScope, start: dt.date, end: dt.date
) -> list[WorkerCoverage]:
    """Visits and field days (days with at least one visit) per worker and month."""
    out = []
    for worker_id, name, rows in rollup.worker_months(session, scope=scope, start=start, end=end):
        months = [WorkerMonth(month=m, visits=n, field_days=days) for m, n, days in rows]
        out.append(
            WorkerCoverage(
                worker_id=worker_id,
                name=name,
                visits=sum(m.visits for m in months),
                field_days=sum(m.field_days for m in months),
                months=months,
            )
        )
    return out


def coverage(
    session: Session,
    *,
    scope: AreaScope,
    start: dt.date,
    end: dt.date,
    by: str = "grid",
    rules: tuple[CadenceRule, ...] | None = None,
) -> CoveragePublic:
    """Coverage of the scope's area (the one asked for, or the caller's jurisdiction) over
    [start, end), rolled up to ``by`` (grid … county)."""
    area = resolve_area(session, scope.prefix)
    # The area is what is being counted, so it is filtered on even where no jurisdiction filter
    # applies (AreaScope.narrowed).
    scope = scope.narrow(area.code)
    if end <= start:
        raise InvalidInput("end: 结束日期须晚于开始日期", field="end")
    if by not in LENGTH_BY_LEVEL or LENGTH_BY_LEVEL[by] < len(area.code):
        raise InvalidInput(
            f"by: 汇总层级 {by!r} 无效，应为不高于所查区域的 grid、community、township 或 county",
            field="by",
        )
    began = time.perf_counter()
    grids = grid_coverage(session, scope=scope, start=start, end=end, rules=rules or load_rules())
    width = LENGTH_BY_LEVEL[by]
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for g in grids:
        acc = sums[g.code[:width]]
        for i, v in enumerate(
            (g.households, g.visited, g.special_households, g.special_on_cadence)
        ):
            acc[i] += v
    rows = [_row(code, *acc) for code, acc in sorted(sums.items())]
    total = _row(area.code, *(sum(a[i] for a in sums.values()) for i in range(4)))
    workers = worker_coverage(session, scope=scope, start=start, end=end)
    return CoveragePublic(
        area=area.code,
        level=by,
        start=start,
        end=end,
        total=total,
        rows=rows,
        workers=workers,
        seconds=round(time.perf_counter() - began, 3),
    )


def _beijing(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _row(code: str, households: int, visited: int, special: int, on_cadence: int) -> CoverageRow:
    return CoverageRow(
        code=code,
        households=households,
        visited=visited,
        visited_share=_share(visited, households),
        special_households=special,
        special_on_cadence=on_cadence,
        special_on_cadence_share=_share(on_cadence, special),
    )
