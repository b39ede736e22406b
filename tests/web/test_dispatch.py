"""A case end to end in the browser: a grid worker reports it from the phone page (GPS + photo),
the dispatcher sees it on the console and accepts it; a refused action shows the API's message."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def test_worker_reports_and_dispatcher_accepts(web, browser, live_server) -> None:  # type: ignore[no-untyped-def]
    web.page.set_viewport_size({"width": 390, "height": 844})
    web.login("worker", "/m/")
    web.page.wait_for_selector("#grid-name")
    web.page.wait_for_selector("#category option[value='0101']", state="attached")
    web.page.select_option("#category", "0101")
    web.page.fill("#desc", "楼道堆放杂物引发邻里争吵")
    web.page.set_input_files("#photo", {"name": "p.png", "mimeType": "image/png", "buffer": PNG})
    web.page.click("#report")
    web.page.wait_for_selector("#report-ok")
    case_no = web.page.inner_text("#report-ok b")
    assert web.page.inner_text("#report-ok") == f"已上报，案件编号 {case_no}，网格 419901001001001"
    web.shot("worker-reported")
    web.assert_clean()

    context = browser.new_context(viewport={"width": 1400, "height": 860}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{live_server}/login?next=/console")
        page.fill("input[name=username]", "disp")
        page.fill("input[name=password]", "secret-pass-1")
        page.click("button[type=submit]")
        mine = page.locator("#cases li[data-id]", has_text=case_no)
        mine.wait_for()
        assert "邻里纠纷" in mine.inner_text()
        mine.click()
        page.wait_for_selector("#detail button[data-action='accept']")
        assert "张伟" in page.inner_text("#d-leader")  # the grid leader, phone shown to dispatchers
        # The worker's photo is shown, loaded from the app (the image really decodes).
        page.wait_for_function(
            "() => [...document.querySelectorAll('#d-photos img')].some(i => i.complete && i.naturalWidth > 0)"
        )
        page.fill("#d-note", "已电话联系")
        page.click("#detail button[data-action='accept']")
        page.wait_for_function("() => document.querySelector('#d-state')?.textContent === '已受理'")
        # Labels of the history and the actions come from GET /api/v1/meta, never the codes.
        history = page.inner_text("#d-history")
        assert "：上报 → 已上报" in history
        assert "：受理 → 已受理（已电话联系）" in history
        assert "report" not in history and "accepted" not in history
        assert page.inner_text("#detail button[data-action='register']") == "立案"
        assert "已受理" in page.inner_text("#cases")
        page.screenshot(path=str(web_artifacts() / "console-accepted.png"))
        assert errors == []
    finally:
        context.close()


def web_artifacts():  # type: ignore[no-untyped-def]
    from tests.web.conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
