"""Boundary edit end to end in the browser: draft from current grids, split a grid by drawing a line,
see the households per grid update."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def _px(web: Any, lng: float, lat: float) -> tuple[float, float]:
    box = web.page.locator("#map").bounding_box()
    pt = web.page.evaluate(
        "([lng, lat]) => { const p = GG_MAP.latLngToContainerPoint([lat, lng]); return [p.x, p.y]; }",
        [lng, lat],
    )
    return box["x"] + pt[0], box["y"] + pt[1]


# Resolves true once the map shows the point and stands still (two frames alike): the fit to the
# new plan's grids has ended, so a click lands where it is aimed.
MAP_SETTLED = """([lng, lat]) => new Promise((done) => {
  const view = () => GG_MAP.getBounds().toBBoxString();
  const before = view();
  requestAnimationFrame(() => requestAnimationFrame(() =>
    done(view() === before && GG_MAP.getBounds().contains([lat, lng]))));
})"""


def test_split_grid_in_draft_plan(web) -> None:  # type: ignore[no-untyped-def]
    web.login("plan", "/planner?area=419901001001")
    web.page.wait_for_selector("#plans li")
    web.page.click("#new-plan")
    web.page.wait_for_selector("#plan-grids tr[data-id]")
    assert web.page.locator("#plan-grids tr[data-id]").count() == 2
    web.page.wait_for_function(MAP_SETTLED, arg=[113.0025, 34.008])
    # Select the west grid (…001001, holding the building with 2 households), then split it.
    web.page.mouse.click(*_px(web, 113.0025, 34.008))
    web.page.click("#t-split")
    a, b = _px(web, 112.9995, 34.003), _px(web, 113.0055, 34.003)
    web.page.mouse.click(*a)
    web.page.mouse.click(*b)
    web.page.mouse.click(*b)
    try:
        web.page.wait_for_function(
            "() => document.querySelectorAll('#plan-grids tr[data-id]').length === 3", timeout=8000
        )
    except Exception:
        web.shot("planner-split-failed")
        raise AssertionError(
            f"toast: {web.page.inner_text('#toast')!r}; errors: {web.errors}"
        ) from None
    households = sorted(
        int(t)
        for t in web.page.locator("#plan-grids tr[data-id] td:nth-child(2)").all_inner_texts()
    )
    assert households == [0, 0, 2]
    web.page.click("#impact")
    web.page.wait_for_selector("#impact-table")
    web.shot("planner-split")
    web.assert_clean()
