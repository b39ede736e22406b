"""A grid worker registers a floating resident and a rented house on the phone, part of it with the
network cut; the queue sends both when the network returns; the community approves them on the
review page (/register); the register, the coverage map's household count and the audit follow
(docs/duties.md#the-register-on-the-phone). The browser does everything through the pages; the
test reads the database and the API to check."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, text

from tests.factories import G11
from tests.web.test_phone import PHONE, _offline

pytestmark = pytest.mark.browser

# A valid GB 11643 number (check digit X), the standard's own example.
ID_NUMBER = "11010519491231002X"


def _api(page, path: str, method: str = "GET") -> dict:  # type: ignore[no-untyped-def]
    """The signed-in page's own call (its cookie and CSRF header)."""
    body = page.evaluate(
        """async ([path, method]) => {
          const m = await import('/static/gridgov/api.js');
          return JSON.stringify(await m.api(path, { method, json: method === 'POST' ? {} : undefined }));
        }""",
        [path, method],
    )
    return json.loads(body)


def _g11_households(page) -> int:  # type: ignore[no-untyped-def]
    grids = _api(page, "/api/v1/layers/grids?f=json&area=419901001001")
    return next(
        f["properties"]["households"] for f in grids["features"] if f["properties"]["code"] == G11
    )


def _band_message(page) -> str:  # type: ignore[no-untyped-def]
    run = _api(page, "/api/v1/audits?area=419901001001", "POST")
    return next(
        f["message"]
        for f in run["findings"]
        if f["kind"] == "household_band" and f["objects"] == [G11]
    )


def test_worker_registers_offline_and_the_community_approves(web, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    page = web.page
    page.set_viewport_size(PHONE)
    web.login("admin", "/audits")
    households_before = _g11_households(page)
    assert households_before == 2  # tests/factories.py tiny_county: 101 and 102
    assert "有 2 户" in _band_message(page)
    page.context.clear_cookies()

    web.login("worker", "/m/")
    page.wait_for_selector("#reg-person-building option >> nth=1", state="attached")
    # The resident is registered online; the network drops before the house is.
    page.select_option("#reg-person-building", label="阳光花园3号楼")
    page.fill("#reg-name", "赵流动")
    page.fill("#reg-id", ID_NUMBER)
    page.select_option("#reg-gender", "2")
    page.fill("#reg-phone", "13700001234")
    page.fill("#reg-origin", "河南省周口市")
    # The building's grid is known on the phone before the network drops (found when picked).
    page.wait_for_function(
        f"() => (localStorage.getItem('gridgov-building-grids') || '').includes('{G11}')"
    )
    _offline(page, True)
    page.click("#reg-person-submit")
    page.wait_for_selector("#reg-result >> text=已保存在本机")
    page.select_option("#reg-house-building", label="阳光花园3号楼")
    page.fill("#reg-unit", "1")
    page.fill("#reg-room", "302")
    page.fill("#reg-landlord", "钱房东")
    page.fill("#reg-landlord-phone", "13600005678")
    page.click("#reg-house-submit")
    page.wait_for_function("() => document.querySelector('#outbox-count').textContent === '2'")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM register_proposals")).scalar() == 0
    _offline(page, False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_selector("#outbox-section", state="hidden", timeout=30_000)
    page.evaluate("window.dispatchEvent(new Event('online'))")  # sent again: nothing new
    page.wait_for_timeout(1000)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT kind, state, grid_code FROM register_proposals ORDER BY id")
        ).all()
    assert [tuple(r) for r in rows] == [("person", "pending", G11), ("house", "pending", G11)]
    page.reload()
    page.wait_for_selector("#reg-mine li[data-state='pending'] >> nth=1")
    assert page.locator("#reg-mine li", has_text="待社区审核").count() == 2
    web.shot("phone-register-pending")
    page.context.clear_cookies()

    # The community's dispatcher approves both on the review page.
    page.set_viewport_size({"width": 1280, "height": 800})
    web.login("disp", "/register")
    for _ in range(2):
        page.wait_for_selector(".proposal button.approve")
        page.locator(".proposal button.approve").first.click()
        page.wait_for_timeout(800)
    page.wait_for_function("() => !document.querySelector('.proposal button.approve')")
    with engine.connect() as conn:
        person = conn.execute(
            text("SELECT name, residence_type, special_groups, grid_code FROM persons")
        ).one()
        house = conn.execute(
            text("SELECT unit, room, use, landlord_name, household_id FROM houses")
        ).one()
    assert (person.name, person.residence_type, person.grid_code) == ("赵流动", "floating", G11)
    assert "floating_population" in person.special_groups
    assert (house.unit, house.room, house.use, house.landlord_name) == (
        "1",
        "302",
        "rented",
        "钱房东",
    )
    assert house.household_id is not None  # the rented flat is a household of the grid now
    # The coverage map counts it, and the audit's household count follows.
    assert _g11_households(page) == 3
    page.context.clear_cookies()
    web.login("admin", "/audits")
    assert "有 3 户" in _band_message(page)
    page.context.clear_cookies()

    # Back on the phone, the worker sees both approved.
    page.set_viewport_size(PHONE)
    web.login("worker", "/m/")
    page.wait_for_selector("#reg-mine li[data-state='approved'] >> nth=1")
    assert page.locator("#reg-mine li", has_text="已通过").count() == 2
    web.shot("phone-register-approved")
    web.errors[:] = [
        e for e in web.errors if "ERR_INTERNET_DISCONNECTED" not in e and "ERR_FAILED" not in e
    ]
    web.assert_clean()
