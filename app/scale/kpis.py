"""KPI roll-ups beyond one database: the counts exported per grid and month, summed on a Dask
cluster at any level, then turned into rates, scores and rankings by the same code as the
single-server KPIs (docs/scale.md#kpi-roll-ups).

Every count of docs/domain.md#kpis is additive over months: a case is counted as reported in the
month it was reported and as due in the month it fell due, a dispatch move in the month it was
made; so the sum of monthly counts is the count of the whole period. The hours to close (a mean and
a 90th percentile) are not additive and are not rolled up.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from app.auth.policy import system_principal
from app.auth.scope import scope_of
from app.errors import InvalidInput, ServiceUnavailable
from app.incidents.calendar import TZ
from app.incidents.config import KpiSettings
from app.incidents.kpis import query
from app.incidents.kpis.league import ranked, shape
from app.incidents.kpis.metrics import COUNTS

# A roll-up level and how many digits of the grid code name its group.
LEVEL_DIGITS = {"none": 0, "province": 2, "county": 6, "township": 9, "community": 12, "grid": 15}
CONNECT_SECONDS = 10


def month_starts(first: dt.date, last: dt.date) -> list[dt.datetime]:
    """The first instants (Asia/Shanghai) of the months from ``first``'s to ``last``'s, and of the
    month after: consecutive pairs are the months."""
    out = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append(dt.datetime(year, month, 1, tzinfo=TZ))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    out.append(dt.datetime(year, month, 1, tzinfo=TZ))
    return out


def county_counts(
    session: Session, county: str, months: list[dt.datetime], at: dt.datetime
) -> pd.DataFrame:
    """One row per grid and month with every count, from the one KPI query (app/incidents/kpis)."""
    scope = scope_of(system_principal("export")).narrow(county)
    rows = []
    for start, end in itertools.pairwise(months):
        counted = query.counts(session, levels=["grid"], start=start, end=end, scope=scope, at=at)
        for (level, grid), counts in counted.items():
            if level == "grid" and grid is not None:
                rows.append(
                    {"month": start.date(), "grid_code": grid, **{k: counts[k] for k in COUNTS}}
                )
    return pd.DataFrame(rows, columns=["month", "grid_code", *COUNTS])


def kpis_on_cluster(
    directory: Path,
    scheduler: str,
    *,
    first: dt.date,
    last: dt.date,
    group_by: str,
    kpi: KpiSettings,
) -> list[dict[str, Any]]:
    """The KPI rows of the whole months ``first``..``last`` at ``group_by``, summed on the cluster."""
    import dask.dataframe as dd
    from distributed import Client

    if group_by not in LEVEL_DIGITS:
        raise InvalidInput(f"--group-by 须为 {'、'.join(LEVEL_DIGITS)} 之一")
    source = directory / "kpi_counts"
    if not source.exists():
        raise InvalidInput(f"{directory} 中没有 kpi_counts（请用 gridgov export 导出）")
    months = month_starts(first, last)
    try:
        client = Client(scheduler, timeout=f"{CONNECT_SECONDS}s")
    except (OSError, TimeoutError) as exc:
        raise ServiceUnavailable(
            f"无法连接 Dask 调度器 {scheduler}（{CONNECT_SECONDS} 秒内无响应）：{exc}"
        ) from exc
    with client:
        frame = dd.read_parquet(str(source), columns=["month", "grid_code", *COUNTS])
        frame = frame[(frame["month"] >= months[0].date()) & (frame["month"] < months[-1].date())]
        digits = LEVEL_DIGITS[group_by]
        frame = frame.assign(group=frame["grid_code"].str.slice(0, digits) if digits else "")
        summed = frame.groupby("group")[list(COUNTS)].sum().compute()
    rows = []
    for group, counts in summed.iterrows():
        rows.append({"group": group or None, **shape({k: int(counts[k]) for k in COUNTS}, kpi)})
    if group_by == "none":
        return rows or [{"group": None, **shape(dict.fromkeys(COUNTS, 0), kpi)}]
    return ranked(rows)
