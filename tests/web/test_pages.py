"""Log in, open each page, check what the map draws; no console errors, nothing leaves 127.0.0.1."""

from __future__ import annotations

import pytest

from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.browser

CELLS = "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))"


def _table(web, selector: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """The table's rows as a person reads them, cell by cell."""
    return list(web.page.eval_on_selector_all(f"{selector} tr", CELLS))


def test_login_sets_httponly_cookie_and_lands_on_role_page(web) -> None:  # type: ignore[no-untyped-def]
    web.login("disp")
    assert "/console" in web.page.url
    cookie = next(c for c in web.page.context.cookies() if c["name"] == "gridgov_token")
    assert cookie["httpOnly"] is True
    web.assert_clean()


def test_wrong_password_shows_message(web) -> None:  # type: ignore[no-untyped-def]
    web.page.goto(f"{web.base}/login")
    web.page.fill("input[name=username]", "disp")
    web.page.fill("input[name=password]", "wrong-password")
    web.page.click("button[type=submit]")
    assert "用户名或密码错误" in web.page.inner_text("#login-error")


def test_page_without_login_redirects_to_login(web) -> None:  # type: ignore[no-untyped-def]
    web.page.goto(f"{web.base}/maps/coverage?area=419901001")
    assert web.page.url == f"{web.base}/login?next=/maps/coverage%3Farea%3D419901001"
    # Signing in there leads back to the page asked for.
    web.page.fill("input[name=username]", "admin")
    web.page.fill("input[name=password]", PASSWORD)
    web.page.click("button[type=submit]")
    web.page.wait_for_selector("#summary-table")
    assert web.page.url.startswith(f"{web.base}/maps/coverage?area=419901001")


def test_coverage_map_draws_grids_by_household_band(web) -> None:  # type: ignore[no-untyped-def]
    web.login("admin", "/maps/coverage")
    web.page.wait_for_selector("#summary-table")
    # Three active grids in the tiny county, all comprehensive; 2 households, both in grid
    # ...001001: every grid is below the band (250-500); only ...001001 has a leader.
    assert _table(web, "#summary-table") == [
        ["网格", "3"],
        ["其中专属网格", "0"],
        ["户数", "2"],
        ["低于标准", "3"],
        ["高于标准", "0"],
        ["缺网格长", "2"],
    ]
    assert web.page.locator(".leaflet-overlay-pane path, .leaflet-overlay-pane canvas").count() > 0
    assert "城关街道" in web.page.inner_text("#children")
    web.shot("coverage-county")
    web.page.click("#children li[data-code='419901001']")
    web.page.wait_for_url("**/maps/coverage?area=419901001*")
    web.page.wait_for_selector("#summary-table")
    web.page.select_option("#mode", "staffing")
    assert "缺网格长" in web.page.inner_text(".legend")
    web.shot("coverage-staffing")
    web.assert_clean()


MAP_VIEW = "JSON.stringify([GG_MAP.getBounds().toBBoxString(), GG_MAP.getMinZoom()])"


def _view(web) -> tuple[list[float], float]:  # type: ignore[no-untyped-def]
    import json

    bbox, min_zoom = json.loads(web.page.evaluate(MAP_VIEW))
    return [float(v) for v in bbox.split(",")], min_zoom


def test_coverage_map_opens_on_the_whole_area_and_can_zoom_out(web) -> None:  # type: ignore[no-untyped-def]
    web.login("admin", "/maps/coverage")
    web.page.wait_for_selector("#summary-table")
    (w, s, e, n), min_zoom = _view(web)
    # The county box(113.00, 34.00, 113.02, 34.01) is entirely on screen ...
    assert w <= 113.0 and s <= 34.0 and e >= 113.02 and n >= 34.01
    # ... and the buildings layer (shown from zoom 15) does not pin the map's zoom range.
    assert min_zoom <= 5


def test_coverage_drill_down_fits_the_community(web) -> None:  # type: ignore[no-untyped-def]
    web.login("admin", "/maps/coverage?area=419901001002")
    web.page.wait_for_selector("#summary-table")
    (w, s, e, n), _ = _view(web)
    # 和平社区 is box(113.01, 34.00, 113.02, 34.01): on screen, and filling a good part of it.
    assert w <= 113.01 and s <= 34.0 and e >= 113.02 and n >= 34.01
    assert (n - s) < 0.01 * 2.5
    assert "和平社区" in web.page.inner_text("#crumbs")


def test_dedicated_grid_is_not_counted_below_band(web, engine) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    grid = "419901001002001"
    with engine.begin() as conn:
        conn.execute(text("UPDATE grids SET type = 'dedicated' WHERE code = :g"), {"g": grid})
    try:
        web.login("admin", "/maps/coverage")
        web.page.wait_for_selector("#summary-table")
        # Three grids: ...001001 (2 households) and ...001002 (0) are below the band; the
        # dedicated one is counted apart and drawn in its own neutral colour.
        assert web.page.inner_text("#sum-exempt") == "1"
        assert web.page.inner_text("#sum-below") == "2"
        assert "专属网格" in web.page.inner_text(".legend")
        web.shot("coverage-dedicated")
    finally:
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE grids SET type = 'comprehensive' WHERE code = :g"), {"g": grid}
            )


def test_area_outside_jurisdiction_is_403_page(web) -> None:  # type: ignore[no-untyped-def]
    web.login("outsider", "/console")
    resp = web.page.goto(f"{web.base}/maps/coverage?area=419901")
    assert resp.status == 403
    assert "无权查看" in web.page.inner_text("#page-error")


def test_area_without_data_shows_empty_state(web) -> None:  # type: ignore[no-untyped-def]
    web.login("outsider", "/maps/coverage")
    web.page.wait_for_selector(".empty")
    assert "暂无" in web.page.inner_text(".empty")
    web.assert_clean()


