"""The command-centre wall screen (/wall) in Chromium: a case reported from the phone's API reaches
the wall's stream and map within 2 s without a reload, the figures and the township lights follow,
the screen fits 1920×1080 without scrolling, and a role without access gets the 403 page."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.web.conftest import Watched
from tests.web.test_console_stream import G11_POINT, bearer, report

WALL = {"width": 1920, "height": 1080}


def _open_wall(web: Watched) -> Any:
    page = web.page
    page.set_viewport_size(WALL)
    web.login("disp", "/wall")
    page.wait_for_function(
        "() => document.getElementById('wall-live').textContent.includes('已连接')"
    )
    page.wait_for_function("() => document.getElementById('fig-intake').textContent !== '—'")
    return page


def test_a_case_reported_on_the_phone_reaches_the_wall_within_2_s(web: Watched) -> None:
    page = _open_wall(web)
    assert page.title().startswith("指挥大屏")
    assert page.text_content("#fig-intake") == "0"
    assert page.text_content("#stream") == "等待新案件…"
    town = page.locator("#lights tbody tr").first
    assert town.locator("td").all_text_contents() == ["城关街道", "0", "0", "0", "0"]

    phone = bearer(web.base, "worker")  # the grid worker's phone, signed in
    sent = time.monotonic()
    case = report(web.base, phone, G11_POINT, "井盖缺失")
    row = page.locator("#stream li").first
    shown = f"() => window.GG_WALL.hasMarker({case['case_no']!r}) && "
    shown += f"document.querySelector('#stream li').textContent.includes({case['case_no']!r})"
    page.wait_for_function(shown, timeout=3000, polling=50)
    took = time.monotonic() - sent
    assert took < 2.0, f"the wall showed the case after {took:.2f} s"
    assert case["case_no"] in row.text_content()
    assert "上报" in row.text_content()
    assert page.evaluate("window.GG_WALL.markers()") == 1
    # The figures follow the push too: one intake today, one green case in 城关街道.
    page.wait_for_function("() => document.getElementById('fig-intake').textContent === '1'")
    assert page.locator("#lights tbody tr").first.locator("td").all_text_contents() == [
        "城关街道",
        "0",
        "0",
        "1",
        "0",
    ]
    assert page.text_content("#fig-overdue") == "0"
    assert page.text_content("#duban") == "没有超期或督办案件"
    web.shot("wall_1920")
    web.assert_clean()


def test_the_wall_fits_1920x1080_without_scrolling(web: Watched) -> None:
    page = _open_wall(web)
    size = page.evaluate(
        "({sw: document.documentElement.scrollWidth, sh: document.documentElement.scrollHeight,"
        " bw: document.body.scrollWidth, bh: document.body.scrollHeight})"
    )
    assert size == {"sw": 1920, "sh": 1080, "bw": 1920, "bh": 1080}
    # Every panel lies inside the screen.
    for sel in ("#map", "#stream", "#duban", "#lights", "#league", "#fig-overdue"):
        box = page.locator(sel).bounding_box()
        assert box is not None and box["x"] >= 0 and box["y"] >= 0, sel
        assert box["x"] + box["width"] <= 1920 and box["y"] + box["height"] <= 1080, sel
    # At a county's zoom the map names its townships.
    page.evaluate("() => window.GG_MAP.setZoom(12, {animate: false})")
    page.locator(".place-label span", has_text="城关街道").wait_for()
    web.assert_clean()


def test_a_role_without_access_gets_the_403_page_and_no_nav_entry(web: Watched) -> None:
    # A planner reads neither cases nor KPIs; a grid worker reads cases but not KPIs.
    for who in ("plan", "worker"):
        web.page.context.clear_cookies()
        web.login(who)
        nav = web.page.locator("header.topbar nav a").all_text_contents()
        assert "指挥大屏" not in nav
        response = web.page.goto(f"{web.base}/wall")
        assert response is not None and response.status == 403
        assert web.page.text_content("h1") == "无权访问"
        assert "此页面仅限县级管理员、指挥调度员、督查审计员使用" in web.page.text_content(
            "#page-error"
        )


def test_the_dispatcher_finds_the_wall_in_the_navigation(web: Watched) -> None:
    web.login("disp")
    nav = web.page.locator("header.topbar nav a")
    assert "指挥大屏" in nav.all_text_contents()


def test_an_escalated_case_tops_the_stream_and_joins_the_duban_list(web: Watched) -> None:
    page = _open_wall(web)
    disp = bearer(web.base, "disp")
    case = report(web.base, disp, G11_POINT, "占道经营")
    for action in ("accept", "register", "escalate"):
        r = httpx.post(
            f"{web.base}/api/v1/incidents/{case['id']}/transitions",
            json={"action": action, "version": case["version"]},
            headers=disp,
        )
        assert r.status_code == 200, r.text
        case = {**case, "version": r.json()["version"]}
    top = page.locator("#stream li").first
    page.wait_for_function(
        "() => document.querySelector('#stream li')?.textContent.includes('升级督办')",
        timeout=3000,
    )
    assert case["case_no"] in top.text_content()
    # The report is the row under it; 受理 and 立案 are not stream rows.
    assert page.locator("#stream li").count() == 2
    duban = page.locator("#duban li").first
    page.wait_for_function(
        f"() => document.querySelector('#duban li')?.dataset.case === {case['case_no']!r}"
    )
    assert "督办" in duban.text_content()
    assert "剩余" in duban.locator(".countdown").text_content()
    web.assert_clean()
