"""The HTTP edge: what every request passes before any route — proxy headers, security headers,
body limits and CSRF. ``install(app, settings)`` wires them in their order (app/main.py)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.http.cookies import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, cookie_options, is_https
from app.http.csrf import CsrfMiddleware
from app.http.headers import SecurityHeadersMiddleware
from app.http.limits import BodyLimitMiddleware, body_limit

__all__ = [
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "body_limit",
    "cookie_options",
    "install",
    "is_https",
]


def install(app: FastAPI, settings: Any) -> None:
    """Outermost first: the scheme and client address from a trusted proxy (so Secure cookies and
    HSTS follow the browser's HTTPS); security headers on every answer; the body limit before
    anything reads a body (asgi-csrf reads login forms); then the CSRF check.

    The first two wrap Starlette's whole stack, outside its ServerErrorMiddleware (which
    ``add_middleware`` cannot reach), so a 500 carries the headers too."""
    app.add_middleware(CsrfMiddleware, settings=settings)
    app.add_middleware(BodyLimitMiddleware, settings=settings)
    build = app.build_middleware_stack

    def build_with_edge() -> ASGIApp:
        inner = SecurityHeadersMiddleware(build(), settings=settings)
        return ProxyHeadersMiddleware(inner, trusted_hosts=settings.trusted_proxies)  # type: ignore[arg-type,return-value]

    app.build_middleware_stack = build_with_edge  # type: ignore[method-assign]
