"""The pages' default dates are Shanghai calendar dates, before 08:00 too.

The browser runs in Asia/Shanghai with its clock fixed at 07:30 on 1 March 2026, when UTC still
says 28 February: the old toISOString defaults showed "2026-02-28" for today and the last day of
January/February for the first of the month. A second browser, in UTC at 23:30 on 28 February
(07:30 on 1 March in Shanghai), must see the same Shanghai dates.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.conftest import Watched

pytestmark = pytest.mark.browser

SHANGHAI_0730 = "2026-03-01T07:30:00+08:00"


@pytest.fixture(params=["Asia/Shanghai", "UTC"])
def early(request, browser, live_server) -> Iterator[Watched]:  # type: ignore[no-untyped-def]
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="zh-CN", timezone_id=request.param
    )
    page = context.new_page()
    w = Watched(page=page, base=live_server)
    page.on("console", lambda m: w.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: w.errors.append(str(e)))
    try:
        w.login("admin")
        page.clock.set_fixed_time(SHANGHAI_0730)
        yield w
    finally:
        context.close()


def _values(w: Watched, path: str, ready: str, *ids: str) -> list[Any]:
    w.page.goto(w.base + path)
    w.page.wait_for_selector(ready)
    return [w.page.input_value(f"#{i}") for i in ids]


def test_default_periods_start_on_the_first_and_end_today(early) -> None:  # type: ignore[no-untyped-def]
    visits = _values(early, "/maps/visits?area=419901", "#visit-stats", "from", "to")
    assert visits == ["2026-03-01", "2026-03-01"]
    coverage = _values(early, "/maps/coverage?area=419901", "#summary-table", "from", "to")
    assert coverage == ["2026-03-01", "2026-03-01"]
    # The dashboard: the last three months, and a trend of six calendar months ending in March.
    dashboard = _values(early, "/dashboard?area=419901", "#trend-svg", "from", "to")
    assert dashboard == ["2026-01-01", "2026-03-01"]
    months = early.page.eval_on_selector_all(
        "#trend-svg text", "ts => ts.map(t => t.textContent).filter(s => s.endsWith('月'))"
    )
    assert months == ["10月", "11月", "12月", "1月", "2月", "3月"]
    assert early.errors == []


def test_planner_approval_defaults_to_today(early) -> None:  # type: ignore[no-untyped-def]
    assert _values(early, "/planner?area=419901", "#plans li", "eff-date") == ["2026-03-01"]
    assert early.errors == []
