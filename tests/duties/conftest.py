"""A hand-made community whose unmet duties are known by reading this file (docs/duties.md).

Now is 2026-11-20 18:00 Beijing; "last month" is October 2026. Rules: the shipped defaults
(full-time 15 field days a month, part-time 8; arrivals within 1 day for a dispute, 3 for a death,
7 for a wedding; a linked cadre visits every household within 365 days).

    grids G1..G4 side by side in community C (county 419902)
    W1 full-time worker of G1 since 2026-01-01: 15 October days in the field (and one visit at
       04:00 Beijing on 1 November, which is not October)                     → no finding
    W2 part-time worker of G2 since 2026-01-01: 7 October days (two visits on one of them)
                                                                              → field days short
    W3 full-time worker of G3 since 2026-10-15 (not the whole month)          → no field-day finding
    G2 has only part-time W2                                                  → no full-time worker
    G4 has nobody                                                             → no full-time worker
    K1 cadre linked to G1 since 2025-06-01; G1 holds H1, H2, H3; K1 visited H1 100 days ago and
       H2 400 days ago                                                         → 2/3 not visited
    K2 cadre linked to G2 since 2026-06-01 (due 2027-06-01), visited nobody   → not due yet
    cases: A 邻里纠纷 G1 3 days ago, no arrival                               → arrival overdue
           B 家庭纠纷 G1 3 days ago, arrival recorded                          → none
           C 丧事 G2 1 day ago (3 days allowed)                                → none yet (a task)
           D 喜事 G2 10 days ago (7 allowed)                                   → arrival overdue
           E 垃圾堆积 G1 3 days ago (not a trigger class)                     → none
           F 邻里纠纷 G1 100 days ago (beyond the 90-day look-back)           → none
           V 邻里纠纷 G1 5 days ago, voided                                   → none
"""

from __future__ import annotations

import datetime as dt

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import Point, box
from sqlalchemy import text

from app.buildings.models import Building, Household
from app.staff.models import Staff, StaffAssignment
from tests.factories import add_area, add_grid

COUNTY, TOWNSHIP, C = "419902", "419902001", "419902001001"
G1, G2, G3, G4 = (f"{C}00{i}" for i in range(1, 5))
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
BJ = dt.timezone(dt.timedelta(hours=8))


def grid_box(i: int):  # type: ignore[no-untyped-def]
    return box(113.0 + 0.005 * i, 34.0, 113.005 + 0.005 * i, 34.01)


def _incident(
    db, no: str, category: str, grid: str, reported: dt.datetime, state: str = "reported"
) -> int:  # type: ignore[no-untyped-def]
    return int(
        db.execute(
            text(
                "INSERT INTO incidents (case_no, token, category_code, description, location, "
                "grid_code, community_code, locate, reported_at, deadline, state) VALUES "
                "(:no, :tok, :cat, :d, ST_SetSRID(ST_MakePoint(:x, 34.005), 4490), :g, :c, '{}', "
                ":at, :at + interval '5 day', :state) RETURNING id"
            ),
            {
                "no": no,
                "tok": f"tok-duty-{no}",
                "cat": category,
                "d": f"案件{no}",
                "x": 113.0025 + 0.005 * (int(grid[-1]) - 1),
                "g": grid,
                "c": C,
                "at": reported,
                "state": state,
            },
        ).scalar_one()
    )


def visit(db, worker: int, household: int, at: dt.datetime, grid: str) -> None:  # type: ignore[no-untyped-def]
    db.execute(
        text(
            "INSERT INTO visits (worker_id, household_id, grid_code, visited_at, kind, recorded_by) "
            "VALUES (:w, :h, :g, :t, 'routine', 'test')"
        ),
        {"w": worker, "h": household, "g": grid, "t": at},
    )


