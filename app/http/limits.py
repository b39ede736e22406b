"""Request body limits, enforced at the ASGI layer while the body streams in.

Every route gets ``body_max_bytes``; the few that take files get more (``body_limit``). A declared
``Content-Length`` over the limit is answered 413 before a byte is read; a body without one (chunked)
is counted as it arrives and cut off as soon as it passes the limit. JSON bodies (what FastAPI parses
as JSON: no content type, ``application/json``, ``*/*+json``) are checked for nesting depth before
any parser sees them, so ``[`` × 200,000 is a 422, not a RecursionError.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_MIB = 1024 * 1024


class BodyLimitError(HTTPException):
    """Raised from ``receive`` while the app reads the body; rendered by the app's handlers (an
    HTTPException, so FastAPI's body parsing passes it on instead of calling it a parse error)."""


def human_size(n: float) -> str:
    """Bytes as people read them in a message: "200 MB", "64 KB"."""
    return f"{n / _MIB:.0f} MB" if n >= _MIB else f"{max(n // 1024, 1):.0f} KB"


_CASE_PHOTOS = re.compile(r"/api/v1/incidents/[0-9]+/photos")


def body_limit(settings: Any, method: str, path: str) -> int:
    """The most bytes a request to ``method path`` may send: the one place these limits live."""
    if method == "POST":
        if path == "/api/v1/incidents" or _CASE_PHOTOS.fullmatch(path):
            # a report's fields plus its photos; photos of the handling or an on-site check
            photos = settings.incidents.photo_max_count * settings.incidents.photo_max_bytes
            return photos + settings.body_max_bytes
        if path == "/api/v1/visits":  # a check-in's photo travels as base64 (4 bytes per 3)
            return settings.visits.photo_max_bytes * 4 // 3 + 4 + settings.body_max_bytes
        if path.startswith("/api/v1/imports/") or path == "/api/v1/plans/upload":
            return int(settings.upload_max_bytes) + settings.body_max_bytes  # + form fields
        if path == "/api/v1/locate":
            return int(settings.locate_batch_max_bytes)
    return int(settings.body_max_bytes)


def too_large_message(limit: int) -> str:
    return f"请求内容超过 {human_size(limit)} 上限；请缩小文件、减少照片或分批提交"


# A JSON string (JSON's own grammar: a quote, escaped or plain bytes, a closing quote); an
# unterminated one runs to the end, so every match succeeds and the scan stays linear.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*+(?:"|\\?\Z)', re.S)
_BRACKETS = b"[]{}"
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _BRACKETS)
_FOLD = bytes.maketrans(b"{}", b"[]")


def json_too_deep(body: bytes, limit: int) -> bool:
    """Whether a JSON parser would nest deeper than ``limit`` arrays/objects reading ``body``.

    Cheap for ordinary bodies (fewer opening brackets than the limit: done). Otherwise strings are
    cut out and the brackets kept; each pass of ``replace("[]", "")`` removes one level of innermost
    pairs, so the number of passes is the depth. All of it runs in C, in time linear per pass.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _JSON_STRING.sub(b"", body).translate(_FOLD, _NOT_BRACKETS)
    depth = 0
    while brackets:
        inner = brackets.replace(b"[]", b"")
        if len(inner) == len(brackets):  # only unmatched brackets are left: "]]][[["
            return depth + brackets.count(b"[") > limit
        depth += 1
        if depth > limit:
            return True
        brackets = inner
    return False


def _is_json(content_type: bytes | None) -> bool:
    # The same rule FastAPI uses to decide that a body is JSON (no content type counts).
    if not content_type:
        return True
    mime = content_type.split(b";", 1)[0].strip().lower()
    subtype = mime.rpartition(b"/")[2]
    return subtype == b"json" or subtype.endswith(b"+json")


async def send_json(send: Send, status: int, message: str, headers: list | None = None) -> None:
    body = json.dumps({"detail": message}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Pure ASGI: counts body bytes as they arrive; refuses early, never buffers beyond the limit."""

    def __init__(self, app: ASGIApp, settings: Any) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(self.settings, scope["method"], scope["path"])
        declared: bytes | None = None
        content_type: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
            elif name == b"content-type":
                content_type = value
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await send_json(send, 413, too_large_message(limit))
            return
        max_depth = int(self.settings.json_max_depth)
        check_depth = scope["method"] in ("POST", "PUT", "PATCH", "DELETE") and _is_json(
            content_type
        )
        received = 0
        opens = 0
        chunks: list[bytes] = []
        started = False

        async def limited_receive() -> Message:
            nonlocal received, opens
            message = await receive()
            if message["type"] != "http.request":
                return message
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                raise BodyLimitError(413, too_large_message(limit))
            if check_depth:
                opens += chunk.count(b"[") + chunk.count(b"{")
                chunks.append(chunk)
                if not message.get("more_body", False):
                    body = b"".join(chunks) if len(chunks) > 1 else chunk
                    chunks.clear()
                    if opens > max_depth and json_too_deep(body, max_depth):
                        raise BodyLimitError(422, f"JSON 嵌套超过 {max_depth} 层，无法处理")
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracked_send)
        except BodyLimitError as exc:  # read by something outside the app's exception handlers
            if started:
                raise
            await send_json(send, exc.status_code, str(exc.detail))
