"""How our cookies are set: one function for every cookie the app writes itself.

``Secure`` follows the scheme the browser used: HTTPS directly, or HTTP from a trusted reverse proxy
that says ``X-Forwarded-Proto: https`` (``trusted_proxies`` in app/settings.py; uvicorn's proxy
headers middleware rewrites the scheme, see app/http/__init__.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

SESSION_COOKIE = "gridgov_token"
CSRF_COOKIE = "gridgov_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FORM_FIELD = "csrf_token"


def is_https(scope: Mapping[str, Any]) -> bool:
    """Whether the browser reached us over TLS (after trusted proxy headers were applied)."""
    return scope.get("scheme") in ("https", "wss")


def cookie_options(request: Request) -> dict[str, Any]:
    """Keyword arguments for ``Response.set_cookie`` of a credential cookie (the page session).

    HttpOnly (scripts cannot read it), SameSite=Lax (sent on top-level navigation from a link, not on
    cross-site sub-requests or POSTs), Secure whenever the request came over HTTPS. Cross-site writes
    are refused by the CSRF check (app/http/csrf.py) in any case.
    """
    return {"httponly": True, "samesite": "lax", "secure": is_https(request.scope), "path": "/"}
