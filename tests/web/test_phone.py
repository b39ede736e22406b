"""The grid worker's phone page in a real Chromium (docs/domain.md#field-tasks-the-phone): a report made with
the network cut waits on the phone and arrives once when the network returns; a dispatched case is
handled from 我的待办 with a photo (a photo over the limit keeps the rest as a draft); the phone is
comfortable to use (16 px text, 44 px targets). The browser does everything through the page; the
test only arranges data (a grid unit, a case dispatched to it) and reads the database to check."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from tests.factories import G11
from tests.web.conftest import _delete_made

pytestmark = pytest.mark.browser

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
UNIT = "phone-test-G11"
PHONE = {"width": 390, "height": 844}


_CDP: dict[int, Any] = {}


def _offline(page: Any, offline: bool) -> None:
    """Cut or restore the page's network with the DevTools protocol's network emulation (one
    session per page: emulation set by a session lasts as long as that session)."""
    cdp = _CDP.get(id(page))
    if cdp is None:
        cdp = _CDP[id(page)] = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )


@pytest.fixture
def grid_unit(engine: Engine, fresh_county: None) -> Iterator[str]:
    """G11's grid unit (the worker serves G11, so its cases are the worker's tasks)."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO units (code, name, kind, area_code) SELECT :c, '幸福社区第1网格', 'grid', CAST(:g AS varchar) "
                "WHERE NOT EXISTS (SELECT 1 FROM units WHERE kind = 'grid' AND area_code = :g AND active)"
            ),
            {"c": UNIT, "g": G11},
        )
        code = conn.execute(
            text("SELECT code FROM units WHERE kind = 'grid' AND area_code = :g AND active"),
            {"g": G11},
        ).scalar_one()
    try:
        yield code
    finally:
        with engine.begin() as conn:
            _delete_made(conn)
            conn.execute(text("DELETE FROM units WHERE code = :c"), {"c": UNIT})


def _dispatch(engine: Engine, case_no: str, unit: str) -> None:
    """The dispatcher's part, done through the service as the console would (accept, register,
    dispatch to the grid unit): arranging, not the behaviour under test."""
    from app.auth.policy import Role, system_principal
    from app.auth.scope import scope_of
    from app.db import unit_of_work
    from app.incidents import service
    from app.incidents.calendar import default_calendar
    from app.incidents.models import Incident
    from app.incidents.schemas import TransitionIn

    dispatcher = scope_of(system_principal("phone-test", Role.DISPATCHER))
    for action, extra in (("accept", {}), ("register", {}), ("dispatch", {"unit": unit})):
        with unit_of_work(engine) as s:
            case = s.query(Incident).filter_by(case_no=case_no).one()
            body = TransitionIn(action=action, version=case.version, **extra)
            service.transition(
                s, incident_id=case.id, body=body, scope=dispatcher, calendar=default_calendar()
            )


def _report_on_phone(web: Any, category: str, description: str) -> None:
    page = web.page
    page.wait_for_selector(f"#category option[value='{category}']", state="attached")
    page.select_option("#category", category)
    page.fill("#desc", description)
    page.wait_for_selector("#pin-grid")  # the pin's place is shown before sending
    page.click("#report")


