"""An HTML error page for a signed-in user on an API route (no CSRF token there) is the 404 it
should be, with the user's navigation, not a 500 from the page's sign-out form."""

from __future__ import annotations


def test_html_404_of_an_api_route_for_a_signed_in_user(client, token_for) -> None:  # type: ignore[no-untyped-def]
    answer = client.get(
        "/api/v1/audits/999999?f=html",
        headers={**token_for("county_admin", "419901", "qa-admin"), "Accept": "text/html"},
    )
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "找不到审计记录 999999" in answer.text
    assert "qa-admin" in answer.text  # the signed-in user's header is kept
