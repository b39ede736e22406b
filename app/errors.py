"""Domain exceptions, and the one place that turns any exception into an HTTP error response.

Services raise these with a message a person can act on (Simplified Chinese); routes never build
HTTPExceptions or error bodies. Whatever goes wrong in a request ends here (``problem_for``):

- a domain error (``GridgovError``) keeps its status and message;
- a write the database refuses (our triggers, its constraints, a value it cannot store) is a
  409/422 with the database's own explanation (tipg's pattern);
- the database out of reach (down, restarting, pool exhausted) is a 503 with ``Retry-After``;
- a request that fails validation is a 422, or a 404 when it is the path that names nothing;
- anything else is a bug: a 500 logged with its trace, whose body says only a reference number.

Each is rendered in the shape its client speaks, chosen by the path (``flavour``) and the format
the request negotiated (``app/formats.py``): the ``Error`` schema for the JSON API, the OGC API
exception for /ogc, the Open311 error list for /open311 (XML for ``.xml``), the HTML error page for
pages and for a resource asked for as ``html``. ``document_errors`` declares the same in the OpenAPI.
"""

from __future__ import annotations

import json
import logging
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote_to_bytes

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from app.web.templating import templates

logger = logging.getLogger(__name__)


class GridgovError(Exception):
    """Base class: ``message`` is shown to the user; ``detail`` carries structured context."""

    status_code = 400

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class BadRequest(GridgovError):
    """A request the route cannot serve as asked (e.g. a format it does not offer: app/formats.py)."""

    status_code = 400


class NotFound(GridgovError):
    status_code = 404


class InvalidInput(GridgovError):
    status_code = 422


class Conflict(GridgovError):
    status_code = 409


class Forbidden(GridgovError):
    status_code = 403


class Unauthorized(GridgovError):
    status_code = 401


class PayloadTooLarge(GridgovError):
    status_code = 413


class UnsupportedMediaType(GridgovError):
    status_code = 415


class ServiceUnavailable(GridgovError):
    status_code = 503


# SQLSTATEs raised by our own triggers (app/migrations/sql) and by PostgreSQL's constraint checks.
_SQLSTATE_STATUS = {
    "GG001": 409,  # active grids overlap
    "GG002": 409,  # grid outside its community
    "GG003": 422,  # grid names an unknown community
    "GG004": 409,  # the access log is append-only
    "23505": 409,  # unique violation (duplicate active code)
    "23P01": 409,  # exclusion violation (two leaders at once)
    "23514": 422,  # check violation (invalid geometry, bad code)
    "23503": 422,  # foreign key violation
    "23502": 422,  # not null violation
}

_CONSTRAINT_MESSAGES = {
    "uq_grids_active_code": "已有同编码的在用网格",
    "uq_areas_current_code": "已有同编码的现行区划",
    "ex_staff_assignments_one_leader": "该网格在此期间已有网格长（每个网格同一时间只能有一名网格长）",
    "ck_grids_geom_valid": "网格几何图形无效（自相交或环方向错误）",
    "ck_areas_geom_valid": "区划几何图形无效（自相交或环方向错误）",
    "ck_buildings_footprint_valid": "楼栋轮廓几何图形无效",
    "ck_grids_code_15_digits": "网格编码必须是15位数字",
    "ck_grids_code_in_community": "网格编码前12位必须是所属社区/村编码",
    "ck_areas_code_matches_level": "区划编码位数与层级不符（县6位、乡镇9位、社区/村12位）",
}

RLS_REFUSED = "超出您的辖区：数据库拒绝了这次写入"
NUL_MESSAGE = "输入中含有空字符（NUL，\\u0000），请删除后重试"

# Class 22 (data exception): a value PostgreSQL cannot store or compare, i.e. the client's input.
_DATA_MESSAGES = {
    "22001": "输入的文字超出长度限制",
    "22003": "输入的数值超出允许范围",
    "22021": NUL_MESSAGE,  # character not in repertoire (a NUL in text)
    "22P05": NUL_MESSAGE,  # untranslatable character (\u0000 in JSON)
}


