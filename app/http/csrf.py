"""Cross-site request forgery: a write whose credentials come from the page cookie must prove it was
sent by our own pages.

Double-submit (asgi-csrf): a signed random token in the ``gridgov_csrf`` cookie (readable by our
scripts, set by any page that renders the token: every logged-in page and the login form), echoed in
an ``X-CSRF-Token`` header (fetch calls, web/static/gridgov/api.js) or a ``csrf_token`` form field
(the login and logout forms). Another site can make the browser send our cookies but cannot read them.

Checked: POST/PUT/PATCH/DELETE that carry the ``gridgov_token`` cookie and no Authorization header,
and the login form (no session yet: a forged login would sign the victim in as the attacker).
Not checked: bearer-token clients (scripts, Open311 systems, phones), which send no cookie-borne
credential, and anonymous requests.
"""

from __future__ import annotations

from typing import Any

from asgi_csrf import asgi_csrf_decorator
from starlette.types import ASGIApp, Receive, Scope, Send

from app.http.cookies import CSRF_COOKIE, CSRF_FORM_FIELD, CSRF_HEADER, SESSION_COOKIE
from app.http.limits import send_json

ALWAYS_CHECKED = frozenset({"/login"})
REFUSED = "请求缺少有效的 CSRF 令牌（页面可能已过期）：请刷新页面后重试"


def _cookie_names(scope: Scope) -> set[str]:
    for name, value in scope["headers"]:
        if name == b"cookie":
            text = value.decode("latin-1")
            return {part.split("=", 1)[0].strip() for part in text.split(";")}
    return set()


def _not_cookie_authenticated(scope: Scope) -> bool:
    """asgi-csrf's ``skip_if_scope``: skip unless the page cookie is the credential."""
    if scope["path"] in ALWAYS_CHECKED:
        return False
    return SESSION_COOKIE not in _cookie_names(scope)


async def _refuse(scope: Scope, send: Send, _reason: Any) -> None:
    accept = next((v for k, v in scope["headers"] if k == b"accept"), b"")
    if b"text/html" in accept:
        body = (
            '<!doctype html><meta charset="utf-8"><title>请求已拒绝</title>'
            f'<p>{REFUSED}。<a href="/login">返回登录页</a></p>'
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [(b"content-type", b"text/html; charset=utf-8")],
            }
        )
        await send({"type": "http.response.body", "body": body})
        return
    await send_json(send, 403, REFUSED)


# Paths that never render a page (so never need a token minted) and reads that change nothing: the
# hot paths (GET /locate, bearer or anonymous intake) skip asgi-csrf, whose token minting costs
# ~0.2 ms a request; pages and cookie-authenticated writes always go through it.
_NOT_PAGES = ("/api/", "/static/", "/tiles/", "/ogc", "/open311/", "/healthz", "/openapi.json")
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfMiddleware:
    def __init__(self, app: ASGIApp, settings: Any) -> None:
        self.inner = app
        self.app = asgi_csrf_decorator(
            cookie_name=CSRF_COOKIE,
            http_header=CSRF_HEADER.lower(),
            form_input=CSRF_FORM_FIELD,
            signing_secret=settings.secret_key,
            signing_namespace="gridgov-csrf",
            always_protect=ALWAYS_CHECKED,
            skip_if_scope=_not_cookie_authenticated,
            cookie_samesite="Lax",
            send_csrf_failed=_refuse,
        )(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"].startswith(_NOT_PAGES)
            and (scope["method"] in _SAFE or _not_cookie_authenticated(scope))
        ):
            await self.inner(scope, receive, send)
            return
        await self.app(scope, receive, send)
