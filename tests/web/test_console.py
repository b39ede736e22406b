"""The dispatch console in a real browser: one button per move the role may make (none for a county
admin), labels from /api/v1/meta, search by case number / phone (masked for an auditor) / address,
new cases pushed live with an optional sound, the case just acted on kept in a filtered list without
the map moving, and the 督办 queue's countdown."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from tests.web.conftest import PASSWORD

pytestmark = pytest.mark.browser

G11_POINT = {"lng": 113.002, "lat": 34.005, "crs": "cgcs2000"}  # grid 419901001001001


def bearer(base: str, username: str) -> dict[str, str]:
    r = httpx.post(f"{base}/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def report(base: str, who: str, description: str, **extra: Any) -> dict[str, Any]:
    r = httpx.post(
        f"{base}/api/v1/incidents",
        json={"category_code": "0401", "description": description, **G11_POINT, **extra},
        headers=bearer(base, who),
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def buttons(page: Any) -> list[str]:
    return [b.inner_text() for b in page.query_selector_all("#d-actions button[data-action]")]


def open_case(page: Any, case_no: str) -> None:
    page.locator("#cases li[data-id]", has_text=case_no).first.click()
    page.wait_for_function(
        "no => document.querySelector('#detail h3')?.textContent.startsWith(no)", arg=case_no
    )


def live(page: Any) -> None:
    page.wait_for_function("() => document.querySelector('#live')?.textContent.includes('已连接')")


def test_buttons_are_the_moves_the_role_may_make(web, live_server) -> None:  # type: ignore[no-untyped-def]
    case = report(live_server, "disp", "井盖缺失")
    web.login("disp", "/console")
    live(web.page)
    open_case(web.page, case["case_no"])
    # A dispatcher on a reported case: 受理, 作废, 升级督办 (not the grid worker's 自行处置).
    assert buttons(web.page) == ["受理", "作废", "升级督办"]
    # The state filter lists the in-progress states by their labels (GET /api/v1/meta).
    options = web.page.eval_on_selector_all("#f-state option", "os => os.map(o => o.textContent)")
    assert options[:4] == ["全部在办状态", "已上报", "已受理", "已立案"]
    assert "reported" not in options
    web.page.click("#d-actions button[data-action='accept']")
    web.page.wait_for_function("() => document.querySelector('#d-state')?.textContent === '已受理'")
    assert buttons(web.page) == ["立案", "不予立案", "作废", "升级督办"]
    web.assert_clean()


def test_a_county_admin_is_shown_no_button(web, live_server) -> None:  # type: ignore[no-untyped-def]
    case = report(live_server, "disp", "路灯不亮")
    web.login("admin", "/console")
    live(web.page)
    open_case(web.page, case["case_no"])
    assert buttons(web.page) == []
    assert web.page.inner_text("#d-actions") == "当前没有您可执行的操作"
    web.assert_clean()


def test_a_move_that_needs_a_reason_asks_for_it(web, live_server) -> None:  # type: ignore[no-untyped-def]
    case = report(live_server, "disp", "重复上报")
    web.login("disp", "/console")
    live(web.page)
    open_case(web.page, case["case_no"])
    web.page.click("#d-actions button[data-action='void']")
    web.page.wait_for_selector("#act-dialog[open]")
    assert web.page.inner_text("#act-title") == f"作废 · {case['case_no']}"
    # The reason is required: the dialog does not send without it.
    web.page.click("#act-ok")
    assert web.page.is_visible("#act-dialog[open]")
    web.page.fill("#act-note", "与已有案件重复")
    web.shot("console-dialog")
    web.page.click("#act-ok")
    web.page.wait_for_function("() => document.querySelector('#d-state')?.textContent === '已作废'")
    assert "作废 → 已作废（与已有案件重复）" in web.page.inner_text("#d-history")
    web.assert_clean()


@pytest.fixture
def auditor(engine: Engine, web_data: None) -> Iterator[str]:
    """An auditor of the tiny county (made here, beside the conftest's users)."""
    from app.auth.security import hash_password

    with engine.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE username = 'aud'"))
        conn.execute(
            text(
                "INSERT INTO users (username, full_name, password_hash, role, jurisdiction_code) "
                "VALUES ('aud', '督查', :h, 'auditor', '419901')"
            ),
            {"h": hash_password(PASSWORD)},
        )
    try:
        yield "aud"
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE username = 'aud'"))


def test_search_by_number_phone_and_address(web, browser, live_server, auditor) -> None:  # type: ignore[no-untyped-def]
    a = report(
        live_server,
        "disp",
        "垃圾满溢",
        reporter_name="王小明",
        reporter_phone="13900002222",
        address="阳光花园3号楼东侧",
    )
    b = report(live_server, "disp", "占道经营", address="和平路菜市场门口")
    web.login("disp", "/console")
    live(web.page)
    # The whole number opens the one case it names.
    web.page.fill("#q", b["case_no"])
    web.page.click("#search-form button[type=submit]")
    web.page.wait_for_function(
        "no => document.querySelector('#detail h3')?.textContent.startsWith(no)", arg=b["case_no"]
    )
    assert web.page.inner_text("#search-count") == "共 1 件"
    # The results follow what happens to the case (pushed), like the list.
    assert "已上报" in web.page.inner_text("#search-results")
    move(web.page, "accept")
    web.page.wait_for_function(
        "() => document.querySelector('#search-results')?.textContent.includes('已受理')"
    )
    web.page.fill("#q", "阳光花园")
    web.page.click("#search-form button[type=submit]")
    web.page.wait_for_function(
        "() => document.querySelector('#search-count')?.textContent === '共 1 件'"
    )
    web.page.fill("#q", "139 0000 2222")
    web.page.click("#search-form button[type=submit]")
    web.page.wait_for_function(
        "no => document.querySelector('#detail h3')?.textContent.startsWith(no)", arg=a["case_no"]
    )
    assert "13900002222" in web.page.inner_text("#search-results")
    assert web.page.inner_text("#d-reporter") == "王小明 13900002222"
    # Part of a number finds nothing, said in Chinese.
    web.page.fill("#q", "2222")
    web.page.click("#search-form button[type=submit]")
    web.page.wait_for_function(
        "() => document.querySelector('#search-results')?.textContent.includes('电话须输入完整号码')"
    )
    web.page.click("#search-clear")
    assert web.page.is_visible("#cases")
    web.assert_clean()

    # An auditor finds the case by the whole number and is shown it masked (docs/security.md).
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(f"{live_server}/login?next=/console")
        page.fill("input[name=username]", auditor)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#q")
        page.fill("#q", "13900002222")
        page.click("#search-form button[type=submit]")
        page.wait_for_function(
            "no => document.querySelector('#detail h3')?.textContent.startsWith(no)",
            arg=a["case_no"],
        )
        results = page.inner_text("#search-results")
        assert "139****2222" in results and "13900002222" not in results
        assert page.inner_text("#d-reporter") == "王*明 139****2222"
    finally:
        context.close()


def test_a_new_case_is_pushed_with_a_sound_when_asked(web, live_server) -> None:  # type: ignore[no-untyped-def]
    web.login("disp", "/console")
    live(web.page)
    assert not web.page.is_checked("#sound")  # off by default
    web.page.check("#sound")
    layer_loads = len([u for u in web.requests if "/api/v1/layers/cases" in u])
    case = report(live_server, "worker", "楼道堆物")
    # Pushed: the list shows it without a reload (the delivery time is measured by
    # tests/web/test_console_stream.py and bench/bench_console.py, not on a loaded test machine).
    web.page.locator("#cases li[data-id]", has_text=case["case_no"]).wait_for(timeout=10_000)
    assert len([u for u in web.requests if "/api/v1/layers/cases" in u]) > layer_loads
    web.page.wait_for_function(
        "no => document.querySelector('#toast')?.textContent.startsWith('新案件 ' + no)",
        arg=case["case_no"],
    )
    # One beep for the test click on the toggle, one for the case.
    assert web.page.get_attribute("#sound", "data-played") == "2"
    # The choice is remembered for the next visit.
    web.page.reload()
    live(web.page)
    assert web.page.is_checked("#sound")
    # No polling: after the first load, the list is fetched only when the stream says so.
    web.assert_clean()


def test_the_case_acted_on_stays_in_a_filtered_list_and_the_map_stays(web, live_server) -> None:  # type: ignore[no-untyped-def]
    a = report(live_server, "disp", "第一件")
    b = report(live_server, "disp", "第二件")
    web.login("disp", "/console?state=reported")
    live(web.page)
    web.page.locator("#cases li[data-id]", has_text=b["case_no"]).wait_for()
    open_case(web.page, a["case_no"])
    view = web.page.evaluate(
        "() => [GG_MAP.getCenter().lat, GG_MAP.getCenter().lng, GG_MAP.getZoom()]"
    )
    web.page.click("#d-actions button[data-action='accept']")
    web.page.wait_for_function("() => document.querySelector('#d-state')?.textContent === '已受理'")
    kept = web.page.locator("#cases li.kept", has_text=a["case_no"])
    kept.wait_for()
    assert "已不在当前筛选中（已受理）" in kept.inner_text()
    web.shot("console-kept")
    assert (
        web.page.evaluate(
            "() => [GG_MAP.getCenter().lat, GG_MAP.getCenter().lng, GG_MAP.getZoom()]"
        )
        == view
    )
    # Moving on to another case lets it go.
    open_case(web.page, b["case_no"])
    web.page.wait_for_function(
        "no => ![...document.querySelectorAll('#cases li')].some(li => li.textContent.includes(no))",
        arg=a["case_no"],
    )
    web.assert_clean()


def test_the_supervision_queue_counts_down(web, live_server, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    late = report(live_server, "disp", "超期未处置")
    report(live_server, "disp", "未超期")
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE incidents SET stage_due_at = now() - interval '2 hours 5 minutes' WHERE id = :i"
            ),
            {"i": late["id"]},
        )
    web.login("disp", "/console")
    live(web.page)
    web.page.click("#tab-queue")
    item = web.page.locator("#queue li[data-id]")
    item.first.wait_for()
    assert item.count() == 1
    assert late["case_no"] in item.inner_text()
    first = web.page.inner_text("#queue .countdown")
    assert first.startswith("超期2小时05分"), first
    web.page.wait_for_timeout(1100)
    assert web.page.inner_text("#queue .countdown") != first  # it ticks
    assert web.page.get_attribute("#queue .countdown", "class") == "countdown late"
    web.shot("console-queue")
    web.assert_clean()


