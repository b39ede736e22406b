"""考核看板 (/dashboard) in Chromium: the map of a chosen KPI over townships, communities or grids,
its legend (class breaks, units, the thresholds of the KPI definitions), a region clicked shows its
figures and marks its row, a row clicked or entered by keyboard zooms the map to the region, and
the page uses the whole width at 1,280 and 1,920 px.

The cases: two reports in 幸福社区第1网格 (G11), one of them accepted and registered at once, and
one report in
和平社区第1网格 (G21); 幸福社区第2网格 (G12) has none."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.web.conftest import Watched
from tests.web.test_console_stream import G11_POINT, G21_POINT, bearer, report

pytestmark = pytest.mark.browser

G11, G12, G21 = "419901001001001", "419901001001002", "419901001002001"
PERIOD = "from=2026-01-01&to=2099-12-31"
# palette.js, written out: the ramp's two darkest steps, no data, and the lights.
RAMP_4, RAMP_5, NO_DATA, GREEN = "#1570ef", "#194185", "#98a2b3", "#12b76a"


def _cases(base: str) -> None:
    disp = bearer(base, "disp")
    first = report(base, disp, G11_POINT, "看板一")
    report(base, disp, G11_POINT, "看板二")
    report(base, disp, G21_POINT, "看板三")
    version = first["version"]
    for action in ("accept", "register"):  # acceptance ends with registration (立案)
        r = httpx.post(
            f"{base}/api/v1/incidents/{first['id']}/transitions",
            json={"action": action, "version": version},
            headers=disp,
        )
        assert r.status_code == 200, r.text
        version = r.json()["version"]


def _open(web: Watched, query: str) -> Any:
    web.login("admin", f"/dashboard?area=419901&{PERIOD}&{query}")
    page = web.page
    page.wait_for_selector("#league td")
    page.wait_for_function("() => Object.keys(window.GG_DASH.fills()).length > 0")
    return page


def test_the_map_colours_grids_by_reports_in_quantile_classes(web: Watched) -> None:
    _cases(web.base)
    page = _open(web, "group=grid&kpi=reports")
    assert page.input_value("#map-kpi") == "reports"
    assert page.input_value("#map-level") == "grid"
    # G11 has 2 reports, G21 1, G12 none: two classes and grey for no data.
    assert page.evaluate("window.GG_DASH.fills()") == {G11: RAMP_5, G12: NO_DATA, G21: RAMP_4}
    legend = page.inner_text("#map-legend")
    assert "上报数" in legend and "单位：件" in legend and "按分位分级" in legend
    items = page.eval_on_selector_all("#map-legend li", "ls => ls.map(l => l.textContent)")
    assert items == ["1 – <2", "2", "无数据（该期间无案件）"]

    # Click G11 on the map: its figures beside the map, its row marked in the grid table.
    page.evaluate(
        "() => { const p = GG_MAP.latLngToContainerPoint([34.002, 113.0025]); "
        "const r = GG_MAP.getContainer().getBoundingClientRect(); window.__pt = [r.left + p.x, r.top + p.y]; }"
    )
    x, y = page.evaluate("window.__pt")
    page.mouse.click(x, y)
    page.wait_for_selector("#region-name")
    assert page.inner_text("#region-name").startswith("幸福社区第1网格")
    assert page.inner_text("#region-value") == "2"
    figures = page.inner_text("#region-figures")
    assert "应结案数" in figures and "综合得分" in figures
    marked = page.locator("#league tr.picked")
    assert marked.count() == 1 and marked.get_attribute("data-code") == G11
    assert marked.get_attribute("aria-current") == "true"
    web.assert_clean()


def test_a_kpi_with_thresholds_takes_the_lights_and_the_legend_names_them(web: Watched) -> None:
    _cases(web.base)
    page = _open(web, "group=grid&kpi=on_time_acceptance_rate")
    # G11: one case registered at once of one that ended acceptance = 100 % (green); G21's case is
    # still waiting, so it has no rate yet: grey.
    fills = page.evaluate("window.GG_DASH.fills()")
    assert fills[G11] == GREEN and fills[G21] == NO_DATA and fills[G12] == NO_DATA
    items = page.eval_on_selector_all("#map-legend li", "ls => ls.map(l => l.textContent)")
    # The thresholds of the county's KPI settings (0.95 and 0.85), not a copy in the page.
    assert items == ["达标  ≥ 95%", "预警  ≥ 85%", "未达标  < 85%", "无数据（该期间无案件）"]
    assert "单位：%" in page.inner_text("#map-legend")
    # Another KPI from the control: the legend follows.
    page.select_option("#map-kpi", "score")
    page.wait_for_function(
        "() => document.getElementById('map-legend').textContent.includes('综合得分')"
    )
    assert "单位：分" in page.inner_text("#map-legend")
    assert "kpi=score" in page.url


def test_a_row_zooms_the_map_to_its_region_by_mouse_and_by_keyboard(web: Watched) -> None:
    _cases(web.base)
    page = _open(web, "group=community&kpi=reports")
    assert page.input_value("#map-level") == "community"
    # 和平社区 (C2) is box(113.01, 34.0, 113.02, 34.01).
    row = page.locator('#league tr[data-code="419901001002"]')
    row.click()
    page.wait_for_function(
        "() => GG_MAP.getBounds().contains([[34.0, 113.01], [34.01, 113.02]]) && "
        "GG_MAP.getCenter().lng > 113.012 && GG_MAP.getCenter().lng < 113.018"
    )
    assert page.inner_text("#region-name").startswith("和平社区")
    # Keyboard: Tab reaches the rows, Enter on 幸福社区 moves the map there.
    page.locator('#league tr[data-code="419901001001"]').focus()
    focused = page.evaluate("document.activeElement.dataset.code")
    assert focused == "419901001001"
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => GG_MAP.getCenter().lng > 113.003 && GG_MAP.getCenter().lng < 113.007"
    )
    assert page.inner_text("#region-name").startswith("幸福社区")
    # Space does it as well, and does not scroll the page.
    page.locator('#league tr[data-code="419901001002"]').focus()
    page.keyboard.press(" ")
    page.wait_for_function("() => GG_MAP.getCenter().lng > 113.012")
    web.assert_clean()


@pytest.mark.parametrize("width", [1280, 1920])
def test_the_dashboard_uses_the_whole_width(web: Watched, width: int) -> None:
    web.page.set_viewport_size({"width": width, "height": 1000})
    page = _open(web, "group=township")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    boxes = {
        sel: page.locator(sel).bounding_box()
        for sel in (".map-card", ".league-card", ".trend-card", "#map")
    }
    right = max(b["x"] + b["width"] for b in boxes.values() if b)
    assert right >= width - 40, boxes  # no empty third on the right
    if width >= 1600:  # map and table side by side
        assert boxes[".league-card"]["x"] > boxes[".map-card"]["x"] + 400
        assert boxes[".league-card"]["x"] + boxes[".league-card"]["width"] >= width - 40
    else:  # stacked, each the whole width
        assert boxes[".map-card"]["width"] >= width - 60
        assert boxes[".league-card"]["width"] >= width - 60
    assert boxes["#map"]["width"] >= 600 and boxes["#map"]["height"] >= 500
    # The map names places (labels.js): the tiny county fits at a zoom where communities or grids
    # are named.
    page.locator(".place-label").first.wait_for()
    named = page.eval_on_selector_all(".place-label", "ls => ls.map(l => l.textContent)")
    assert {"幸福社区", "和平社区"} <= set(named) or "幸福社区第1网格" in named, named
    web.shot(f"dashboard_{width}")
    web.assert_clean()
