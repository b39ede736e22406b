"""标准地址 (/addresses) in the browser: a planner adds a road and a door number without a point
(placed along the road), sees it listed as interpolated, tries the address and gets the building
behind it; a bad door number is refused with the API's message; a dispatcher is refused the page."""

from __future__ import annotations

import pytest
from sqlalchemy import text

pytestmark = pytest.mark.browser


@pytest.fixture
def clean_roads(engine):  # type: ignore[no-untyped-def]
    def clean() -> None:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM door_numbers"))
            conn.execute(text("DELETE FROM roads WHERE county_code = '419901'"))

    clean()
    yield
    clean()


def test_planner_keeps_roads_and_door_numbers(web, clean_roads) -> None:  # type: ignore[no-untyped-def]
    page = web.page
    web.login("plan", "/addresses")
    assert "标准地址" in page.inner_text("header nav")
    page.locator(".empty", has_text="尚无道路").wait_for()

    page.fill("#road-name", "幸福路")
    page.fill("#road-aliases", "老街")
    page.fill("#road-first", "1")
    page.fill("#road-last", "101")
    page.click("#road-form button[type=submit]")
    row = page.locator("#roads tbody tr", has_text="幸福路")
    row.wait_for()
    assert "老街" in row.inner_text() and "1–101" in row.inner_text()

    # The road has no centre line yet: a door without a point cannot be placed.
    row.locator("button", has_text="门牌").click()
    page.locator(".empty", has_text="这条道路尚无门牌").wait_for()
    page.fill("#door-number", "11")
    page.click("#door-form button[type=submit]")
    page.wait_for_function(
        "() => document.querySelector('#toast').textContent.includes('无法插值定位')"
    )
    web.errors.clear()  # that refusal (422) was the point

    # With a surveyed point in 幸福社区 and the building behind it.
    page.fill("#door-lng", "113.002")
    page.fill("#door-lat", "34.0051")
    page.fill("#door-buildings", "B1")
    page.click("#door-form button[type=submit]")
    door = page.locator("#doors tbody tr", has_text="幸福路11号")
    door.wait_for()
    assert "实测" in door.inner_text() and "B1" in door.inner_text()

    page.fill("#try-address", "老街十一号")
    page.click("#try-form button[type=submit]")
    page.wait_for_function(
        "() => document.querySelector('#try-answer').textContent.includes('楼栋')"
    )
    assert "阳光花园3号楼" in page.inner_text("#try-answer")
    assert "确定" in page.inner_text("#try-answer")
    assert web.errors == []


def test_dispatcher_is_refused_the_page(web) -> None:  # type: ignore[no-untyped-def]
    web.login("disp", "/addresses")
    assert "此页面仅限" in web.page.inner_text("body")
    assert "标准地址" not in web.page.inner_text("header nav")
    web.errors.clear()
