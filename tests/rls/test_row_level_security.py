"""PostgreSQL itself keeps each caller inside their jurisdiction (docs/security.md#row-level-security).

Two communities of the tiny county (tests/factories.py), C1 and C2, each with one record in every
jurisdiction-scoped table. Working as ``gridgov_app`` with the scope of C1, every table shows C1's
record and not C2's, whatever the query forgets; with no scope, nothing; the system role, all.
"""

from __future__ import annotations

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.buildings.models import Building, Household
from app.errors import Forbidden, database_error_to_domain
from tests.factories import C1, C2, G11, G21, tiny_county

SCOPED_TABLES = (
    "incidents",
    "incident_events",
    "incident_outbox",
    "households",
    "access_log",
    "visits",
    "household_visit_stats",
    "worker_visit_days",
    "staff_assignments",
    "plans",
    "plan_grids",
    "plan_edits",
    "audit_runs",
    "audit_findings",
)


def _incident(db, grid: str, n: int) -> int:  # type: ignore[no-untyped-def]
    return int(
        db.execute(
            text(
                "INSERT INTO incidents (case_no, token, category_code, description, location, "
                "grid_code, community_code, locate, reported_at, deadline) VALUES "
                "(:no, :tok, '0101', :d, ST_SetSRID(ST_MakePoint(113.002, 34.005), 4490), :g, "
                ":c, '{}', now(), now() + interval '1 day') RETURNING id"
            ),
            {"no": f"RLS{n}", "tok": f"tok-rls-{n}", "d": f"案件{n}", "g": grid, "c": grid[:12]},
        ).scalar_one()
    )


@pytest.fixture
def two_communities(db):  # type: ignore[no-untyped-def]
    """One record per scoped table in C1 (G11) and in C2 (G21)."""
    tiny_county(db)
    b2 = Building(
        code="B2",
        name="8号楼",
        compound="和平小区",
        address="和平小区8号楼",
        community_code=C2,
        household_count=1,
        location=from_shape(Point(113.015, 34.005), srid=4490),
    )
    db.add(b2)
    db.flush()
    db.add(Household(building_id=b2.id, unit="1", room="201", location=b2.location))
    db.flush()
    db.execute(
        text(
            "INSERT INTO staff_assignments (staff_id, grid_code, role, start_date) "
            "SELECT id, :g, 'leader', '2026-01-01' FROM staff WHERE code = 'S2'"
        ),
        {"g": G21},
    )
    for n, grid in enumerate((G11, G21)):
        case = _incident(db, grid, n)
        db.execute(
            text(
                "INSERT INTO incident_events (incident_id, action, to_state, actor, role, note, data) "
                "VALUES (:i, 'report', 'reported', 'tester', 'public', '', '{}')"
            ),
            {"i": case},
        )
        db.execute(
            text("INSERT INTO incident_outbox (incident_id, kind, payload) VALUES (:i, 'k', '{}')"),
            {"i": case},
        )
        community = grid[:12]
        household = db.execute(
            text(
                "SELECT h.id FROM households h JOIN buildings b ON b.id = h.building_id "
                "WHERE b.community_code = :c ORDER BY h.id LIMIT 1"
            ),
            {"c": community},
        ).scalar_one()
        db.execute(
            text(
                "INSERT INTO visits (worker_id, household_id, grid_code, visited_at, kind, "
                "recorded_by) SELECT id, :h, :g, now(), 'routine', 'tester' FROM staff "
                "WHERE code = 'S2'"
            ),
            {"h": household, "g": grid},
        )
        db.execute(
            text(
                "INSERT INTO access_log (username, role, household_id, purpose) "
                "VALUES ('tester', 'dispatcher', :h, '核对')"
            ),
            {"h": household},
        )
        plan = db.execute(
            text(
                "INSERT INTO plans (community_code, name, source, created_by) "
                "VALUES (:c, '方案', 'current', 'tester') RETURNING id"
            ),
            {"c": community},
        ).scalar_one()
        db.execute(
            text(
                "INSERT INTO plan_grids (plan_id, name, geom) SELECT :p, '网格', geom "
                "FROM grids WHERE code = :g"
            ),
            {"p": plan, "g": grid},
        )
        db.execute(
            text(
                "INSERT INTO plan_edits (plan_id, seq, kind, summary, before, after, made_by) "
                "VALUES (:p, 1, 'rename', '改名', '[]', '[]', 'tester')"
            ),
            {"p": plan},
        )
        run = db.execute(
            text(
                "INSERT INTO audit_runs (area_code, area_name, seconds, run_by, summary) "
                "VALUES (:c, '社区', 0.1, 'tester', '{}') RETURNING id"
            ),
            {"c": community},
        ).scalar_one()
        db.execute(
            text(
                "INSERT INTO audit_findings (run_id, kind, severity, objects, key, message, ordinal) "
                "VALUES (:r, 'gap', 'warning', ARRAY[:g], :g, '缝隙', 1)"
            ),
            {"r": run, "g": grid},
        )
    db.flush()


