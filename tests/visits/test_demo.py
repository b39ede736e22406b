"""The demo visits step on the tiny county: deterministic, idempotent, realistic gaps allowed."""

from __future__ import annotations

from sqlalchemy import text

from app.visits.demo import demo_visits_step
from tests.factories import tiny_county


def test_demo_visits_are_deterministic_and_idempotent(db):
    tiny_county(db)
    first = demo_visits_step(db)
    rows = db.execute(
        text("SELECT household_id, kind, visited_at FROM visits ORDER BY 1, 2, 3")
    ).all()
    assert "新建" in first and rows
    # Only households in a grid with a worker are visited; none in the future.
    assert db.scalar(text("SELECT count(*) FROM visits WHERE visited_at > now()")) == 0
    assert db.scalar(text("SELECT count(DISTINCT grid_code) FROM visits")) >= 1
    assert "跳过" in demo_visits_step(db)
    db.execute(text("DELETE FROM visits"))
    demo_visits_step(db)
    again = db.execute(
        text("SELECT household_id, kind, visited_at FROM visits ORDER BY 1, 2, 3")
    ).all()
    assert [(r[0], r[1], r[2].date()) for r in again] == [(r[0], r[1], r[2].date()) for r in rows]
