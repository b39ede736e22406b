"""The planner's whole task in the browser: pick the community by its name, see its live grids, start
a draft, split a grid while the households per grid follow the line being drawn, undo (Ctrl+Z) and
redo (a reload keeps the history), submit with reasons; the approver, who has no edit tools, returns
it with a reason; the planner renames the new grid and submits again; the approver approves with a
future effective date (已批准，待生效); the swap happens when the clock reaches that date (the
scheduler run with that moment: no sleeping), and the live grids show the grid under its one name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from app.incidents.calendar import TZ
from app.plans.schedule import apply_due
from tests.web.conftest import Watched
from tests.web.test_planner import MAP_SETTLED, _px

pytestmark = pytest.mark.browser

C1, G11, G12 = "419901001001", "419901001001001", "419901001001002"
ROWS = "#plan-grids tr[data-id]"


@pytest.fixture
def live_grids_restored(engine: Engine) -> Iterator[None]:
    """The approved plan changes the committed tiny county's live grids: put them back after."""
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "DELETE FROM grids WHERE community_code = :c "
                    "AND NOT (code IN (:a, :b) AND version = 1)"
                ),
                {"c": C1, "a": G11, "b": G12},
            )
            conn.execute(
                text(
                    "UPDATE grids SET status = 'active', valid_to = NULL WHERE community_code = :c"
                ),
                {"c": C1},
            )


def _rows(page: Any, n: int) -> None:
    page.wait_for_function(f"() => document.querySelectorAll('{ROWS}').length === {n}")


def _names(page: Any) -> list[str]:
    return page.locator(f"{ROWS} td:nth-child(1)").all_inner_texts()


def _approver(browser: Any, base: str) -> Watched:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    w = Watched(page=page, base=base)
    page.on("console", lambda m: w.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: w.errors.append(str(e)))
    return w


def _open_plan(w: Watched) -> None:
    w.page.goto(f"{w.base}/planner?area={C1}")
    w.page.wait_for_selector("#plans li[data-id]")
    w.page.click("#plans li[data-id]")
    w.page.wait_for_selector(ROWS)