def _counts(db, role: str, scope: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with db.begin_nested():
        db.execute(
            text("SELECT set_config('role', :r, true), set_config('gridgov.scope', :s, true)"),
            {"r": role, "s": scope},
        )
        counts = {
            t: db.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in SCOPED_TABLES
        }
        db.execute(text("RESET ROLE"))
    return counts


def test_the_app_role_sees_only_its_community(db, two_communities):  # type: ignore[no-untyped-def]
    everything = _counts(db, "gridgov_system", "")
    c1 = _counts(db, "gridgov_app", C1)
    c2 = _counts(db, "gridgov_app", C2)
    # The tiny county has three staff assignments in C1 (leader + worker in G11, worker in G12) and
    # two households there; the fixture adds one of each in C2; every other table has one row per
    # community.
    expected_c1 = {t: 1 for t in SCOPED_TABLES} | {"staff_assignments": 3, "households": 2}
    expected_c2 = {t: 1 for t in SCOPED_TABLES} | {"staff_assignments": 1}
    assert c1 == expected_c1
    assert c2 == expected_c2
    assert everything == {t: expected_c1[t] + expected_c2[t] for t in SCOPED_TABLES}


def test_a_township_scope_sees_both_communities(db, two_communities):  # type: ignore[no-untyped-def]
    assert _counts(db, "gridgov_app", C1[:9]) == _counts(db, "gridgov_system", "")


@pytest.mark.parametrize("scope", ["", "420101"])  # none; another county
def test_no_scope_sees_nothing(db, two_communities, scope):  # type: ignore[no-untyped-def]
    assert _counts(db, "gridgov_app", scope) == {t: 0 for t in SCOPED_TABLES}


def test_intake_sees_cases_and_nothing_else(db, two_communities):  # type: ignore[no-untyped-def]
    counts = _counts(db, "gridgov_intake", "")
    assert {t: n for t, n in counts.items() if n} == {
        "incidents": 2,
        "incident_events": 2,
        "incident_outbox": 2,
    }


def _as_app(db, scope: str):  # type: ignore[no-untyped-def]
    db.execute(
        text(
            "SELECT set_config('role', 'gridgov_app', true), set_config('gridgov.scope', :s, true)"
        ),
        {"s": scope},
    )


def test_a_write_outside_the_scope_is_refused(db, two_communities):  # type: ignore[no-untyped-def]
    with pytest.raises(DBAPIError) as info, db.begin_nested():
        _as_app(db, C1)
        _incident(db, G21, 99)
    assert "row-level security" in str(info.value)
    db.execute(text("RESET ROLE"))
    # Through the API such a refusal is a 403 that names nothing (the record, the table).
    refused = database_error_to_domain(info.value)
    assert (
        isinstance(refused, Forbidden) and refused.message == "超出您的辖区：数据库拒绝了这次写入"
    )


def test_an_update_cannot_reach_or_move_a_case_outside(db, two_communities):  # type: ignore[no-untyped-def]
    with db.begin_nested():
        _as_app(db, C1)
        hidden = db.execute(
            text("UPDATE incidents SET description = 'x' WHERE grid_code = :g"), {"g": G21}
        )
        assert hidden.rowcount == 0
        db.execute(text("RESET ROLE"))
    with pytest.raises(DBAPIError), db.begin_nested():
        _as_app(db, C1)
        db.execute(
            text("UPDATE incidents SET grid_code = :g WHERE grid_code = :o"), {"g": G21, "o": G11}
        )
    db.execute(text("RESET ROLE"))
