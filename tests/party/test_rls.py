"""Row-level security on the party and task admission tables (migration 0027): as ``gridgov_app`` a
caller sees the organisations, grid links, members, 双报到 registrations, hours and tasks of their
jurisdiction, the admission list of their county, and the registrations naming their own account
wherever they are; no scope, nothing; a write outside the scope is refused by the database."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.factories import C1, C2, G11, G21

DAY = dt.date(2026, 11, 2)


@pytest.fixture
def rows(db, world):  # type: ignore[no-untyped-def]
    """An organisation, member, registration with an hour and a task in each community of the tiny
    county; C2's registration names the account ``mzj``."""
    kind = db.execute(
        text(
            "INSERT INTO task_kinds (county_code, name, updated_by) "
            "VALUES ('419901', '信息采集', 't') RETURNING id"
        )
    ).scalar_one()
    for community, grid, who in ((C1, G11, None), (C2, G21, "mzj")):
        org = db.execute(
            text(
                "INSERT INTO party_orgs (name, kind, area_code) "
                "VALUES (:n, 'branch', :a) RETURNING id"
            ),
            {"n": f"支部{community}", "a": community},
        ).scalar_one()
        db.execute(
            text("INSERT INTO party_org_grids (org_id, grid_code) VALUES (:o, :g)"),
            {"o": org, "g": grid},
        )
        db.execute(
            text("INSERT INTO party_members (org_id, name) VALUES (:o, :n)"),
            {"o": org, "n": f"党员{community}"},
        )
        reg = db.execute(
            text(
                "INSERT INTO dual_registrations (community_code, unit_code, name, phone, "
                "username, registered_on) VALUES (:c, 'dept-mz', :n, '13800000000', :u, :d) "
                "RETURNING id"
            ),
            {"c": community, "n": f"报到{community}", "u": who, "d": DAY},
        ).scalar_one()
        db.execute(
            text(
                "INSERT INTO service_hours (registration_id, served_on, hours, activity, "
                "recorded_by) VALUES (:r, :d, 2, :a, 't')"
            ),
            {"r": reg, "d": DAY, "a": f"服务{community}"},
        )
        db.execute(
            text(
                "INSERT INTO grid_tasks (kind_id, grid_code, assignee, title, created_by) "
                "VALUES (:k, :g, 'w', :t, 't')"
            ),
            {"k": kind, "g": grid, "t": f"任务{grid}"},
        )
    db.flush()


QUERIES = {
    "orgs": "SELECT name FROM party_orgs",
    "grids": "SELECT grid_code FROM party_org_grids",
    "members": "SELECT name FROM party_members",
    "dual": "SELECT name FROM dual_registrations",
    "hours": "SELECT activity FROM service_hours",
    "kinds": "SELECT name FROM task_kinds",
    "tasks": "SELECT title FROM grid_tasks",
}


def _seen(db, scope: str, user: str = "") -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    with db.begin_nested():
        db.execute(
            text(
                "SELECT set_config('role', 'gridgov_app', true), "
                "set_config('gridgov.scope', :s, true), set_config('gridgov.user', :u, true)"
            ),
            {"s": scope, "u": user},
        )
        out = {k: set(db.execute(text(q)).scalars()) for k, q in QUERIES.items()}
        db.execute(text("RESET ROLE"))
    return out


def test_a_community_sees_its_own_and_its_county_list(db, rows):  # type: ignore[no-untyped-def]
    assert _seen(db, C1) == {
        "orgs": {"支部" + C1},
        "grids": {G11},
        "members": {"党员" + C1},
        "dual": {"报到" + C1},
        "hours": {"服务" + C1},
        "kinds": {"信息采集"},
        "tasks": {"任务" + G11},
    }


def test_the_member_sees_their_own_registration_anywhere(db, rows):  # type: ignore[no-untyped-def]
    seen = _seen(db, C1, "mzj")
    assert seen["dual"] == {"报到" + C1, "报到" + C2}
    assert seen["hours"] == {"服务" + C1, "服务" + C2}
    assert seen["orgs"] == {"支部" + C1}


def test_no_scope_sees_nothing(db, rows):  # type: ignore[no-untyped-def]
    assert all(not v for v in _seen(db, "").values())


def test_another_county_sees_no_list(db, rows):  # type: ignore[no-untyped-def]
    assert _seen(db, "419902")["kinds"] == set()


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO party_orgs (name, kind, area_code) VALUES ('x', 'branch', '419901001002')",
        "INSERT INTO grid_tasks (kind_id, grid_code, assignee, title, created_by) "
        "SELECT id, '419901001002001', 'w', 'x', 't' FROM task_kinds",
        "INSERT INTO dual_registrations (community_code, unit_code, name, phone, registered_on) "
        "VALUES ('419901001002', 'dept-mz', 'x', '1', '2026-11-02')",
    ],
)
def test_a_write_outside_the_scope_is_refused(db, rows, sql):  # type: ignore[no-untyped-def]
    with pytest.raises(DBAPIError, match="row-level security"), db.begin_nested():
        db.execute(
            text(
                "SELECT set_config('role', 'gridgov_app', true), "
                "set_config('gridgov.scope', :s, true)"
            ),
            {"s": C1},
        )
        db.execute(text(sql))
    db.execute(text("RESET ROLE"))
