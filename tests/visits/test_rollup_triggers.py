"""The write-time rollups (household_visit_stats, worker_visit_days) follow every change to visits
exactly, and coverage read from them keeps its answers: the lookup path for a period in the past
with visits after it, Beijing month boundaries, the household cache seeing household changes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import select, text

from app.auth.policy import system_principal
from app.auth.scope import AreaScope, scope_of
from app.staff.models import Staff
from app.visits.cadence import load_rules
from app.visits.coverage import grid_coverage, worker_coverage
from app.visits.rollup import visited_households
from tests.factories import G11, G12, tiny_county
from tests.visits.test_rollup import _home, _visit


def _area(code: str) -> AreaScope:
    """The whole of ``code``, as a system job sees it (no jurisdiction filter)."""
    return scope_of(system_principal("test")).narrow(code)


BJ = dt.timezone(dt.timedelta(hours=8))


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BJ)


def _stats(db) -> dict[int, tuple[dt.datetime, dt.datetime]]:
    rows = db.execute(text("SELECT * FROM household_visit_stats")).all()
    return {r[0]: (r[1], r[2]) for r in rows}


def _days(db) -> dict[tuple[str, int, dt.date], int]:
    rows = db.execute(text("SELECT grid_code, worker_id, day, visits FROM worker_visit_days")).all()
    return {(r[0], r[1], r[2]): r[3] for r in rows}


def _from_scratch(db) -> tuple[dict, dict]:
    """What the rollups must hold, computed from the visits themselves."""
    stats = db.execute(
        text("SELECT household_id, min(visited_at), max(visited_at) FROM visits GROUP BY 1")
    ).all()
    days = db.execute(
        text(
            "SELECT grid_code, worker_id, (visited_at AT TIME ZONE 'Asia/Shanghai')::date, "
            "count(*) FROM visits WHERE grid_code IS NOT NULL GROUP BY 1, 2, 3"
        )
    ).all()
    return {r[0]: (r[1], r[2]) for r in stats}, {(r[0], r[1], r[2]): r[3] for r in days}


@pytest.fixture
def county(db):
    tiny_county(db)
    worker = db.scalar(select(Staff.id).where(Staff.code == "S2"))
    homes = [_home(db, 113.001 + i * 1e-4, 34.002, f"BR{i}") for i in range(3)]
    return worker, homes


def test_insert_fills_the_rollups(db, county):
    worker, (a, b, _c) = county
    _visit(db, worker, a, _at(2025, 3, 1, 9))
    _visit(db, worker, a, _at(2025, 1, 31, 23, 30))  # earlier, inserted later: first moves back
    _visit(db, worker, a, _at(2025, 3, 1, 15))  # same Beijing day
    _visit(db, worker, b, _at(2025, 2, 1, 0, 10))  # 31 January in UTC, 1 February in Beijing
    assert _stats(db) == {
        a: (_at(2025, 1, 31, 23, 30), _at(2025, 3, 1, 15)),
        b: (_at(2025, 2, 1, 0, 10), _at(2025, 2, 1, 0, 10)),
    }
    assert _days(db) == {
        (G11, worker, dt.date(2025, 1, 31)): 1,
        (G11, worker, dt.date(2025, 3, 1)): 2,
        (G11, worker, dt.date(2025, 2, 1)): 1,
    }


def test_bulk_insert_update_delete_and_truncate_stay_exact(db, county):
    worker, (a, b, c) = county
    db.execute(
        text(
            "INSERT INTO visits (worker_id, household_id, grid_code, visited_at, kind, recorded_by) "
            "SELECT :w, h, CASE WHEN d % 3 = 0 THEN NULL ELSE :g END, "
            "  timestamptz '2025-01-01 20:00+08' + d * interval '7 hours', 'routine', 't' "
            "FROM unnest(CAST(:h AS int[])) h, generate_series(0, 40) d"
        ),
        {"w": worker, "g": G11, "h": [a, b, c]},
    )
    assert (_stats(db), _days(db)) == _from_scratch(db)
    # Move b's last visit into a new day and another grid; delete a's first and c's every visit.
    db.execute(
        text(
            "UPDATE visits SET visited_at = visited_at + interval '30 days', grid_code = :g "
            "WHERE id = (SELECT max(id) FROM visits WHERE household_id = :b)"
        ),
        {"g": G12, "b": b},
    )
    db.execute(
        text(
            "DELETE FROM visits WHERE id = (SELECT min(id) FROM visits WHERE household_id = :a) "
            "OR household_id = :c"
        ),
        {"a": a, "c": c},
    )
    stats, days = _from_scratch(db)
    assert c not in stats and (_stats(db), _days(db)) == (stats, days)
    assert all(n > 0 for n in _days(db).values())  # emptied days are removed, not left at 0
    db.execute(text("TRUNCATE visits"))
    assert _stats(db) == {} and _days(db) == {}


@pytest.mark.parametrize(
    ("visits", "visited"),
    [
        ([(2025, 3, 10)], True),  # first = last inside
        ([(2025, 1, 5), (2025, 3, 10)], True),  # last inside
        ([(2025, 3, 10), (2025, 9, 1)], True),  # first inside, one after
        ([(2025, 1, 5), (2025, 3, 10), (2025, 9, 1)], True),  # lookup path: one inside
        ([(2025, 1, 5), (2025, 9, 1)], False),  # lookup path: before and after, none inside
        ([(2025, 1, 5)], False),  # all before
        ([(2025, 9, 1)], False),  # all after
        ([(2025, 2, 28, 23, 59)], False),  # the minute before the Beijing start
        ([(2025, 3, 1, 0, 0)], True),  # the start is inclusive (Beijing midnight)
        ([(2025, 4, 1, 0, 0)], False),  # the end is exclusive
        ([(2025, 1, 5), (2025, 4, 1, 0, 0)], False),  # lookup path at the exclusive end
    ],
)
def test_visited_in_a_past_period(db, county, visits, visited):
    worker, (a, b, _c) = county
    for moment in visits:
        _visit(db, worker, a, _at(*moment))
    _visit(db, worker, b, _at(2025, 3, 15))  # a neighbour visited in the period
    got = visited_households(
        db, start=_at(2025, 3, 1), end=_at(2025, 4, 1), ids=np.array([a, b], dtype=np.int64)
    )
    assert got.tolist() == [visited, True]


def test_worker_months_from_rollups_count_field_days_once_across_grids(db, county):
    worker, (a, b, _c) = county
    _visit(db, worker, a, _at(2025, 1, 31, 23, 30), grid=G11)  # January in Beijing
    _visit(db, worker, b, _at(2025, 2, 1, 0, 10), grid=G12)  # February in Beijing
    _visit(db, worker, a, _at(2025, 2, 1, 18), grid=G11)  # same day, other grid: one field day
    _visit(db, worker, a, _at(2025, 2, 28, 23, 59), grid=G11)
    _visit(db, worker, a, _at(2025, 3, 1), grid=G11)  # the end is exclusive
    out = worker_coverage(
        db, scope=_area("419901"), start=dt.date(2025, 1, 31), end=dt.date(2025, 3, 1)
    )
    assert [(m.month, m.visits, m.field_days) for m in out[0].months] == [
        ("2025-01", 1, 1),
        ("2025-02", 3, 2),
    ]
    grid_only = worker_coverage(
        db, scope=_area(G12), start=dt.date(2025, 1, 1), end=dt.date(2026, 1, 1)
    )
    assert [(m.month, m.visits, m.field_days) for m in grid_only[0].months] == [("2025-02", 1, 1)]


def test_household_cache_sees_new_and_changed_households(db, county):
    _worker, (a, _b, _c) = county
    period = {"start": dt.date(2025, 1, 1), "end": dt.date(2026, 1, 1), "rules": load_rules()}

    def g11() -> tuple[int, int]:
        row = next(r for r in grid_coverage(db, scope=_area("419901"), **period) if r.code == G11)
        return row.households, row.special_households

    before = g11()
    assert g11() == before  # served from the cache
    _home(db, 113.002, 34.003, "BNEW")
    assert g11() == (before[0] + 1, before[1])
    db.execute(text("UPDATE households SET special_groups = '{hardship}' WHERE id = :a"), {"a": a})
    assert g11() == (before[0] + 1, before[1] + 1)
    db.execute(
        text("UPDATE households SET location = ST_SetSRID(ST_MakePoint(0, 0), 4490) WHERE id = :a"),
        {"a": a},
    )
    assert g11() == (before[0], before[1])
