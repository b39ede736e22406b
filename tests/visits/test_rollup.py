"""The compact coverage blocks (app.visits.rollup): a household counts once, in the grid routing
sends it to (on a shared edge, the smallest code), visit bitmaps decode every bit, months follow
Beijing time."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry import Point, Polygon, box
from sqlalchemy import select

from app.auth.policy import system_principal
from app.auth.scope import AreaScope, scope_of
from app.buildings.models import Building, Household
from app.staff.models import Staff
from app.visits.cadence import load_rules
from app.visits.coverage import grid_coverage, worker_coverage
from app.visits.models import Visit
from app.visits.rollup import _locate, visit_counts, visited_households
from tests.factories import C1, G11, G12, G21, tiny_county


def _area(code: str) -> AreaScope:
    """The whole of ``code``, as a system job sees it (no jurisdiction filter)."""
    return scope_of(system_principal("test")).narrow(code)


BJ = dt.timezone(dt.timedelta(hours=8))


def _home(db, x: float, y: float, code: str, hid: int | None = None) -> int:
    b = Building(code=code, name=code, community_code=C1, location=from_shape(Point(x, y), 4490))
    db.add(b)
    db.flush()
    h = Household(building_id=b.id, unit="1", room="1", location=b.location)
    if hid is not None:
        h.id = hid
    db.add(h)
    db.flush()
    return h.id


def _visit(db, worker: int, household: int, at: dt.datetime, grid: str = G11) -> None:
    db.add(
        Visit(
            worker_id=worker,
            household_id=household,
            grid_code=grid,
            visited_at=at,
            kind="routine",
            recorded_by="t",
        )
    )
    db.flush()


@pytest.mark.parametrize(
    ("x", "y", "grids"),
    [
        (113.005, 34.005, {G11: 3, G12: 0, G21: 0}),  # on the G11|G12 edge: G11 only
        (113.01, 34.01, {G11: 2, G12: 1, G21: 0}),  # the corner G12 and G21 share: G12 only
        (113.007, 34.005, {G11: 2, G12: 1, G21: 0}),  # inside G12 only
        (113.03, 34.005, {G11: 2, G12: 0, G21: 0}),  # outside every grid
    ],
)
def test_household_counts_once_in_the_grid_routing_sends_it_to(db, x, y, grids):
    tiny_county(db)
    _home(db, x, y, "BX")
    rows = grid_coverage(
        db,
        scope=_area("419901"),
        start=dt.date(2025, 1, 1),
        end=dt.date(2026, 1, 1),
        rules=load_rules(),
    )
    assert {r.code: r.households for r in rows} == grids


def test_overlapping_or_invalid_grids_take_the_exact_path():
    a, b = box(0, 0, 2, 2), box(1, 0, 3, 2)  # overlap 1..2
    bowtie = Polygon([(10, 0), (12, 2), (12, 0), (10, 2)])
    for geoms in ([a, b], [a, bowtie]):
        arr = np.array(geoms, dtype=object)
        wkb = [shapely.to_wkb(g) for g in geoms]
        x, y = np.array([1.5, 0.5, 2.5, 11.0, 50.0]), np.array([1.0, 1.0, 1.0, 0.5, 0.0])
        point, grid = _locate(arr, wkb, x, y)
        got = sorted(zip(point.tolist(), grid.tolist(), strict=True))
        expected = sorted(  # the first grid each point lies in or on
            (p, next(g for g in range(len(geoms)) if shapely.intersects_xy(arr[g], x[p], y[p])))
            for p in range(len(x))
            if any(shapely.intersects_xy(arr[g], x[p], y[p]) for g in range(len(geoms)))
        )
        assert got == expected


def test_visit_bitmap_decodes_every_bit(db):
    tiny_county(db)
    worker = db.scalar(select(Staff.id).where(Staff.code == "S2"))
    ids = {
        hid: _home(db, 113.001, 34.001 + (hid % 1000) * 1e-6, f"B{hid}", hid)
        for hid in (10_000_063, 10_000_064, 10_000_127)
    }
    at = dt.datetime(2025, 6, 1, 9, tzinfo=BJ)
    _visit(db, worker, ids[10_000_063], at)
    _visit(db, worker, ids[10_000_127], at)
    _visit(db, worker, ids[10_000_127], at + dt.timedelta(days=1))
    _visit(db, worker, ids[10_000_064], dt.datetime(2024, 6, 1, tzinfo=BJ))  # before the period
    period = {
        "start": dt.datetime(2025, 1, 1, tzinfo=BJ),
        "end": dt.datetime(2026, 1, 1, tzinfo=BJ),
    }
    query = np.array(
        [10_000_063, 10_000_064, 10_000_127, 10_000_127, 10_000, 20_000_000], dtype=np.int64
    )
    assert visited_households(db, ids=query, **period).tolist() == [
        True,
        False,
        True,
        True,
        False,
        False,
    ]
    assert visit_counts(db, ids=query, **period).tolist() == [1, 0, 2, 2, 0, 0]


def test_worker_months_follow_beijing_days(db):
    tiny_county(db)
    worker = db.scalar(select(Staff.id).where(Staff.code == "S2"))
    home = _home(db, 113.002, 34.002, "BW")
    for moment in (
        dt.datetime(2025, 1, 14, 23, 59, tzinfo=BJ),  # before the period
        dt.datetime(2025, 1, 15, 8, tzinfo=BJ),
        dt.datetime(2025, 1, 15, 17, tzinfo=BJ),  # same day: one field day
        dt.datetime(2025, 1, 31, 23, 30, tzinfo=BJ),  # 15:30 UTC: still January in Beijing
        dt.datetime(2025, 2, 1, 0, 10, tzinfo=BJ),  # 31 January in UTC, February in Beijing
        dt.datetime(2025, 3, 1, 0, 0, tzinfo=BJ),  # the end is exclusive
    ):
        _visit(db, worker, home, moment)
    _visit(db, worker, home, dt.datetime(2025, 2, 2, tzinfo=BJ), grid="419902001001001")
    out = worker_coverage(
        db, scope=_area("419901"), start=dt.date(2025, 1, 15), end=dt.date(2025, 3, 1)
    )
    assert len(out) == 1 and out[0].visits == 4 and out[0].field_days == 3
    assert [(m.month, m.visits, m.field_days) for m in out[0].months] == [
        ("2025-01", 3, 2),
        ("2025-02", 1, 1),
    ]
