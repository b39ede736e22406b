"""Party-building and task admission in the browser (docs/party.md): the county admin puts a kind of
work on the admission list; a department's handler is refused a task off the list with the reason on
the page, and a task on it reaches the grid worker's list (the admission page and the phone); the
community registers a 双报到 member, who logs their service hours, and a party branch that the
coverage map's party layer shows; the dashboard counts them."""

from __future__ import annotations

import pytest
from sqlalchemy import text

pytestmark = pytest.mark.browser


@pytest.fixture
def clean_party(engine):  # type: ignore[no-untyped-def]
    """What these tests make is removed before and after each (the county's own data stays)."""

    def clean() -> None:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM grid_tasks WHERE grid_code LIKE '419901%'"))
            conn.execute(text("DELETE FROM task_kinds WHERE county_code = '419901'"))
            conn.execute(text("DELETE FROM dual_registrations WHERE community_code LIKE '419901%'"))
            conn.execute(text("DELETE FROM party_orgs WHERE area_code LIKE '419901%'"))

    clean()
    yield
    clean()


REFUSED = "Failed to load resource: the server responded with a status of 422"


def test_admission_list_refuses_a_task_off_it_and_passes_one_on_it(web, clean_party) -> None:  # type: ignore[no-untyped-def]
    page = web.page
    web.login("admin", "/admission")
    assert "事务准入" in page.inner_text("header nav")
    page.locator(".empty", has_text="准入清单为空").wait_for()
    page.fill("#kind-name", "信息采集")
    page.fill("#kind-desc", "人口、房屋信息的采集与核对")
    page.click("#kind-save")
    page.locator("#kinds tbody tr", has_text="信息采集").wait_for()
    assert "在清单内" in page.inner_text("#kinds")
    web.assert_clean()

    page.context.clear_cookies()
    web.login("cg1", "/admission")
    page.wait_for_selector("#give-card:not([hidden])")
    assert page.is_hidden("#kind-form")  # only the county admin edits the list
    page.fill("#give-kind", "招商引资")
    page.fill("#give-grid", "419901001001001")
    page.fill("#give-title", "上门宣传招商政策")
    page.click("#give-form button[type=submit]")
    refusal = page.locator("#give-error")
    refusal.wait_for(state="visible")
    assert "任务类型“招商引资”不在示范县网格事务准入清单" in refusal.inner_text()
    assert "/admission" in refusal.inner_text()
    assert [e[: len(REFUSED)] for e in web.errors] == [REFUSED]
    web.errors.clear()  # that refusal was the point

    page.fill("#give-kind", "信息采集")
    page.fill("#give-title", "核对3号楼出租房屋")
    page.click("#give-form button[type=submit]")
    page.wait_for_function(
        "() => document.querySelector('#toast').textContent.includes('已派发给')"
    )
    assert page.is_hidden("#give-error")
    page.locator("#tasks tbody tr", has_text="核对3号楼出租房屋").wait_for()
    web.assert_clean()

    page.context.clear_cookies()
    web.login("worker", "/admission")
    row = page.locator("#mine tbody tr", has_text="核对3号楼出租房屋")
    row.wait_for()
    assert "城管执法局" in row.inner_text() and "信息采集" in row.inner_text()
    page.goto(web.base + "/m/")
    phone = page.locator("#grid-task-list li", has_text="核对3号楼出租房屋")
    phone.wait_for()
    phone.locator("button[data-done]").click()
    page.locator("#grid-task-list li", has_text="暂无派给您的网格事务").wait_for()
    web.shot("admission_phone")
    web.assert_clean()


def test_dual_registration_hours_and_the_dashboard(web, clean_party) -> None:  # type: ignore[no-untyped-def]
    page = web.page
    web.login("disp", "/party?area=419901001001")
    page.wait_for_selector("#dual-form:not([hidden])")
    page.wait_for_selector("#dual-unit option[value=dept-cgzf]", state="attached")
    assert page.input_value("#dual-community") == "419901001001"
    page.select_option("#dual-unit", "dept-cgzf")
    page.fill("#dual-name", "王强")
    page.fill("#dual-phone", "13866667777")
    page.fill("#dual-username", "cg1")
    page.click("#dual-form button[type=submit]")
    row = page.locator("#dual tbody tr", has_text="王强")
    row.wait_for()
    assert "城管执法局" in row.inner_text() and "幸福社区" in row.inner_text()
    web.assert_clean()

    # A branch covering the first grid of 幸福社区, shown on the coverage map's party layer.
    page.fill("#org-name", "幸福社区网格党支部")
    page.fill("#org-grids", "419901001001001")
    page.click("#org-form button[type=submit]")
    page.locator("#orgs tbody tr", has_text="幸福社区网格党支部").wait_for()
    page.goto(web.base + "/maps/coverage?area=419901001001&party=1")
    page.locator(".legend", has_text="党组织覆盖（1/2 个网格）").wait_for()
    web.shot("coverage_party")
    web.assert_clean()

    page.context.clear_cookies()
    web.login("cg1", "/party")
    page.wait_for_selector("#hours-form:not([hidden])")
    assert page.is_hidden("#dual-form") and page.is_hidden("#orgs-card")
    page.locator("#dual tbody tr", has_text="王强").wait_for()
    page.fill("#hours-n", "2.5")
    page.fill("#hours-activity", "小区环境整治")
    page.click("#hours-form button[type=submit]")
    page.wait_for_function(
        "() => document.querySelector('#dual tbody tr td.hours')?.textContent === '2.5'"
    )
    web.shot("party_member_hours")
    web.assert_clean()

    page.context.clear_cookies()
    web.login("admin", "/dashboard")
    page.wait_for_selector("#fig-dual")
    assert page.inner_text("#fig-dual b") == "1"
    assert page.inner_text("#fig-hours b") == "2.5"
    assert "幸福社区" in page.inner_text("#dual-by-community")
    assert page.inner_text("#fig-grids b").startswith("1 / 3")
    web.shot("dashboard_party")