def database_error_to_domain(exc: DBAPIError | psycopg.Error) -> GridgovError | None:
    """Translate a refused write into a domain error, or None if it is a genuine failure (a bug).

    Takes SQLAlchemy's wrapper or the driver's own exception."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    sqlstate = getattr(orig, "sqlstate", None)
    diag = getattr(orig, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag else None
    if sqlstate is None and "NUL (0x00)" in str(orig):  # refused by psycopg before sending
        return InvalidInput(NUL_MESSAGE)
    if sqlstate and sqlstate.startswith("22"):
        message = _DATA_MESSAGES.get(sqlstate, "输入的值格式有误或超出范围")
        return InvalidInput(message, sqlstate=sqlstate, reason=primary or str(orig))
    if sqlstate == "42501" and "row-level security" in (primary or ""):
        # The database's own jurisdiction rule refused a write (docs/security.md#row-level-security):
        # the application let it through, the database did not. Name nothing of what was refused.
        return Forbidden(RLS_REFUSED)
    if sqlstate not in _SQLSTATE_STATUS:
        return None
    constraint = getattr(diag, "constraint_name", None) if diag else None
    message = _CONSTRAINT_MESSAGES.get(constraint or "", primary or str(orig))
    error_cls: type[GridgovError] = Conflict if _SQLSTATE_STATUS[sqlstate] == 409 else InvalidInput
    return error_cls(message, sqlstate=sqlstate, constraint=constraint)


# --- the error shape ---------------------------------------------------------------------------


class FieldError(BaseModel):
    field: str
    message: str


class Error(BaseModel):
    """Every error of the JSON API: ``detail`` is the message for a person (Simplified Chinese)."""

    detail: str
    code: str | None = None
    errors: list[FieldError] | None = None
    context: dict[str, Any] | None = None


# A machine-readable code for each status: the JSON ``code`` and the OGC exception ``code``.
_STATUS_CODES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    422: "InvalidParameterValue",
    429: "TooManyRequests",
    500: "ServerError",
    503: "ServiceUnavailable",
}

RETRY_AFTER_SECONDS = 30
DATABASE_DOWN = "数据库暂时无法访问，请稍后重试"


@dataclass
class Problem:
    status: int
    message: str
    errors: list[FieldError] | None = None
    context: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def code(self) -> str:
        if self.status in _STATUS_CODES:
            return _STATUS_CODES[self.status]
        try:
            return HTTPStatus(self.status).phrase.replace(" ", "")  # e.g. 423 Locked
        except ValueError:
            return "Error"


# Pydantic's validation errors, said in Chinese (the English ``msg`` stays for any other type).
_VALIDATION_MESSAGES = {
    "missing": "缺少此项",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "finite_number": "应为有限的数字",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为文本",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "至多 {max_length} 个字符",
    "string_pattern_mismatch": "格式不符（应匹配 {pattern}）",
    "too_short": "至少 {min_length} 项",
    "too_long": "至多 {max_length} 项",
    "literal_error": "应为 {expected} 之一",
    "enum": "应为 {expected} 之一",
    "json_invalid": "不是有效的 JSON",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "datetime_parsing": "应为 ISO 8601 时间",
    "datetime_from_date_parsing": "应为 ISO 8601 时间",
    "list_type": "应为数组",
    "dict_type": "应为对象",
    "model_attributes_type": "应为对象",
}


def _validation_message(err: dict[str, Any]) -> str:
    template = _VALIDATION_MESSAGES.get(err.get("type", ""))
    if template is None:
        return str(err.get("msg", "")).removeprefix("Value error, ")
    # 90.0 reads 90: bounds are written as a person would.
    ctx = {
        k: int(v) if isinstance(v, float) and v.is_integer() else v
        for k, v in err.get("ctx", {}).items()
    }
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return template


_LOCATIONS = ("query", "body", "path", "header", "cookie")


def _validation_problem(exc: RequestValidationError) -> Problem:
    errors = [
        FieldError(
            field=".".join(str(p) for p in err["loc"] if p not in _LOCATIONS),
            message=_validation_message(err),
        )
        for err in exc.errors()
    ]
    summary = "；".join(f"{e.field}: {e.message}" if e.field else e.message for e in errors)
    # A path that does not parse (an id out of range, an unknown format) names nothing: 404.
    if any(err["loc"] and err["loc"][0] == "path" for err in exc.errors()):
        return Problem(404, f"未找到：地址有误（{summary}）", errors)
    return Problem(422, f"输入有误：{summary}", errors)


def _http_problem(request: Request, exc: StarletteHTTPException) -> Problem:
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        return Problem(404, f"没有这个地址：{request.url.path}", headers=headers)
    if exc.status_code == 405:
        return Problem(405, f"此地址不支持 {request.method} 请求", headers=headers)
    return Problem(exc.status_code, str(exc.detail), headers=headers)


def _unavailable(exc: Exception) -> Problem:
    logger.warning("database unavailable: %s", str(exc).splitlines()[0] if str(exc) else exc)
    return Problem(503, DATABASE_DOWN, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def problem_for(request: Request, exc: Exception) -> Problem | None:
    """What a person is told about ``exc``; None for a bug (a 500)."""
    if isinstance(exc, GridgovError):
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else {}
        if isinstance(exc, ServiceUnavailable):
            headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return Problem(exc.status_code, exc.message, context=exc.detail or None, headers=headers)
    if isinstance(exc, RequestValidationError):
        return _validation_problem(exc)
    if isinstance(exc, StarletteHTTPException):
        return _http_problem(request, exc)
    if isinstance(exc, OperationalError | InterfaceError | DisconnectionError | PoolTimeout):
        return _unavailable(exc)
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return _unavailable(exc)
    if isinstance(exc, DBAPIError | psycopg.Error):
        domain = database_error_to_domain(exc)
        return None if domain is None else problem_for(request, domain)
    if isinstance(exc, ValueError) and ("NUL" in str(exc) or "null byte" in str(exc)):
        return Problem(422, NUL_MESSAGE)  # a NUL the driver or the OS refused (a file name)
    if isinstance(exc, RecursionError):  # e.g. a JSON body nested thousands deep
        return Problem(422, "请求内容嵌套层数过多，无法解析")
    return None


# --- rendering: one shape per kind of client, chosen by the path ------------------------------

_JSON_PREFIXES = ("/api/", "/tiles/", "/static/", "/healthz", "/openapi.json", "/docs", "/redoc")


def flavour(path: str, accept: str = "") -> str:
    """'ogc', 'open311', 'html' (a page, asked for by a browser) or 'json'."""
    if path == "/ogc" or path.startswith("/ogc/"):
        return "ogc"
    if path.startswith("/open311/"):
        return "open311"
    if not path.startswith(_JSON_PREFIXES) and "text/html" in accept:
        return "html"
    return "json"


def _kind(request: Request) -> str:
    """The client's shape: by the path (``flavour``), and for the JSON API by the format the request
    negotiated (app/formats.py): a resource asked for as ``html`` gets the HTML error page."""
    kind = flavour(request.url.path, request.headers.get("accept", ""))
    if kind != "json":
        return kind
    negotiated = getattr(request.state, "format", None)
    if negotiated is None:  # refused before its format was chosen: as the query asked
        negotiated = request.query_params.get("f")
    return "html" if negotiated == "html" else "json"


def render(request: Request, problem: Problem) -> Response:
    kind = _kind(request)
    status, headers = problem.status, problem.headers
    if kind == "ogc":
        body: Any = {"code": problem.code, "description": problem.message}
        return JSONResponse(body, status_code=status, headers=headers)
    if kind == "open311":
        items = [{"code": status, "description": problem.message}]
        if request.url.path.endswith(".xml"):
            return Response(_open311_xml(items), status, headers, "text/xml; charset=utf-8")
        return JSONResponse(items, status_code=status, headers=headers)
    if kind == "html":
        return error_page(request, status, problem.message, headers)
    error = Error(
        detail=problem.message, code=problem.code, errors=problem.errors, context=problem.context
    )
    return JSONResponse(
        error.model_dump(mode="json", exclude_none=True), status_code=status, headers=headers
    )


def error_page(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    """The pages' HTML error page (web/templates/error.html)."""
    context = {"request": request, "status": status, "message": message, "nav": []}
    return templates.TemplateResponse(
        request, "error.html", context, status_code=status, headers=headers
    )


