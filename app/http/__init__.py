"""The HTTP edge: what every request passes before any route — proxy headers, security headers,
body limits and CSRF. ``install(app, settings)`` wires them in their order (app/main.py)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
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
    HSTS follow the browser's HTTPS); headers on every answer, 413s and 403s included; the body limit
    before anything reads a body (asgi-csrf reads login forms); then the CSRF check."""
    app.add_middleware(CsrfMiddleware, settings=settings)
    app.add_middleware(BodyLimitMiddleware, settings=settings)
    app.add_middleware(SecurityHeadersMiddleware, settings=settings)
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
