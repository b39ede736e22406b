"""The demo step for units (app/units/demo.py) over the tiny county: tier units derived from the
registry with their parents, the departments and the police station, the routing table; twice
changes nothing."""

from __future__ import annotations

from sqlalchemy import select, text

from app.units.demo import demo_units_step, load_demo_units
from app.units.models import Unit
from tests.factories import C1, C2, G11, G12, G21, TOWNSHIP, tiny_county


def test_demo_units_are_derived_and_idempotent(db):
    tiny_county(db)
    assert load_demo_units(db) == (7 + 5, 9, 2)
    rows = {u.code: (u.kind, u.area_code, u.parent_code) for u in db.scalars(select(Unit))}
    assert rows["county-419901"] == ("county", "419901", None)
    assert rows["township-" + TOWNSHIP] == ("township", TOWNSHIP, "county-419901")
    assert rows["community-" + C2] == ("community", C2, "township-" + TOWNSHIP)
    for grid in (G11, G12, G21):
        assert rows["grid-" + grid] == ("grid", grid, "community-" + grid[:12])
    assert rows["agency-419901001-pcs"] == ("agency", TOWNSHIP, "county-419901")
    names = {u.name for u in db.scalars(select(Unit).where(Unit.kind == "department"))}
    assert names == {
        "县城市管理综合执法局",
        "县住房和城乡建设局",
        "县应急管理局",
        "县市场监督管理局",
    }
    assert load_demo_units(db) == (0, 0, 0)
    assert demo_units_step(db) == "承办单位：新建 0 个，分派规则 0 条，单位成员 0 名"


def test_demo_cases_past_dispatch_go_to_the_unit_of_their_tier(db):
    from app.units.demo import assign_demo_cases

    tiny_county(db)
    load_demo_units(db)
    db.execute(
        text(
            """
            INSERT INTO incidents (case_no, token, category_code, description, source, location,
                grid_code, community_code, locate, state, tier, reported_at, deadline, assignee)
            VALUES ('DEMO1', 'demo-token-1', '0401', 'x', 'demo',
                    ST_SetSRID(ST_MakePoint(113.002, 34.005), 4490), :g, :c, '{}', 'handling', 1,
                    now(), now() + interval '1 day', 'worker_01001'),
                   ('DEMO2', 'demo-token-2', '0401', 'x', 'demo',
                    ST_SetSRID(ST_MakePoint(113.002, 34.005), 4490), :g, :c, '{}', 'reported', 0,
                    now(), now() + interval '1 day', NULL)
            """
        ),
        {"g": G11, "c": C1},
    )
    assert assign_demo_cases(db) == 1
    units = dict(db.execute(text("SELECT case_no, unit_code FROM incidents")).all())
    assert units == {"DEMO1": "community-" + C1, "DEMO2": None}


def test_the_demo_cases_dispatch_events_name_their_unit(db):
    """With the units made first (as the demo does), every demo case past dispatch is with a unit
    and its 派遣 event names that unit, so per-unit figures have the demo's cases."""
    from app.incidents.demo import demo_incidents_step

    tiny_county(db)
    load_demo_units(db)
    demo_incidents_step(db)
    missing = db.execute(
        text(
            "SELECT count(*) FROM incidents WHERE source = 'demo' AND assignee IS NOT NULL "
            "AND unit_code IS NULL"
        )
    ).scalar_one()
    assert missing == 0
    rows = db.execute(
        text(
            "SELECT e.data->>'unit' = i.unit_code, count(*) FROM incident_events e "
            "JOIN incidents i ON i.id = e.incident_id WHERE e.action = 'dispatch' GROUP BY 1"
        )
    ).all()
    assert len(rows) == 1 and rows[0][0] is True and rows[0][1] > 100
