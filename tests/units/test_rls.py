"""Row-level security on units, members and routing rules (migration 0014): as ``gridgov_app`` a
caller sees the units whose area lies inside their jurisdiction or holds it, never a unit serving
only another area, and members and rules through them; no scope, nothing; the system, all."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.factories import C1, C2, COUNTY, G11, G12, G21, TOWNSHIP, tiny_county
from tests.units.world import CG, PCS, ZJ, add_units


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    tiny_county(db)
    add_units(db)
    db.execute(
        text(
            "INSERT INTO routing_rules (category_code, area_code, unit_code) VALUES "
            "('0103', :c1, :cg), ('0301', :c2, :pcs)"
        ),
        {"c1": C1, "c2": C2, "cg": CG, "pcs": PCS},
    )
    db.flush()


def _seen(db, role: str, scope: str) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    with db.begin_nested():
        db.execute(
            text("SELECT set_config('role', :r, true), set_config('gridgov.scope', :s, true)"),
            {"r": role, "s": scope},
        )
        out = {
            "units": set(db.execute(text("SELECT code FROM units")).scalars()),
            "members": set(db.execute(text("SELECT username FROM unit_members")).scalars()),
            "rules": set(db.execute(text("SELECT area_code FROM routing_rules")).scalars()),
        }
        db.execute(text("RESET ROLE"))
    return out


def test_a_community_sees_its_units_and_those_above_it(db, world):  # type: ignore[no-untyped-def]
    seen = _seen(db, "gridgov_app", C1)
    assert seen["units"] == {
        "county-" + COUNTY,
        "township-" + TOWNSHIP,
        "community-" + C1,
        "grid-" + G11,
        "grid-" + G12,
        CG,
        ZJ,
    }
    assert seen["members"] == {"cg1", "zj1", "zj_old"}
    assert seen["rules"] == {C1}
    other = _seen(db, "gridgov_app", C2)
    assert PCS in other["units"] and "grid-" + G21 in other["units"]
    assert "grid-" + G11 not in other["units"] and other["members"] == {
        "cg1",
        "zj1",
        "zj_old",
        "pcs1",
    }
    everything = _seen(db, "gridgov_system", "")
    assert len(everything["units"]) == 10 and everything["rules"] == {C1, C2}
    assert _seen(db, "gridgov_app", TOWNSHIP)["units"] == everything["units"]


@pytest.mark.parametrize("scope", ["", "420101"])
def test_no_scope_or_another_county_sees_nothing(db, world, scope):  # type: ignore[no-untyped-def]
    assert _seen(db, "gridgov_app", scope) == {"units": set(), "members": set(), "rules": set()}


def test_a_unit_outside_the_scope_cannot_be_written(db, world):  # type: ignore[no-untyped-def]
    with pytest.raises(DBAPIError, match="row-level security"), db.begin_nested():
        db.execute(
            text(
                "SELECT set_config('role', 'gridgov_app', true), set_config('gridgov.scope', :s, true)"
            ),
            {"s": C1},
        )
        db.execute(
            text(
                "INSERT INTO units (code, name, kind, area_code) VALUES ('x-c2', 'x', 'agency', :a)"
            ),
            {"a": C2},
        )
    db.execute(text("RESET ROLE"))
