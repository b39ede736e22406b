"""KPIs as the operating reports of 数字城管 centres define them (docs/domain.md#kpis): counts over
the cases reported in a period, over the registered cases due in it (应结案) and over its dispatch
moves; rates, a composite score with configurable weights and league tables with lights.

- ``metrics.py``: the counts and the rates (numerator, denominator) as one table;
- ``query.py``: the two statements that count, at every level asked for at once;
- ``league.py``: rows, score, lights and ranking.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.areas.service import current_names
from app.auth.scope import AreaScope
from app.grids.service import grid_names
from app.incidents.config import KpiSettings
from app.incidents.kpis import query
from app.incidents.kpis.league import ranked, shape
from app.incidents.kpis.metrics import COUNT_LABELS, COUNTS, HOUR_LABELS, HOURS, RATES
from app.units.models import KIND_LABELS, Unit

GROUPS = query.LEVELS
LEAGUES = ("township", "community", "grid", "worker", "department")
DEPARTMENT_KINDS = ("department", "agency")
COLUMNS = ["group", *COUNTS, *(r.key for r in RATES), *HOURS, "score"]
__all__ = ["COLUMNS", "GROUPS", "LEAGUES", "compute_kpis", "league_tables", "metric_labels"]


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
    kpi: KpiSettings | None = None,
) -> list[dict[str, Any]]:
    """The KPIs of [start, end) in ``scope`` for one level, by code (``none``: one total row)."""
    if group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {list(GROUPS)}")
    counts = query.counts(
        session, levels=[group_by], start=start, end=end, scope=scope,
        at=at or dt.datetime.now(dt.UTC), category=category, worker=worker,
    )  # fmt: skip
    kpi = kpi or KpiSettings()
    rows = _rows(session, counts, group_by, kpi, scope)
    if group_by == "none" and not rows:
        rows = [{"group": None, **shape(_empty(), kpi)}]
    return sorted(rows, key=lambda r: (r["group"] is not None, r["group"] or ""))


def league_tables(
    session: Session,
    *,
    start: dt.datetime,
    end: dt.datetime,
    scope: AreaScope,
    levels: tuple[str, ...] = LEAGUES,
    kpi: KpiSettings,
    at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The total and a ranked table per level (best score first), each row named."""
    unknown = sorted(set(levels) - set(GROUPS))
    if unknown:
        raise ValueError(f"unknown levels {unknown}; known: {list(GROUPS)}")
    counts = query.counts(
        session, levels=["none", *levels], start=start, end=end, scope=scope,
        at=at or dt.datetime.now(dt.UTC),
    )  # fmt: skip
    total = _rows(session, counts, "none", kpi, scope) or [{"group": None, **shape(_empty(), kpi)}]
    tables = {level: ranked(_rows(session, counts, level, kpi, scope)) for level in levels}
    return {"total": total[0], "tables": tables}


def metric_labels(kpi: KpiSettings) -> list[dict[str, Any]]:
    """What each column means, for pages and CSV readers: label, kind, weight, lights."""
    out: list[dict[str, Any]] = [
        {"key": k, "label": COUNT_LABELS[k], "kind": "count"} for k in COUNTS
    ]
    out += [
        {
            "key": r.key,
            "label": r.label,
            "kind": "rate",
            "lower_is_better": r.lower_is_better,
            "weight": kpi.weights.get(r.key, 0),
            "lights": kpi.rate_lights.get(r.key),
        }
        for r in RATES
    ]
    out += [{"key": k, "label": HOUR_LABELS[k], "kind": "hours"} for k in HOURS]
    out.append({"key": "score", "label": "综合得分", "kind": "score", "lights": kpi.score_lights})
    return out


def _empty() -> dict[str, Any]:
    return dict.fromkeys(COUNTS, 0) | {"mean_h": None, "p90_h": None}


def _rows(
    session: Session,
    counts: dict[query.Key, dict[str, Any]],
    level: str,
    kpi: KpiSettings,
    scope: AreaScope,
) -> list[dict[str, Any]]:
    source = "unit" if level == "department" else level
    groups = {code: c for (lv, code), c in counts.items() if lv == source}
    names, kinds = _names(session, source, [c for c in groups if c is not None], scope)
    rows = []
    for code, c in groups.items():
        if level == "department" and kinds.get(code or "") not in DEPARTMENT_KINDS:
            continue
        name = names.get(code or "") if code is not None else _NONE_NAMES.get(level)
        rows.append({"group": code, "name": name, **shape(c, kpi)})
        if code in kinds:
            rows[-1]["kind"] = KIND_LABELS.get(kinds[code], kinds[code])
    return rows


_NONE_NAMES = {"none": "合计", "worker": "未指派", "unit": "未派遣"}


def _names(
    session: Session, level: str, codes: list[str], scope: AreaScope
) -> tuple[dict[str, str], dict[str, str]]:
    """Names of the groups (areas, grids: retired ones too; units) and, for units, their kind."""
    if not codes:
        return {}, {}
    if level in ("township", "community"):
        return current_names(session, codes), {}
    if level == "grid":
        return grid_names(session, scope), {}
    if level == "unit":
        # A county has a few hundred units: all of them, rather than a list of codes to match.
        units = list(session.execute(select(Unit.code, Unit.name, Unit.kind)))
        return {c: n for c, n, _ in units}, {c: k for c, _, k in units}
    return {}, {}