def test_the_planners_whole_task(web, browser, live_server, engine, live_grids_restored) -> None:  # type: ignore[no-untyped-def]
    page = web.page
    web.login("plan", "/planner")
    # Pick the community by part of its Chinese name.
    page.fill("#community-search", "幸福")
    page.click(f"#community-results li[data-code='{C1}']")
    page.wait_for_selector("#current-grids tr[data-code]")
    assert page.locator("#current-grids tr[data-code] td:nth-child(1)").all_inner_texts() == [
        "幸福社区第1网格",
        "幸福社区第2网格",
    ]
    assert "现行 2 个网格 · 2 户" in page.inner_text("#community-summary")
    page.click("#new-plan")
    _rows(page, 2)
    assert page.locator("#edit-tools").is_visible()
    assert page.inner_text("#balance").startswith("2 个网格 · 2 户")

    # Split the west grid (building B1, 2 households, stands at 34.005): the table previews the
    # three grids while the line is drawn, before anything is saved.
    page.wait_for_function(MAP_SETTLED, arg=[113.0025, 34.008])
    page.mouse.click(*_px(web, 113.0025, 34.008))
    page.click("#t-split")
    a, b = _px(web, 112.9995, 34.003), _px(web, 113.0055, 34.003)
    page.mouse.click(*a)
    page.mouse.click(*b)
    page.wait_for_selector("#balance b.preview")
    _rows(page, 3)
    assert _names(page) == ["幸福社区第1网格", "幸福社区第2网格", "新网格1"]
    page.mouse.click(*b)  # the second click on the last point ends the line: saved
    page.wait_for_function("() => !document.querySelector('#balance b.preview')")
    _rows(page, 3)
    households = page.locator(f"{ROWS} td:nth-child(2)").all_inner_texts()
    assert sorted(households) == ["0", "0", "2"]

    # Undo with Ctrl+Z, redo with the button; a reload keeps the history.
    page.click("#plan-title")
    page.keyboard.press("Control+z")
    _rows(page, 2)
    page.click("#t-redo")
    _rows(page, 3)
    page.reload()
    page.wait_for_selector("#plans li[data-id]")
    page.click("#plans li[data-id]")
    _rows(page, 3)
    assert page.locator("#t-undo").is_enabled() and page.locator("#t-redo").is_disabled()

    # Submit: each grid below the band needs a reason.
    assert page.locator("#reasons input[data-grid]").count() == 3
    for field in page.locator("#reasons input[data-grid]").all():
        field.fill("老城区，户数少")
    page.click("#submit")
    page.wait_for_function(
        "() => document.querySelector('#plan-meta').textContent.startsWith('待审批')"
    )
    assert not page.locator("#edit-tools").is_visible()
    assert not page.locator("#submit-box").is_visible()

    # The approver sees the reasons and no edit tools; returns the plan with a reason.
    boss = _approver(browser, live_server)
    try:
        boss.login("admin", f"/planner?area={C1}")
        _open_plan(boss)
        assert not boss.page.locator("#edit-tools").is_visible()
        assert boss.page.locator("#approve-box").is_visible()
        assert (
            boss.page.locator(f"{ROWS} td:nth-child(5)").all_inner_texts() == ["老城区，户数少"] * 3
        )
        boss.page.fill("#return-reason", "新网格名称不清楚，请改名")
        boss.page.click("#return")
        boss.page.wait_for_function(
            "() => document.querySelector('#plan-meta').textContent.startsWith('已退回')"
        )
        assert not boss.page.locator("#approve-box").is_visible()

        # The planner reads why, renames the new grid and submits again (the reasons kept).
        _open_plan(web)
        assert page.inner_text("#plan-returned").endswith("退回：新网格名称不清楚，请改名")
        page.click(f"{ROWS}:has-text('新网格1')")
        page.click("#t-rename")
        page.fill("#rename-input", "幸福南区网格")
        page.click("#rename-ok")
        page.wait_for_function(
            "() => [...document.querySelectorAll('#plan-grids td')].some((td) => td.textContent === '幸福南区网格')"
        )
        assert sorted(_names(page)) == ["幸福南区网格", "幸福社区第1网格", "幸福社区第2网格"]
        page.click("#submit")
        page.wait_for_function(
            "() => document.querySelector('#plan-meta').textContent.startsWith('待审批')"
        )

        # Approved with an effective date a week ahead: approved, not yet in force.
        day = dt.date.today() + dt.timedelta(days=7)
        _open_plan(boss)
        boss.page.fill("#eff-date", day.isoformat())
        boss.page.fill("#reason", "老城区网格拆分")
        boss.page.click("#approve")
        boss.page.wait_for_selector("#plan-scheduled:not([hidden])")
        assert boss.page.inner_text("#plan-scheduled").startswith(f"已批准，待生效：{day} 起生效")
        assert f"已批准，待生效（{day} 起生效）" in boss.page.inner_text("#plans")
        boss.page.goto(f"{boss.base}/planner?area={C1}")
        boss.page.wait_for_selector("#current-grids tr[data-code]")
        assert boss.page.locator("#current-grids tr[data-code]").count() == 2  # not swapped yet

        # The clock reaches the effective date: the scheduler swaps the grids, once.
        moment = dt.datetime.combine(day, dt.time(0), TZ)
        assert len(apply_due(engine, at=moment - dt.timedelta(seconds=1))) == 0
        assert len(apply_due(engine, at=moment)) == 1
        assert apply_due(engine, at=moment + dt.timedelta(hours=1)) == []
        boss.page.reload()
        boss.page.wait_for_function(
            "() => document.querySelectorAll('#current-grids tr[data-code]').length === 3"
        )
        live = boss.page.locator("#current-grids tr[data-code] td:nth-child(1)").all_inner_texts()
        assert sorted(live) == ["幸福南区网格", "幸福社区第1网格", "幸福社区第2网格"]
        assert "已批准 ·" in boss.page.inner_text("#plans")
        web.shot("planner-editor")
        boss.assert_clean()
    finally:
        boss.page.context.close()
    web.assert_clean()
