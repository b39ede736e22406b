"""KPIs rolled up on a real Dask cluster from an export equal the single-server KPIs of the same
cases: the hand-worked cases and figures of tests/incidents/test_kpis.py (March 2026)."""

from __future__ import annotations

import datetime as dt

import pytest

from app.scale.export import export_geoparquet
from app.scale.kpis import kpis_on_cluster, month_starts
from tests.incidents.conftest import county  # noqa: F401  (fixture)
from tests.incidents.test_kpis import KPI, NOW, TOTAL, _kpis, cases  # noqa: F401  (fixture)

MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
COUNT_KEYS = [k for k in TOTAL if not k.endswith("_rate") and k not in (
    "dispatch_accuracy", "mean_hours_to_close", "p90_hours_to_close", "score")]  # fmt: skip


@pytest.fixture
def export(db, cases, tmp_path):  # type: ignore[no-untyped-def]  # noqa: F811
    d = tmp_path / "x"
    export_geoparquet(db, d, tables=("grids", "kpi_counts"), kpi_months=(dt.date(2026, 2, 1),
                      dt.date(2026, 4, 30)), at=NOW)  # fmt: skip
    return d


def test_the_total_equals_the_hand_worked_figures(export, dask_scheduler):
    rows = kpis_on_cluster(export, dask_scheduler, first=MARCH[0], last=MARCH[1],
                           group_by="none", kpi=KPI)  # fmt: skip
    assert len(rows) == 1
    total = rows[0]
    for key in COUNT_KEYS:
        assert total[key] == TOTAL[key], key
    assert total["closure_rate"] == 0.6 and total["dispatch_accuracy"] == 0.8333
    assert total["score"] == 73.3
    assert total["mean_hours_to_close"] is None  # not additive: not rolled up


def test_each_grid_equals_the_database_league(db, export, dask_scheduler):
    spread = kpis_on_cluster(export, dask_scheduler, first=MARCH[0], last=MARCH[1],
                             group_by="grid", kpi=KPI)  # fmt: skip
    here = {r["group"]: r for r in _kpis(db, group_by="grid")}
    assert {r["group"] for r in spread} == set(here)
    for row in spread:
        for key in COUNT_KEYS:
            assert row[key] == here[row["group"]][key], (row["group"], key)
    assert [r["rank"] for r in spread] == list(range(1, len(spread) + 1))


def test_months_and_refusals(tmp_path):
    from app.errors import InvalidInput

    starts = month_starts(dt.date(2026, 11, 15), dt.date(2027, 1, 2))
    assert [s.date() for s in starts] == [dt.date(2026, 11, 1), dt.date(2026, 12, 1),
                                          dt.date(2027, 1, 1), dt.date(2027, 2, 1)]  # fmt: skip
    with pytest.raises(InvalidInput, match="kpi_counts"):
        kpis_on_cluster(tmp_path, "tcp://127.0.0.1:9", first=MARCH[0], last=MARCH[1],
                        group_by="none", kpi=KPI)  # fmt: skip