def second_page(browser: Any, base: str, username: str, path: str = "/console") -> Any:
    """Another user's console in a context of its own (the dispatcher's stays signed in)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/login?next={path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#live")
    page.errors = errors
    return page


def move(page: Any, action: str) -> None:
    page.click(f"#d-actions button[data-action='{action}']")


def state_is(page: Any, label: str) -> None:
    try:
        page.wait_for_function(
            "l => document.querySelector('#d-state')?.textContent === l", arg=label, timeout=10_000
        )
    except Exception as exc:  # say what the page said instead
        said = page.evaluate(
            "() => [document.querySelector('#d-state')?.textContent, "
            "document.querySelector('#toast')?.textContent, "
            "document.querySelector('#act-error')?.textContent, "
            "document.querySelector('#detail')?.textContent.slice(0, 300)]"
        )
        raise AssertionError(f"state is not {label}: state, toast, dialog error = {said}") from exc


def test_dispatch_to_a_department_it_returns_and_the_dispatcher_reassigns(  # type: ignore[no-untyped-def]
    web, browser, live_server
) -> None:
    case = report(live_server, "disp", "占道经营")
    web.login("disp", "/console")
    live(web.page)
    open_case(web.page, case["case_no"])
    move(web.page, "accept")
    state_is(web.page, "已受理")
    move(web.page, "register")
    state_is(web.page, "已立案")
    assert buttons(web.page) == ["派遣", "升级督办"]
    # 派遣: a unit from the picker (the routing table's suggestion marked), then its staff.
    move(web.page, "dispatch")
    web.page.wait_for_selector("#act-dialog[open]")
    web.page.wait_for_selector("#act-unit option[value='dept-cgzf']", state="attached")
    units = web.page.eval_on_selector_all("#act-unit option", "os => os.map(o => o.textContent)")
    assert "城管执法局" in units and "住建局" in units
    assert "和平派出所" not in units  # an agency of the other community
    web.page.select_option("#act-unit", "dept-cgzf")
    people = web.page.eval_on_selector_all("#act-assignee option", "os => os.map(o => o.value)")
    assert people == ["", "cg1"]
    web.page.select_option("#act-assignee", "cg1")
    web.shot("console-dispatch")
    web.page.click("#act-ok")
    state_is(web.page, "已派遣")
    assert web.page.inner_text("#d-unit") == "城管执法局 · cg1"

    # The department's user sees their move: 退回 with a reason.
    dept = second_page(browser, live_server, "cg1")
    try:
        dept.locator("#cases li[data-id]", has_text=case["case_no"]).first.click()
        dept.wait_for_selector("#d-actions button[data-action='return']")
        names = [b.inner_text() for b in dept.query_selector_all("#d-actions button")]
        assert "退回" in names and "派遣" not in names
        dept.click("#d-actions button[data-action='return']")
        dept.fill("#act-note", "不属于城管职责，应由网格处理")
        dept.click("#act-ok")
        # Returned, the case is no longer the department's to see: the console says so.
        dept.wait_for_function(
            "no => document.querySelector('#detail .notice')?.textContent === "
            "'已退回：' + no + ' 已不在您的办理范围内。'",
            arg=case["case_no"],
        )
        dept.wait_for_function(
            "no => ![...document.querySelectorAll('#cases li')].some(li => li.textContent.includes(no))",
            arg=case["case_no"],
        )
        # The one failed request is the case the console asked for after the move (a 404: not the
        # department's any more), which the page answered with the notice above.
        assert dept.errors == [
            "Failed to load resource: the server responded with a status of 404 (Not Found)"
        ] * len(dept.errors)
        assert len(dept.errors) <= 2
    finally:
        dept.context.close()

    # The dispatcher's console hears of it and shows the returned case; 改派 to the grid's unit.
    state_is(web.page, "已退回")
    assert "退回 → 已退回（不属于城管职责，应由网格处理）" in web.page.inner_text("#d-history")
    move(web.page, "reassign")
    web.page.wait_for_selector("#act-unit option[value='grid-419901001001001']", state="attached")
    web.page.select_option("#act-unit", "grid-419901001001001")
    web.page.click("#act-ok")
    state_is(web.page, "已派遣")
    assert web.page.inner_text("#d-unit").startswith("幸福社区第1网格")
    web.assert_clean()


def test_extension_asked_by_the_unit_is_approved_in_a_dialog(web, browser, live_server) -> None:  # type: ignore[no-untyped-def]
    case = report(live_server, "disp", "违章搭建")
    web.login("disp", "/console")
    live(web.page)
    open_case(web.page, case["case_no"])
    for action, label in (("accept", "已受理"), ("register", "已立案")):
        move(web.page, action)
        state_is(web.page, label)
    move(web.page, "dispatch")
    web.page.wait_for_selector("#act-unit option[value='dept-cgzf']", state="attached")
    web.page.select_option("#act-unit", "dept-cgzf")
    web.page.click("#act-ok")
    state_is(web.page, "已派遣")

    dept = second_page(browser, live_server, "cg1")
    try:
        dept.locator("#cases li[data-id]", has_text=case["case_no"]).first.click()
        dept.wait_for_selector("#d-actions button[data-action='request_extension']")
        dept.click("#d-actions button[data-action='request_extension']")
        dept.fill("#act-hours", "8")
        dept.fill("#act-note", "需协调拆除队伍")
        dept.click("#act-ok")
        dept.wait_for_function(
            "() => document.querySelector('#d-clock')?.textContent.includes('待审批')"
        )
        assert dept.errors == []
    finally:
        dept.context.close()

    # The dispatcher sees the request and decides it: the hours come prefilled from it.
    web.page.wait_for_selector("#d-actions button[data-action='approve_extension']", timeout=10_000)
    assert "待审批：延期，8 小时，申请人 cg1，理由：需协调拆除队伍" in web.page.inner_text(
        "#d-clock"
    )
    move(web.page, "approve_extension")
    web.page.wait_for_selector("#act-dialog[open]")
    assert web.page.input_value("#act-hours") == "8"
    assert (
        web.page.inner_text("#act-request")
        == "申请：延期，8 小时，申请人 cg1，理由：需协调拆除队伍"
    )
    web.page.click("#act-ok")
    web.page.wait_for_function(
        "() => !document.querySelector('#d-clock')?.textContent.includes('待审批')"
    )
    assert "批准延期" in web.page.inner_text("#d-history")
    web.assert_clean()


def test_return_visit_records_the_result_chosen_in_the_dialog(
    web, live_server, engine: Engine
) -> None:  # type: ignore[no-untyped-def]
    case = report(live_server, "disp", "噪音扰民")
    with engine.begin() as conn:  # handled and closed (the lifecycle is tested elsewhere)
        conn.execute(
            text("UPDATE incidents SET state = 'closed', closed_at = now() WHERE id = :i"),
            {"i": case["id"]},
        )
    web.login("disp", "/console")
    live(web.page)
    web.page.fill("#q", case["case_no"])
    web.page.click("#search-form button[type=submit]")
    web.page.wait_for_selector("#d-actions button[data-action='evaluate']")
    move(web.page, "evaluate")
    web.page.wait_for_selector("#act-dialog[open]")
    # The results are meta's labels; one must be chosen.
    choices = web.page.eval_on_selector_all(
        "#act-fields input[name=satisfaction]",
        "xs => xs.map(x => x.parentElement.textContent.trim())",
    )
    assert choices == ["满意", "基本满意", "不满意"]
    web.page.click("#act-ok")
    assert web.page.is_visible("#act-dialog[open]")
    web.page.check("#act-fields input[value=basically]")
    web.page.fill("#act-note", "电话回访，居民认可")
    web.page.click("#act-ok")
    state_is(web.page, "已评价")
    assert "回访评价 → 已评价（电话回访，居民认可）" in web.page.inner_text("#d-history")
    # The reporter's own link to follow and rate is there to send.
    assert web.page.get_attribute("#d-follow", "href") == f"/follow/{case['token']}"
    web.assert_clean()
