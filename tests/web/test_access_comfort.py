"""Access and comfort in Chromium, each as a person would notice it: the console's case rows reached
and opened by keyboard, a visible focus ring (on the light pages and the dark wall), the phone
page's 16 px text and 44 px targets, the file picker in Chinese, text contrast AA on the wall, the
login form keeping the username after a refused password, and the 403 page keeping the
signed-in user's navigation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import Watched
from tests.web.test_console_stream import G11_POINT, bearer, report

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _tab_to(page: Any, selector: str, limit: int = 80) -> None:
    """Press Tab until the focus is on an element matching ``selector`` (fails after ``limit``)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(
            "(s) => document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
    raise AssertionError(f"{selector} not reached by Tab in {limit} presses")


def _ring(page: Any) -> dict[str, str]:
    return dict(
        page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement); "
            "return {style: s.outlineStyle, width: s.outlineWidth, colour: s.outlineColor}; }"
        )
    )


def test_console_case_rows_are_reached_and_opened_by_keyboard(web: Watched) -> None:
    case = report(web.base, bearer(web.base, "disp"), G11_POINT, "键盘打开")
    page = web.page
    web.login("disp", "/console?area=419901")
    page.locator(f'#cases li[data-id="{case["id"]}"]').wait_for()
    page.click("#f-area")  # start from the filters, as a keyboard user would after the first Tabs
    _tab_to(page, "#cases li[data-id]")
    assert page.evaluate("document.activeElement.dataset.id") == str(case["id"])
    ring = _ring(page)
    assert ring["style"] == "solid" and float(ring["width"].removesuffix("px")) >= 2, ring
    page.keyboard.press("Enter")
    page.locator("#detail", has_text=case["case_no"]).wait_for()
    # Space opens too (and does not scroll the list).
    page.click("#f-area")
    _tab_to(page, "#cases li[data-id]")
    page.evaluate("document.getElementById('detail').textContent = ''")
    page.keyboard.press(" ")
    page.locator("#detail", has_text=case["case_no"]).wait_for()
    web.assert_clean()


def test_the_focus_ring_shows_on_the_navigation_and_on_the_dark_wall(web: Watched) -> None:
    page = web.page
    web.login("disp", "/console?area=419901")
    _tab_to(page, "header nav a")
    ring = _ring(page)
    assert ring["style"] == "solid" and ring["width"] == "3px"
    assert ring["colour"] == "rgb(255, 255, 255)"  # white on the dark blue bar
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(web.base + "/wall")
    page.wait_for_load_state("load")
    _tab_to(page, "a, button")
    ring = _ring(page)
    assert ring["style"] == "solid" and ring["width"] == "3px", ring


def test_text_on_the_wall_meets_the_aa_contrast(web: Watched) -> None:
    page = web.page
    page.set_viewport_size({"width": 1920, "height": 1080})
    web.login("disp", "/wall")
    page.wait_for_function("() => document.getElementById('fig-intake').textContent !== '—'")
    report(web.base, bearer(web.base, "disp"), G11_POINT, "大屏对比度")
    page.locator("#stream li[data-case]").wait_for()
    page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    failing = page.evaluate(
        "async () => (await axe.run(document, {runOnly: ['color-contrast']})).violations"
        ".flatMap(v => v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary))"
    )
    assert failing == []


def test_the_phone_page_has_16px_text_and_44px_targets(web: Watched) -> None:
    page = web.page
    page.set_viewport_size(PHONE)
    web.login("worker", "/m/")
    page.wait_for_load_state("load")
    page.wait_for_timeout(800)
    assert page.evaluate("getComputedStyle(document.body).fontSize") == "16px"
    small = page.evaluate(
        """() => [...document.querySelectorAll('main *')].filter(e => e.offsetParent !== null &&
             [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()) &&
             parseFloat(getComputedStyle(e).fontSize) < 14)
           .map(e => e.tagName + '.' + e.className + ' ' + getComputedStyle(e).fontSize + ' ' + e.textContent.trim().slice(0, 20))"""
    )
    assert small == [], small  # nothing on the phone below 14 px; body text is 16 px
    short = page.evaluate(
        """() => [...document.querySelectorAll('main button, main a, main select, main input, main textarea, main label.check')]
           .filter(e => e.offsetParent !== null && e.type !== 'checkbox')
           .map(e => [e.id || e.className || e.tagName, e.getBoundingClientRect().height])
           .filter(([, h]) => h < 44)"""
    )
    assert short == [], short


def test_the_file_picker_speaks_chinese_and_names_the_chosen_file(web: Watched) -> None:
    page = web.page
    page.set_viewport_size(PHONE)
    web.login("worker", "/m/")
    button = page.locator("#photo ~ button.file-pick")
    button.wait_for()
    assert button.inner_text() == "选择照片"
    assert button.get_attribute("aria-label") == "选择照片：现场照片（可选）"
    assert page.locator("#photo").is_visible() is False  # the browser's English control is hidden
    names = page.locator("#photo ~ .file-names")
    assert names.inner_text() == "未选择文件"
    with page.expect_file_chooser() as chooser:
        button.click()
    chooser.value.set_files(
        {"name": "井盖.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xff\xe0" + b"0" * 64}
    )
    assert names.inner_text() == "已选择：井盖.jpg"
    page.evaluate("document.getElementById('photo').value = ''")  # as the page does after a report
    assert names.inner_text() == "未选择文件"
    box = button.bounding_box()
    assert box is not None and box["height"] >= 44


def test_a_refused_login_keeps_the_username(web: Watched) -> None:
    page = web.page
    page.goto(f"{web.base}/login?next=/dashboard")
    page.fill("input[name=username]", "disp")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    page.locator("#login-error").wait_for()
    assert page.input_value("input[name=username]") == "disp"
    assert page.input_value("input[name=password]") == ""
    # The cursor waits in the password field, and the page still goes where it was going.
    assert page.evaluate("document.activeElement.name") == "password"
    assert page.input_value("input[name=next]") == "/dashboard"


def test_the_403_page_keeps_the_navigation_of_the_signed_in_user(web: Watched) -> None:
    page = web.page
    web.login("worker", "/m/")
    resp = page.goto(web.base + "/dashboard")
    assert resp is not None and resp.status == 403
    assert "无权访问" in page.inner_text("h1")
    nav = page.eval_on_selector_all("header nav a", "as => as.map(a => a.textContent)")
    assert "网格员" in nav and "考核看板" not in nav
    assert "worker" in page.inner_text("header .who")
    assert page.locator("header form[action='/logout'] button").count() == 1
    # Signed out, the same page has no navigation to keep: the login page instead.
    page.context.clear_cookies()
    page.goto(web.base + "/dashboard")
    assert "/login" in page.url