def test_worker_page_locates_phone_in_its_grid(web) -> None:  # type: ignore[no-untyped-def]
    web.page.set_viewport_size({"width": 390, "height": 844})
    web.login("worker", "/m/")
    web.page.wait_for_selector("#grid-name")
    # The context's geolocation (113.002, 34.005) lies in grid 419901001001001.
    assert web.page.inner_text("#grid-name") == "幸福社区第1网格"
    # Nothing overflows the phone's width and the top bar stays one line high.
    assert web.page.evaluate("document.documentElement.scrollWidth") <= 390
    assert web.page.evaluate("document.querySelector('.topbar').offsetHeight") <= 44
    web.shot("worker-phone")


def test_console_draws_grid_tiles(web) -> None:  # type: ignore[no-untyped-def]
    web.login("disp", "/console")
    web.page.wait_for_selector("#updated, .empty")
    web.page.wait_for_load_state("networkidle")
    assert any("/tiles/grids/" in u for u in web.requests)
    # The category filter lists the category table: big classes as groups over their small classes.
    groups = web.page.eval_on_selector_all("#f-category optgroup", "gs => gs.map(g => g.label)")
    assert "环境卫生" in groups and len(groups) >= 7
    web.page.select_option("#f-category", label="全部环境卫生")
    web.page.wait_for_load_state("networkidle")
    assert any("/api/v1/layers/cases" in u and "category=" in u for u in web.requests)
    web.shot("console")


def test_visits_map_counts_households_and_visits(web) -> None:  # type: ignore[no-untyped-def]
    web.login("admin", "/maps/visits?area=419901001001")
    web.page.wait_for_selector("#visit-stats")
    # Two households in 幸福社区, nobody visited them this period: nothing to cover yet.
    assert _table(web, "#visit-stats") == [
        ["走访次数", "0"],
        ["住户", "2"],
        ["已走访", "0"],
        ["未走访", "2"],
        ["覆盖率", "0%"],
    ]
    web.shot("page-maps-visits")
    web.assert_clean()


LEAGUE_HEAD = ["名次", "名称", "上报数", "立案率", "应结案数", "结案率", "按期处置率", "按期结案率",
               "超期率", "返工率", "按时受理率", "按时核查率", "派遣准确率", "退回率", "满意率",
               "综合得分"]  # fmt: skip


def test_dashboard_without_cases_says_so(web) -> None:  # type: ignore[no-untyped-def]
    web.login("admin", "/dashboard?area=419901&from=2026-01-01&to=2026-06-30&group=township")
    web.page.wait_for_selector("#league td")
    assert _table(web, "#league") == [LEAGUE_HEAD, ["该期间没有案件"]]
    assert web.page.inner_text("#no-rows") == "该期间没有案件"
    assert web.page.inner_text("#league-title") == "乡镇/街道排名"
    web.shot("page-dashboard")
    web.assert_clean()


def test_cases_map_without_open_cases_lists_none(web) -> None:  # type: ignore[no-untyped-def]
    web.login("admin", "/maps/cases?area=419901&overdue=true")
    web.page.wait_for_selector("#updated")
    assert web.page.locator("#cases li[data-id]").count() == 0
    web.shot("page-maps-cases")
    web.assert_clean()


def test_cases_map_keeps_filters_in_the_link(web) -> None:  # type: ignore[no-untyped-def]
    web.login("admin", "/maps/cases?area=419901&overdue=true&category=01")
    web.page.wait_for_selector("#updated")
    assert web.page.is_checked("#f-overdue")
    assert web.page.input_value("#f-category") == "01"
    assert "overdue=true" in web.page.url and "category=01" in web.page.url


def test_dashboard_names_units_and_leaves_gaps_for_empty_months(web) -> None:  # type: ignore[no-untyped-def]
    web.login("worker", "/m/")
    case = web.page.request.post(
        f"{web.base}/api/v1/incidents",
        data={
            "category_code": "0101",
            "description": "看板测试案件",
            "lng": 113.002,
            "lat": 34.005,
            "crs": "wgs84",
        },
        # A cookie-authenticated write echoes the CSRF cookie, as the pages' own fetch helper does.
        headers={"X-CSRF-Token": web.cookie("gridgov_csrf")},
    )
    assert case.ok, case.text()
    web.page.context.clear_cookies()
    # A period reaching past the new case's deadline, so the township has a row.
    web.login("admin", "/dashboard?area=419901&from=2026-01-01&to=2099-12-31&group=township")
    web.page.wait_for_selector("#trend-svg")
    web.page.wait_for_selector("#league td")
    # The one case of this test (the county starts without cases): reported, not yet registered,
    # so it counts as a report (立案率 0 of 1) and in no registered figure; nothing to score.
    dash = ["—"] * 10
    assert _table(web, "#league") == [
        LEAGUE_HEAD,
        ["1", "城关街道419901001", "1", "0%", "0", *dash, "—"],
    ]
    assert web.page.inner_text("#kpis [data-key=reports] b") == "1"
    # Another level, ranked the same way; the link keeps it.
    web.page.click("#levels [data-level=grid]")
    web.page.wait_for_selector("#league-title:text('网格排名')")
    assert _table(web, "#league")[1][:3] == ["1", "幸福社区第1网格419901001001001", "1"]
    assert "group=grid" in web.page.url
    # Months with no due case are marked, not drawn as 0 %.
    gaps = web.page.locator("#trend-svg .no-data").count()
    dots = web.page.locator("#trend-svg circle").count()
    assert gaps >= 1 and gaps + dots == 6
    web.shot("dashboard-names")
    web.assert_clean()