def _open311_xml(items: list[dict[str, Any]]) -> bytes:
    top = ET.Element("errors")
    for item in items:
        error = ET.SubElement(top, "error")
        for key, value in item.items():
            ET.SubElement(error, key).text = str(value)
    return ET.tostring(top, encoding="utf-8", xml_declaration=True)


def _server_error(request: Request, exc: BaseException) -> Response:
    reference = secrets.token_hex(4)
    logger.error(
        "unhandled error %s on %s %s", reference, request.method, request.url.path, exc_info=exc
    )
    message = f"服务器内部错误（编号 {reference}），已记录；请稍后重试，如仍出错请将编号告知管理员"
    return render(request, Problem(500, message, context={"reference": reference}))


async def _handle(request: Request, exc: Exception) -> Response:
    problem = problem_for(request, exc)
    return _server_error(request, exc) if problem is None else render(request, problem)


class RefuseNulBytes:
    """A NUL byte in the path or the query string is refused at the door (422): PostgreSQL cannot
    store one in text, and no identifier or code contains one. Bodies are checked where they are
    stored (``database_error_to_domain``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope.get("path", "")
            or b"\x00" in unquote_to_bytes(scope.get("query_string", b""))
        ):
            response = render(Request(scope), Problem(422, NUL_MESSAGE))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


HANDLED: tuple[type[Exception], ...] = (
    GridgovError,
    RequestValidationError,
    StarletteHTTPException,
    DBAPIError,
    DisconnectionError,
    PoolTimeout,
    psycopg.Error,
    RecursionError,
    ValueError,
)


def install_error_handlers(app: FastAPI) -> None:
    for cls in HANDLED:
        app.add_exception_handler(cls, _handle)
    app.add_exception_handler(Exception, _handle)  # the last line: a logged 500
    app.add_middleware(RefuseNulBytes)
    install_openapi(app)


# --- the OpenAPI: the same shapes, documented once for every operation ----------------------------

_DESCRIPTIONS = {
    400: "请求格式有误",
    401: "未登录或登录凭据无效",
    403: "无权执行此操作",
    404: "未找到",
    409: "与当前状态冲突",
    413: "请求内容过大",
    415: "不支持的内容类型",
    422: "输入有误",
    429: "请求过于频繁",
    500: "服务器内部错误",
    503: "数据库暂时无法访问（见 Retry-After）",
}
_WRITES = {"post", "put", "patch", "delete"}

_OGC_EXCEPTION = {
    "type": "object",
    "required": ["code"],
    "properties": {"code": {"type": "string"}, "description": {"type": "string"}},
}
_OPEN311_ERRORS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}


def error_statuses(method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation can answer with, from what it takes."""
    statuses = {429, 500, 503}
    if operation.get("parameters") or operation.get("requestBody"):
        statuses |= {404, 422}
    if operation.get("security") or method in _WRITES:
        statuses |= {401, 403}
    if any(
        p.get("name") == "f" and p.get("in") == "query" for p in operation.get("parameters", [])
    ):
        statuses.add(400)  # a format the route does not serve (app/formats.py)
    if method in _WRITES:
        statuses |= {400, 409, 413, 415, 422}
    return statuses


