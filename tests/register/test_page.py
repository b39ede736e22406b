"""The register's review page: served to the community's reviewers with the approve controls,
to auditors without them, refused to planners."""

from __future__ import annotations


def _page(client, headers):  # type: ignore[no-untyped-def]
    client.cookies.set("gridgov_token", headers["Authorization"].removeprefix("Bearer "))
    try:
        return client.get("/register", follow_redirects=False)
    finally:
        client.cookies.clear()


def test_the_review_page_follows_the_policy(client, world, token_for):
    r = _page(client, world.dispatcher)
    assert r.status_code == 200
    assert "待审核变更" in r.text and "登记簿查询" in r.text
    assert '"may_approve": true' in r.text
    r = _page(client, world.auditor)
    assert r.status_code == 200 and "审核（通过、退回）仅限" in r.text
    assert _page(client, token_for("planner", "419901")).status_code == 403