@pytest.fixture
def duty_county(db):  # type: ignore[no-untyped-def]
    whole = box(113.0, 34.0, 113.02, 34.01)
    add_area(db, COUNTY, "履职县", "county", "county", whole)
    add_area(db, TOWNSHIP, "城关街道", "township", "street", whole, COUNTY)
    add_area(db, C, "和睦社区", "community", "residents", whole, TOWNSHIP)
    for i, g in enumerate((G1, G2, G3, G4)):
        add_grid(db, g, grid_box(i), name=f"和睦社区第{i + 1}网格")
    people = {
        "W1": Staff(code="W1", name="周敏", employment="full_time"),
        "W2": Staff(code="W2", name="吴刚", employment="part_time"),
        "W3": Staff(code="W3", name="郑洁", employment="full_time"),
        "K1": Staff(code="K1", name="冯书记", employment="full_time"),
        "K2": Staff(code="K2", name="陈主任", employment="full_time"),
    }
    db.add_all(people.values())
    db.flush()
    s = {k: v.id for k, v in people.items()}
    db.add_all(
        [
            StaffAssignment(staff_id=s["W1"], grid_code=G1, role="worker", start_date="2026-01-01"),
            StaffAssignment(staff_id=s["W2"], grid_code=G2, role="worker", start_date="2026-01-01"),
            StaffAssignment(staff_id=s["W3"], grid_code=G3, role="worker", start_date="2026-10-15"),
            StaffAssignment(staff_id=s["K1"], grid_code=G1, role="cadre", start_date="2025-06-01"),
            StaffAssignment(staff_id=s["K2"], grid_code=G2, role="cadre", start_date="2026-06-01"),
        ]
    )
    b1 = Building(
        code="DB1",
        name="1号楼",
        community_code=C,
        location=from_shape(Point(113.002, 34.005), srid=4490),
    )
    b2 = Building(
        code="DB2",
        name="2号楼",
        community_code=C,
        location=from_shape(Point(113.007, 34.005), srid=4490),
    )
    db.add_all([b1, b2])
    db.flush()
    homes = [
        Household(building_id=b1.id, unit="1", room=str(100 + n), location=b1.location)
        for n in (1, 2, 3)
    ] + [Household(building_id=b2.id, unit="1", room="101", location=b2.location)]
    db.add_all(homes)
    db.flush()
    h = [x.id for x in homes]
    for day in range(1, 16):  # W1: 1–15 October, 10:00 Beijing
        visit(db, s["W1"], h[0], dt.datetime(2026, 10, day, 2, 0, tzinfo=dt.UTC), G1)
    # 20:00 UTC on 31 October is 04:00 on 1 November in Beijing: not an October day.
    visit(db, s["W1"], h[1], dt.datetime(2026, 10, 31, 20, 0, tzinfo=dt.UTC), G1)
    for day in (2, 3, 3, 9, 12, 20, 25, 28):  # W2: 7 distinct October days
        visit(db, s["W2"], h[3], dt.datetime(2026, 10, day, 3, 0, tzinfo=dt.UTC), G2)
    visit(db, s["K1"], h[0], NOW - dt.timedelta(days=100), G1)
    visit(db, s["K1"], h[1], NOW - dt.timedelta(days=400), G1)
    cases = {
        "A": _incident(db, "DUTYA", "0101", G1, NOW - dt.timedelta(days=3)),
        "B": _incident(db, "DUTYB", "0102", G1, NOW - dt.timedelta(days=3)),
        "C": _incident(db, "DUTYC", "0901", G2, NOW - dt.timedelta(days=1)),
        "D": _incident(db, "DUTYD", "0902", G2, NOW - dt.timedelta(days=10)),
        "E": _incident(db, "DUTYE", "0401", G1, NOW - dt.timedelta(days=3)),
        "F": _incident(db, "DUTYF", "0101", G1, NOW - dt.timedelta(days=100)),
        "V": _incident(db, "DUTYV", "0101", G1, NOW - dt.timedelta(days=5), state="voided"),
    }
    db.execute(
        text(
            "INSERT INTO duty_arrivals (incident_id, grid_code, staff_id, arrived_at, recorded_by) "
            "VALUES (:i, :g, :s, :at, 'w1')"
        ),
        {"i": cases["B"], "g": G1, "s": s["W1"], "at": NOW - dt.timedelta(days=2, hours=20)},
    )
    db.flush()
    return {"staff": s, "households": h, "cases": cases}
