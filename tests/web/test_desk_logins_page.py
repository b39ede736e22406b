"""楼栋长、单元管家账号 on /admin/units in the browser: the county admin sees the area's building
leaders and unit stewards, gives one a login with 开通登录 and reads the initial password once; a
person holding two posts is refused with the server's words; the leader then signs in with that
password and sees their building on /b/ (hand-made: 楼长甲 leads 3号楼 (B1) in G11; 楼长乙 leads it
and is also steward of its unit 1)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.factories import G11

pytestmark = pytest.mark.browser

STAFF = ("BLW1", "BLW2")
USERNAME = "desk-blw1"


@pytest.fixture
def leaders(engine):  # type: ignore[no-untyped-def]
    def clean() -> None:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE username LIKE 'desk-blw%'"))
            conn.execute(
                text(
                    "DELETE FROM staff_assignments WHERE staff_id IN "
                    "(SELECT id FROM staff WHERE code = ANY(:c))"
                ),
                {"c": list(STAFF)},
            )
            conn.execute(text("DELETE FROM staff WHERE code = ANY(:c)"), {"c": list(STAFF)})

    clean()
    with engine.begin() as conn:
        b1 = conn.execute(text("SELECT id FROM buildings WHERE code = 'B1'")).scalar_one()
        for code, name in zip(STAFF, ("楼长甲", "楼长乙"), strict=True):
            conn.execute(
                text("INSERT INTO staff (code, name, employment) VALUES (:c, :n, 'part_time')"),
                {"c": code, "n": name},
            )
        posts = [
            ("BLW1", "building_leader", None),
            ("BLW2", "building_leader", None),
            ("BLW2", "unit_steward", "1"),
        ]
        for code, role, unit in posts:
            conn.execute(
                text(
                    "INSERT INTO staff_assignments (staff_id, grid_code, role, building_id, unit, "
                    "start_date) SELECT id, :g, :r, :b, :u, '2026-01-01' FROM staff WHERE code = :c"
                ),
                {"g": G11, "r": role, "b": b1, "u": unit, "c": code},
            )
    yield
    clean()


def test_admin_gives_a_building_leader_a_login_and_the_leader_signs_in(
    web, leaders, browser
) -> None:  # type: ignore[no-untyped-def]
    page = web.page
    web.login("admin", "/admin/units")
    row = page.locator("#desk-logins tbody tr", has_text="楼长甲")
    row.wait_for()
    assert [c.strip() for c in row.locator("td").all_inner_texts()[:6]] == [
        "BLW1", "楼长甲", "楼栋长", "3号楼", "整栋", G11,
    ]  # fmt: skip
    # Two posts (leader and steward): refused with the server's words, no login made.
    page.locator("#desk-logins tbody tr", has_text="楼长乙").first.locator("button").click()
    page.wait_for_function(
        "() => document.querySelector('#desk-login-result').textContent"
        ".includes('一个账号只能对应一个网格中的一种职务')"
    )
    refused = "Failed to load resource: the server responded with a status of 422"
    assert [e[: len(refused)] for e in web.errors] == [refused]
    web.errors.clear()  # that refusal was the point; nothing else may fail

    row.locator("input").fill(USERNAME)
    row.locator("button", has_text="开通登录").click()
    page.locator("#desk-granted-password").wait_for()
    assert page.inner_text("#desk-granted-username") == USERNAME
    password = page.inner_text("#desk-granted-password")
    assert len(password) >= 12
    assert "楼栋长 楼长甲" in page.inner_text("#desk-login-result")
    # The list now shows the login instead of the button.
    page.locator("#desk-logins tbody tr", has_text="已开通：" + USERNAME).wait_for()
    web.assert_clean()

    # The leader signs in on their own phone with that password and sees their building.
    phone = browser.new_context(viewport={"width": 390, "height": 800}, locale="zh-CN")
    try:
        p = phone.new_page()
        p.goto(f"{web.base}/login?next=/b/")
        p.fill("input[name=username]", USERNAME)
        p.fill("input[name=password]", password)
        p.click("button[type=submit]")
        p.wait_for_url("**/b/")
        p.locator("#posts li", has_text="3号楼").wait_for()
        assert "楼栋长" in p.inner_text("#role-label")
    finally:
        phone.close()
