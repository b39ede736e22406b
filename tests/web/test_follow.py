"""A resident follows and rates their case on a phone, from the link on their receipt
(docs/domain.md#residents-ratings)."""

from __future__ import annotations

from sqlalchemy import Engine, text

PHONE = {"width": 390, "height": 844}


def test_resident_rates_a_closed_case_unsatisfied_and_it_reopens(web, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    page = web.page
    page.set_viewport_size(PHONE)
    # An anonymous report (no session): the answer is a receipt with the link.
    r = page.request.post(
        f"{web.base}/api/v1/incidents",
        data={
            "category_code": "0401",
            "description": "楼道垃圾",
            "lng": 113.002,
            "lat": 34.005,
            "crs": "wgs84",
            "reporter_phone": "13900000000",
        },
    )
    assert r.status == 201, r.text()
    receipt = r.json()
    page.goto(web.base + receipt["follow_url"])
    assert page.inner_text("#case-no") == receipt["case_no"]
    assert page.inner_text("#case-state") == "已上报"
    assert "办结后即可评价" in page.inner_text("#why-not")
    assert page.locator("#rating-form").count() == 0
    with (
        engine.begin() as conn
    ):  # the case is handled and closed (the lifecycle is tested elsewhere)
        conn.execute(
            text(
                "UPDATE incidents SET state = 'closed', handled_at = now(), closed_at = now() "
                "WHERE id = :i"
            ),
            {"i": receipt["id"]},
        )
    page.reload()
    assert page.inner_text("#case-state") == "已结案"
    # Phone-sized: nothing wider than the screen, choices big enough to tap.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = page.locator("label.choice").first.bounding_box()
    assert box is not None and box["height"] >= 44
    page.click("label.choice:has-text('不满意')")
    page.fill("textarea[name=comment]", "垃圾还在楼道里")
    page.click("#rating-form button[type=submit]")
    page.wait_for_selector("#follow-notice")
    assert "案件已重新交办" in page.inner_text("#follow-notice")
    assert page.inner_text("#case-state") == "已派遣"
    steps = page.eval_on_selector_all("#steps li b", "bs => bs.map(b => b.textContent)")
    assert steps == ["上报", "居民评价", "重新办理"]
    assert "13900000000" not in page.content() and "楼道垃圾" not in page.content()
    assert "本次办结" not in page.content() and page.locator("#rating-form").count() == 0
    web.shot("follow-reopened")
    web.assert_clean()
