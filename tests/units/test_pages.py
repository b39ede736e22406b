"""A unit's staff member in the pages: they land on the console (their unit's cases), have the
case map and the county map in their navigation, and neither the routing page nor the phone's."""

from __future__ import annotations

import re


def _page(client, headers, path):  # type: ignore[no-untyped-def]
    client.cookies.set("gridgov_token", headers["Authorization"].removeprefix("Bearer "))
    try:
        return client.get(path, follow_redirects=False)
    finally:
        client.cookies.clear()


def test_a_unit_handler_lands_on_the_console(api, token_for):  # type: ignore[no-untyped-def]
    h = token_for("unit_handler", "419901", "cg1")
    assert _page(api, h, "/").headers["location"] == "/console"
    r = _page(api, h, "/console")
    assert r.status_code == 200
    bar = r.text.split("<nav>", 1)[1].split("</nav>", 1)[0]
    # A unit's staff also log their own 双报到 hours and give grid workers admitted tasks
    # (docs/party.md), so the party and admission pages are theirs too.
    assert re.findall(r'href="([^"?]+)', bar) == [
        "/console", "/maps/coverage", "/maps/cases", "/party", "/admission"
    ]  # fmt: skip
    assert "承办单位" in r.text  # the role's label beside the user's name
    for path in ("/admin/units", "/m/", "/dashboard"):
        assert _page(api, h, path).status_code == 403, path
