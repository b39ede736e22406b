"""承办单位与分派规则 (/admin/units) in the browser: only the county admin has it in the navigation
and may open it; they route a category to a department and see the rule, add a unit and a member;
a dispatcher is refused the page."""

from __future__ import annotations

import pytest
from sqlalchemy import text

pytestmark = pytest.mark.browser


@pytest.fixture
def clean_units(engine):  # type: ignore[no-untyped-def]
    """Rules and units the test adds are removed before and after it (the county's own stay)."""

    def clean() -> None:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM routing_rules WHERE area_code LIKE '419901%'"))
            conn.execute(text("DELETE FROM unit_members WHERE unit_code = 'dept-419901-yj'"))
            conn.execute(text("DELETE FROM units WHERE code = 'dept-419901-yj'"))

    clean()
    yield
    clean()


def test_county_admin_edits_routing_and_units(web, clean_units) -> None:  # type: ignore[no-untyped-def]
    page = web.page
    web.login("admin", "/admin/units")
    assert "承办单位" in page.inner_text("header nav")
    page.wait_for_selector("#units tbody tr")
    table = page.inner_text("#units")
    assert "城管执法局" in table and "职能部门" in table and "和平派出所" in table
    page.locator(".empty", has_text="尚无分派规则").wait_for()

    # 物业纠纷 (0103) in the whole county goes to 住建局.
    page.select_option("#rule-category", "0103")
    page.fill("#rule-area", "419901")
    page.select_option("#rule-target", "unit:dept-zj")
    page.fill("#rule-note", "物业归住建")
    page.click("#rule-form button[type=submit]")
    row = page.locator("#rules tbody tr", has_text="物业纠纷")
    row.wait_for()
    assert "住建局" in row.inner_text() and "物业归住建" in row.inner_text()

    # A rule that names a unit outside the area is refused with the API's message.
    page.select_option("#rule-target", "unit:agency-pcs-c2")
    page.click("#rule-form button[type=submit]")
    page.wait_for_function(
        "() => document.querySelector('#toast').textContent.includes('辖区不包含区域 419901')"
    )
    refused = "Failed to load resource: the server responded with a status of 422"
    assert [e[: len(refused)] for e in web.errors] == [refused]
    web.errors.clear()  # that refusal was the point; nothing else may fail

    # A new department, then a member for it.
    page.fill("#unit-code", "dept-419901-yj")
    page.fill("#unit-name", "应急管理局")
    page.select_option("#unit-kind-input", "department")
    page.fill("#unit-area", "419901")
    page.fill("#unit-phone", "0399-0000103")
    page.click("#unit-save")
    mine = page.locator("#units tbody tr", has_text="应急管理局")
    mine.wait_for()
    mine.locator("button[data-members]").click()
    page.wait_for_selector("#members-card:not([hidden])")
    page.fill("#member-username", "cg1")
    page.click("#member-form button[type=submit]")
    page.locator("#members tbody tr", has_text="cg1").wait_for()
    web.shot("units-admin")
    web.assert_clean()


def test_the_page_is_the_county_admins_only(web) -> None:  # type: ignore[no-untyped-def]
    web.login("disp", "/console")
    assert "承办单位" not in web.page.inner_text("header nav")
    r = web.page.goto(f"{web.base}/admin/units")
    assert r is not None and r.status == 403
    assert "此页面仅限县级管理员使用" in web.page.inner_text("body")
