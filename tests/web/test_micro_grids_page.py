"""The coverage map shows micro-grids (微网格): a thin dashed outline inside their grid, labelled with
name, households and steward, listed in the side panel; a planner draws a new one there, a
dispatcher only sees them. The tiny county (tests/factories.py): building B1 with its two
households stands at (113.002, 34.005) in grid 419901001001001.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from tests.web.conftest import Watched

pytestmark = pytest.mark.browser

G11 = "419901001001001"


def _delete(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM micro_grids WHERE grid_code LIKE '419901%'"))


@pytest.fixture
def micro(engine: Engine, fresh_county: None) -> Iterator[None]:
    """One micro-grid round B1, its steward 李娜 (staff S2); removed after the test."""
    _delete(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO micro_grids (code, grid_code, name, geom, steward_staff_id) VALUES"
                " (:c, :g, '阳光花园1单元', ST_Multi(ST_MakeEnvelope(113.0, 34.0, 113.0025,"
                " 34.006, 4490)), (SELECT id FROM staff WHERE code = 'S2'))"
            ),
            {"c": G11 + "01", "g": G11},
        )
    try:
        yield
    finally:
        _delete(engine)


def test_coverage_map_shows_micro_grids_with_households_and_steward(web: Watched, micro) -> None:  # type: ignore[no-untyped-def]
    web.login("disp", "/maps/coverage?area=419901001001")
    web.page.wait_for_selector("#micro-list li[data-micro]")
    rows = web.page.eval_on_selector_all("#micro-list li", "ls => ls.map(l => l.textContent)")
    assert rows == ["阳光花园1单元 2户 · 李娜"]
    assert web.page.inner_text("#micro-grids h3") == "微网格（1）"
    labels = web.page.eval_on_selector_all(".micro-label", "ls => ls.map(l => l.textContent)")
    assert labels == ["阳光花园1单元 · 2户 · 李娜"]
    drawn = web.page.evaluate(
        "(() => { const ls = window.GG_MICRO.getLayers();"
        " return ls.map(l => [l.feature.properties.code, l.options.weight, l.options.dashArray]); })()"
    )
    assert drawn == [[G11 + "01", 1.5, "4 3"]]  # thinner than a grid's outline, dashed
    assert web.page.query_selector("#micro-draw") is None  # a dispatcher does not edit them
    web.shot("coverage-micro-grids")
    web.assert_clean()


def test_planner_draws_a_micro_grid_inside_a_grid(web: Watched, micro) -> None:  # type: ignore[no-untyped-def]
    web.login("plan", "/maps/coverage?area=419901001001")
    web.page.wait_for_selector("#micro-draw")
    web.page.select_option("#micro-grid", G11)
    web.page.fill("#micro-name", "阳光花园2单元")
    web.page.click("#micro-draw")
    # The planner's polygon, north of the first micro-grid and inside the grid.
    web.page.evaluate(
        "window.GG_MAP.fire('pm:create', {layer: L.polygon([[34.0065, 113.0], [34.0065, 113.0025],"
        " [34.009, 113.0025], [34.009, 113.0]])})"
    )
    web.page.wait_for_selector("#micro-list li[data-micro]:nth-child(2)")
    rows = web.page.eval_on_selector_all("#micro-list li", "ls => ls.map(l => l.textContent)")
    assert rows[1].startswith("阳光花园2单元 0户 · 未配管家")
    web.assert_clean()
