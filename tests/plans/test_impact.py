"""The impact preview when a split moves several buildings: who and what changes grid, and the
database work it takes (a fixed number of statements, however many buildings move).

Tiny county (tests/factories.py): C1 = box(113.000, 34.000, 113.010, 34.010), G11 west of 113.005,
G12 east of it; building B1 (2 households, one of them special) at 113.002 in G11. The split below
cuts G12 at 113.008: the piece east of the line is a new grid.
"""

from __future__ import annotations

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import event

from app.buildings.models import Building, Household
from tests.factories import C1, G11, G12, tiny_county

P = "/api/v1/plans"
CUT = {"type": "LineString", "coordinates": [[113.008, 33.999], [113.008, 34.011]]}


def _building(db, code: str, x: float, y: float, rooms: list[tuple[str, list[str]]]) -> Building:  # type: ignore[no-untyped-def]
    b = Building(
        code=code,
        name=f"{code}号楼",
        community_code=C1,
        household_count=len(rooms),
        location=from_shape(Point(x, y), srid=4490),
    )
    db.add(b)
    db.flush()
    for room, groups in rooms:
        db.add(
            Household(
                building_id=b.id, unit="1", room=room, size=2, location=b.location,
                special_groups=groups,
            )
        )  # fmt: skip
    db.flush()
    return b


def _split_plan(client, h) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """A draft of C1 from the current grids with G12 cut at 113.008; the new grid's name."""
    plan = client.post(P, json={"community_code": C1}, headers=h).json()
    g12 = next(g["id"] for g in plan["grids"] if g["code"] == G12)
    split = client.post(
        f"{P}/{plan['id']}/split", json={"version": 1, "grid_id": g12, "line": CUT}, headers=h
    )
    assert split.status_code == 200, split.text
    new = [g["name"] for g in split.json()["grids"] if g["code"] is None]
    # The new grid is named once, when made: the first new grid of the plan.
    assert new == ["新网格1"]
    return plan["id"], "新网格1"


def test_impact_lists_every_building_household_and_duty_that_moves(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    e1 = _building(db, "E1", 113.009, 34.002, [("101", []), ("102", ["elderly_alone"])])
    e2 = _building(db, "E2", 113.0095, 34.006, [("201", [])])
    e3 = _building(db, "E3", 113.0085, 34.009, [])  # no households: the building still moves
    _building(db, "W1", 113.006, 34.005, [("301", ["hardship"])])  # G12, west of the cut: stays
    # On the G11/G12 edge: routing (and so the plan) gives it to the smaller code, G11, before and
    # after the split, so it does not move.
    _building(db, "EDGE", 113.005, 34.003, [("401", [])])
    h = token_for("planner")
    plan_id, new = _split_plan(client, h)

    r = client.get(f"{P}/{plan_id}/impact", headers=h)
    assert r.status_code == 200, r.text
    impact = r.json()
    assert impact["grids_kept"] == [G11] and impact["grids_changed"] == [G12]
    assert impact["grids_new"] == 1

    buildings = impact["buildings"]
    assert buildings["count"] == 3
    assert [(i["id"], i["label"], i["from_grid"], i["to_grid"]) for i in buildings["items"]] == [
        (e1.id, "E1号楼（E1）", G12, new),
        (e2.id, "E2号楼（E2）", G12, new),
        (e3.id, "E3号楼（E3）", G12, new),
    ]
    assert {i["action"] for i in buildings["items"]} == {"划入新网格"}

    households = impact["households"]
    assert households["count"] == 3
    assert [(i["label"], i["from_grid"], i["to_grid"]) for i in households["items"]] == [
        (f"楼栋{e1.id} 1单元101", G12, new),
        (f"楼栋{e1.id} 1单元102", G12, new),
        (f"楼栋{e2.id} 1单元201", G12, new),
    ]
    # The must-visit duty that changes hands: E1's special household only (W1's stays in G12).
    visits = impact["visits"]
    assert visits["count"] == 1
    assert visits["items"][0]["label"] == f"必访户 楼栋{e1.id} 1单元102（elderly_alone）"
    assert (visits["items"][0]["from_grid"], visits["items"][0]["to_grid"]) == (G12, new)


def test_impact_takes_the_same_statements_for_one_building_or_many(
    db, client, token_for, connection
) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    h = token_for("planner")
    _building(db, "E1", 113.009, 34.002, [("101", [])])
    one, _ = _split_plan(client, h)  # moves E1
    for n in range(2, 7):
        _building(db, f"E{n}", 113.0082 + n * 0.0002, 34.001 + n * 0.001, [("101", [])])
    six, _ = _split_plan(client, h)  # a second draft of C1: moves E1 … E6

    def statements(plan_id: int) -> tuple[int, int]:
        seen: list[str] = []

        def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
            seen.append(statement)

        event.listen(connection, "before_cursor_execute", count)
        try:
            body = client.get(f"{P}/{plan_id}/impact", headers=h).json()
        finally:
            event.remove(connection, "before_cursor_execute", count)
        return body["buildings"]["count"], len(seen)

    moved_one, for_one = statements(one)
    moved_six, for_six = statements(six)
    assert (moved_one, moved_six) == (1, 6)
    assert for_six == for_one