def _error_content(path: str) -> dict[str, Any]:
    kind = flavour(path)
    if kind == "ogc":
        return {"application/json": {"schema": {"$ref": "#/components/schemas/OgcException"}}}
    if kind == "open311":
        return {
            "application/json": {"schema": {"$ref": "#/components/schemas/Open311Errors"}},
            "text/xml": {"schema": {"type": "string"}},
        }
    return {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare the error shapes as components and the error responses of every operation (and
    drop FastAPI's HTTPValidationError, which is not what a 422 here looks like)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error_schema = Error.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error_schema.pop("$defs", {}))
    components["Error"] = error_schema
    components["OgcException"] = _OGC_EXCEPTION
    components["Open311Errors"] = _OPEN311_ERRORS
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "put", "post", "delete", "patch", "head", "options"}:
                continue
            responses = operation.setdefault("responses", {})
            for status in sorted(error_statuses(method, operation)):
                if str(status) not in responses or status == 422:
                    responses[str(status)] = {"description": _DESCRIPTIONS[status]}
            for status, response in responses.items():
                if status[0] in "45" and "content" not in response:
                    response["content"] = _error_content(path)  # a route's own 4xx: same shape
    for name in ("HTTPValidationError", "ValidationError"):
        if f'"#/components/schemas/{name}"' not in json.dumps(schema):
            components.pop(name, None)
    return schema


def install_openapi(app: FastAPI) -> None:
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