def test_report_made_offline_waits_and_arrives_once(web, engine) -> None:  # type: ignore[no-untyped-def]
    page = web.page
    page.set_viewport_size(PHONE)
    web.login("worker", "/m/")
    page.wait_for_selector("#grid-name")
    # The pin confirms the place and the address is filled in from it (the dispatcher sees it).
    page.wait_for_selector("#pin-grid")
    assert page.inner_text("#pin-grid") == "城关街道 · 幸福社区 · 幸福社区第1网格"
    assert page.input_value("#address") == "城关街道幸福社区幸福社区第1网格附近"

    # The service worker that keeps the page for offline starts is up, scoped to the page.
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.active && r.scope)")
    assert scope == web.base + "/m/"

    _offline(page, True)
    page.wait_for_selector("#net", state="visible")
    page.select_option("#category", "0401")
    page.fill("#desc", "断网时发现楼下垃圾堆积")
    page.fill("#address", "阳光花园3号楼北侧")
    page.click("#report")
    page.wait_for_selector("#report-queued")
    assert "已保存到本机待发送" in page.inner_text("#report-queued")
    assert page.inner_text("#outbox-count") == "1"
    assert "垃圾堆积：断网时发现楼下垃圾堆积" in page.inner_text("#outbox")
    assert "Failed to fetch" not in page.inner_text("body")
    # A visit check-in made offline waits beside it, with its note.
    home = page.locator("#due li", has_text="102")
    home.locator("button.checkin").click()
    home.locator(".visit-note").fill("老人在家，身体尚可")
    home.locator(".visit-panel .confirm").click()
    page.wait_for_function("() => document.querySelector('#outbox-count').textContent === '2'")
    assert "走访签到" in page.inner_text("#outbox")
    web.shot("phone-offline-queued")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM incidents")).scalar() == 0

    # The phone restarts the page with no network at all (the service worker's fetches cut too):
    # the page and its lists come from the service worker's cache, the waiting report from IndexedDB.
    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector("#outbox li.waiting")
    assert page.inner_text("#outbox-count") == "2"
    assert page.locator("#category option[value='0401']").count() == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM incidents")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM visits")).scalar() == 0

    page.context.set_offline(False)
    _offline(page, False)
    page.wait_for_selector("#report-ok")
    page.wait_for_selector("#outbox-section", state="hidden")
    case_no = page.inner_text("#report-ok b")
    # Flushing again (the page does it every 15 s and on each "online") sends nothing new.
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_timeout(1500)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT case_no, address, idempotency_key FROM incidents WHERE description = :d"),
            {"d": "断网时发现楼下垃圾堆积"},
        ).all()
    assert [(r.case_no, r.address) for r in rows] == [(case_no, "阳光花园3号楼北侧")]
    assert rows[0].idempotency_key  # made on the phone when the report was queued
    with engine.connect() as conn:
        visits = conn.execute(text("SELECT notes, idempotency_key FROM visits")).all()
    assert [v.notes for v in visits] == ["老人在家，身体尚可"] and visits[0].idempotency_key
    web.shot("phone-offline-sent")
    # The only console error allowed is Chromium's own line for the request the cut network failed.
    web.errors[:] = [
        e for e in web.errors if "ERR_INTERNET_DISCONNECTED" not in e and "ERR_FAILED" not in e
    ]
    web.assert_clean()


