"""覆盖审计 (/audits) in the browser: an auditor runs an audit of the tiny county from the page (the
spinner and seconds while it runs), filters the findings to one kind, clicks one and the map moves
onto it; a dispatcher (reads audits, may not run them) sees the runs but no button; the stored HTML
report has no horizontal overflow at 1,280 and 1,920 px."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

# The tiny county (tests/factories.py): its grids hold far fewer households than the band (250–500);
# 幸福社区第2网格 and 和平社区第1网格 (G21) have no leader.
G21 = "419901001002001"


def _is_run(url: str) -> bool:
    return "/api/v1/audits?" in url


def test_auditor_runs_filters_and_lands_on_a_finding(web) -> None:  # type: ignore[no-untyped-def]
    page = web.page
    web.login("auditor", "/audits?area=419901")
    assert "覆盖审计" in page.inner_text("header nav")
    page.locator("#runs-empty .empty", has_text="尚无审计记录").wait_for()
    # The choice of areas is filled from its own request, which may answer after the runs.
    page.wait_for_function("() => document.getElementById('area-pick').options.length > 0")
    assert page.input_value("#area-pick") == "419901"

    # Hold the run's request so the progress can be seen while it runs.
    held: list[Any] = []
    page.route(
        _is_run,
        lambda route: held.append(route) if route.request.method == "POST" else route.continue_(),
    )
    page.click("#run")
    page.locator("#progress .spinner").wait_for(state="visible")
    assert "正在审计" in page.inner_text("#progress")
    page.wait_for_function("() => Number(document.getElementById('elapsed').textContent) >= 1")
    assert len(held) == 1 and held[0].request.method == "POST"
    held[0].continue_()
    page.locator("#runs tr").first.wait_for()
    page.locator("#progress").wait_for(state="hidden")
    assert page.locator("#runs tr").count() == 1
    assert "首次" in page.inner_text("#runs tr")
    assert "示范县" in page.inner_text("#run-title")
    groups = page.locator("details.kind")
    assert groups.count() >= 2  # several kinds, each with its count
    assert "网格无网格长" in page.inner_text("#groups")

    page.select_option("#kind-filter", "no_leader")
    assert page.locator("details.kind").count() == 1
    assert page.get_attribute("details.kind", "data-kind") == "no_leader"
    items = page.locator("details.kind ul.findings button[data-i]")
    assert items.count() == 2
    page.select_option("#place-filter", G21)
    assert items.count() == 1 and G21 in items.inner_text()

    items.click()
    # G21 is box(113.01, 34.0, 113.02, 34.01): the map moves onto it, the whole grid in view.
    page.wait_for_function(
        "() => { const c = GG_MAP.getCenter(); "
        "return GG_MAP.getZoom() >= 15 && c.lng >= 113.005 && c.lng <= 113.02 && "
        "GG_MAP.getBounds().contains([[34.0, 113.01], [34.01, 113.02]]); }"
    )

    assert page.locator("details.kind button.sel").count() == 1

    # Exports of this run, in the API's existing formats.
    href = page.get_attribute("#x-geojson", "href")
    assert href and href.endswith("?f=geojson")
    assert page.get_attribute("#x-html", "href").endswith("?f=html")
    web.shot("audits-auditor")
    web.assert_clean()


def test_a_reader_sees_runs_but_no_run_button(web) -> None:  # type: ignore[no-untyped-def]
    page = web.page
    web.login("auditor", "/audits?area=419901")
    page.locator("#runs-empty .empty").wait_for()
    page.click("#run")
    page.locator("#runs tr").first.wait_for()
    page.context.clear_cookies()
    web.login("disp", "/audits?area=419901")
    assert "覆盖审计" in page.inner_text("header nav")
    page.locator("#runs tr").first.wait_for()
    assert page.locator("#run").count() == 0
    assert "运行审计仅限" in page.inner_text("aside")
    page.locator("details.kind").first.wait_for()
    web.assert_clean()


def _report(web: Any, tmp_path: Path) -> Path:
    page = web.page
    web.login("auditor", "/audits?area=419901")
    csrf = web.cookie("gridgov_csrf")
    r = page.request.post(
        f"{web.base}/api/v1/audits?area=419901&f=html", headers={"X-CSRF-Token": csrf}
    )
    assert r.status == 201
    out = tmp_path / "report.html"
    out.write_bytes(r.body())
    return out


@pytest.mark.parametrize("width", [1280, 1920])
def test_the_html_report_fits_the_window(web, tmp_path, width) -> None:  # type: ignore[no-untyped-def]
    report = _report(web, tmp_path)
    page = web.page
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(report.as_uri())
    page.locator(".leaflet-container").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    # The legend is whole: inside the map's box.
    inside = page.evaluate(
        """() => { const m = document.querySelector('.leaflet-container').getBoundingClientRect();
                   const l = document.querySelector('.legend').getBoundingClientRect();
                   return l.left >= m.left && l.right <= m.right && l.top >= m.top && l.bottom <= m.bottom; }"""
    )
    assert inside
    # A metric scale only.
    assert page.locator(".leaflet-control-scale-line").count() == 1
    assert "mi" not in page.inner_text(".leaflet-control-scale")
    # Grouped and filterable without a server.
    page.select_option("#kind-filter", "no_leader")
    visible = page.locator("#findings tbody tr:visible")
    assert visible.count() == 2
    assert page.locator("#findings details.kind:visible").count() == 1
    page.select_option("#place-filter", G21)
    assert visible.count() == 1 and G21 in visible.inner_text()
    # On the map too: only that finding is drawn.
    drawn = page.evaluate(
        "() => [...document.querySelectorAll('.finding')].filter(p => p.style.display !== 'none').length"
    )
    assert drawn == 1
