"""Security headers on every response: pages, API answers, static files, errors.

The pages load only our own scripts (no inline script, no CDN); Leaflet writes inline ``style``
attributes, so styles allow 'unsafe-inline' (styles cannot run code). Images may come from the
configured base-map tile server. Nobody may frame us (clickjacking).

Two kinds of responses differ:
- the interactive API docs (/docs: Swagger UI from our own /static/swagger-ui, started with an inline
  script). The page carries no data of ours, so its own inline script is allowed by hash, computed
  from the page as it is sent.
- the audit report (``/api/v1/audits?f=html``) inlines its scripts so it works offline; it is sent as
  an attachment (app/audits/router.py), to be opened from disk, and gets the strict policy here,
  so it never runs inside our origin.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.cookies import is_https

DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect"})
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


def basemap_source(url: str) -> str | None:
    """The CSP source for a tile URL template: its scheme and host ({s} subdomains → *.)."""
    if not url:
        return None
    parts = urlsplit(url.replace("{s}", "tiles-subdomain"))
    if not parts.scheme or not parts.netloc:
        return None
    host = parts.netloc.replace("tiles-subdomain", "*")
    return f"{parts.scheme}://{host}"


def content_security_policy(settings: Any) -> str:
    tiles = basemap_source(settings.basemap_url)
    img = "'self' data: blob:" + (f" {tiles}" if tiles else "")
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src {img}",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "form-action 'self'",
        ]
    )


def _docs_policy(body: bytes) -> str:
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(m).digest()).decode() + "'"
        for m in _INLINE_SCRIPT.findall(body)
    )
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' {hashes}".rstrip(),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "form-action 'self'",
        ]
    )


def _has_secure(set_cookie: bytes) -> bool:
    return any(a.strip().lower() == b"secure" for a in set_cookie.split(b";")[1:])


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, settings: Any) -> None:
        self.app = app
        self.common = [
            (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]
        self.csp = content_security_policy(settings).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = is_https(scope)
        if scope["path"] in DOCS_PATHS:
            await self._docs(scope, receive, send, https)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self._headers(message.get("headers", []), self.csp, https)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _headers(self, headers: Any, csp: bytes, https: bool) -> list[tuple[bytes, bytes]]:
        out: list[tuple[bytes, bytes]] = []
        present = set()
        for name, value in headers:
            name = bytes(name).lower()
            present.add(name)
            if https and name == b"set-cookie" and not _has_secure(value):
                value = bytes(value) + b"; Secure"
            out.append((name, value))
        out.extend(h for h in self.common if h[0] not in present)
        if b"content-security-policy" not in present:
            out.append((b"content-security-policy", csp))
        if https:
            out.append((b"strict-transport-security", b"max-age=31536000"))
        return out

    async def _docs(self, scope: Scope, receive: Receive, send: Send, https: bool) -> None:
        # Small, static pages: hold the body to hash the inline scripts it carries.
        start: Message | None = None
        parts: list[bytes] = []

        async def hold(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            parts.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(parts)
            csp = _docs_policy(body).encode()
            start["headers"] = self._headers(start.get("headers", []), csp, https)
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, hold)