def test_worker_handles_a_dispatched_case_with_a_photo(web, engine, grid_unit) -> None:  # type: ignore[no-untyped-def]
    page = web.page
    page.set_viewport_size(PHONE)
    web.login("worker", "/m/")
    page.wait_for_selector("#grid-name")
    _report_on_phone(web, "0401", "小区门口垃圾堆积待清运")
    page.wait_for_selector("#report-ok")
    case_no = page.inner_text("#report-ok b")
    _dispatch(engine, case_no, grid_unit)

    page.reload()
    task = page.locator("#tasks li.task", has_text=case_no)
    task.wait_for()
    assert "已派遣" in task.inner_text()
    task.locator("button[data-action='start']").click()
    task.locator(".act-panel .confirm").click()  # waits for the form to be drawn
    page.wait_for_selector(f"#tasks li.task:has-text('{case_no}') button[data-action='handle']")
    task.locator("button[data-action='handle']").click()
    task.locator(".act-panel .confirm").wait_for()
    # 垃圾堆积: the close condition asks for a photo, and the form says so.
    assert "结案须有照片" in task.locator(".act-panel").inner_text()
    task.locator(".move-note").fill("已联系环卫清运完毕")
    task.locator(".act-panel .confirm").click()
    assert "要求现场照片" in task.locator(".act-panel .error").inner_text()

    # A photo over the limit (10 MB): 413, and the note stays on the phone as a draft.
    big = b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024 + 10)
    task.locator(".move-photos").set_input_files(
        {"name": "big.jpg", "mimeType": "image/jpeg", "buffer": big}
    )
    task.locator(".act-panel .confirm").click()
    error = task.locator(".move-error")
    error.wait_for()
    assert "超过上限" in error.inner_text() and "草稿" in error.inner_text()
    page.reload()
    task = page.locator("#tasks li.task", has_text=case_no)
    task.locator("button[data-action='handle']").click()
    task.locator(".act-panel .confirm").wait_for()
    assert task.locator(".move-note").input_value() == "已联系环卫清运完毕"

    task.locator(".move-photos").set_input_files(
        {"name": "site.png", "mimeType": "image/png", "buffer": PNG}
    )
    task.locator(".act-panel .confirm").click()
    page.wait_for_selector(f"#tasks li.task:has-text('{case_no}') .pill:text('已处置')")
    assert task.locator("button[data-action='handle']").count() == 0
    web.shot("phone-task-handled")
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT state, photos FROM incidents WHERE case_no = :c"), {"c": case_no}
        ).one()
        events = conn.execute(
            text(
                "SELECT action, note FROM incident_events e JOIN incidents i ON i.id = e.incident_id "
                "WHERE i.case_no = :c ORDER BY e.id"
            ),
            {"c": case_no},
        ).all()
    assert row.state == "handled"
    assert [p["stage"] for p in row.photos if p.get("stage")] == ["handle"]
    assert [e.action for e in events][-3:] == ["start", "add_photos", "handle"]
    assert events[-1].note == "已联系环卫清运完毕"
    web.errors[:] = [e for e in web.errors if "413" not in e]
    web.assert_clean()


def test_phone_is_comfortable(web) -> None:  # type: ignore[no-untyped-def]
    page = web.page
    page.set_viewport_size(PHONE)
    web.login("worker", "/m/")
    page.wait_for_selector("#grid-name")
    page.wait_for_selector("#due li")
    assert page.evaluate("getComputedStyle(document.body).fontSize") == "16px"
    small = page.evaluate(
        """() => [...document.querySelectorAll('main button, main select, main input[type=search],'
        + ' main input[type=text], main label.photo, main label.check')]
          .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
          .map(e => e.id || e.className || e.tagName)"""
    )
    assert small == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The 44 small classes, grouped by their 9 classes (the eight of problems and 居民家事: 丧事 and
    # 喜事, the reports that ask for an arrival, docs/duties.md), and the search narrows them.
    assert page.locator("#category optgroup").count() == 9
    assert page.locator("#category option[value]:not([value=''])").count() == 44
    page.fill("#cat-search", "井盖")
    assert page.input_value("#category") == "0803"
    web.assert_clean()


def test_nearby_case_offered_before_sending_and_linked_as_the_same(web, engine) -> None:  # type: ignore[no-untyped-def]
    page = web.page
    page.set_viewport_size(PHONE)
    web.login("worker", "/m/")
    page.wait_for_selector("#grid-name")
    _report_on_phone(web, "0803", "小区东门井盖缺失")
    page.wait_for_selector("#report-ok")
    first = page.inner_text("#report-ok b")

    # A second report of the same class at the same place: the open case is offered first.
    page.select_option("#category", "0803")
    page.fill("#desc", "东门井盖还是没有盖上")
    dup = page.locator("#dups li", has_text=first)
    dup.wait_for()
    assert "相距 0 米" in dup.inner_text()
    dup.locator("button.same").click()
    page.wait_for_selector("#report-linked")
    assert page.inner_text("#report-linked b") == first
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM incidents")).scalar() == 1
        notes = conn.execute(
            text("SELECT note FROM incident_events WHERE action = 'same_report'")
        ).scalars()
        assert list(notes) == ["东门井盖还是没有盖上"]
    web.assert_clean()
