"""Domain exceptions and the one table that maps them to HTTP (tipg's pattern).

Services raise these with a message a person can act on (Simplified Chinese); routes never build
HTTPExceptions for domain problems. Database rule violations raised by our triggers and constraints
are translated here too, so a refused write is a 409/422 with the database's own explanation.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError


class GridgovError(Exception):
    """Base class: ``message`` is shown to the user; ``detail`` carries structured context."""

    status_code = 400

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


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


def database_error_to_domain(exc: DBAPIError) -> GridgovError | None:
    """Translate a refused write into a domain error, or None if it is a genuine failure (a bug)."""
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate not in _SQLSTATE_STATUS:
        return None
    diag = getattr(orig, "diag", None)
    constraint = getattr(diag, "constraint_name", None) if diag else None
    primary = getattr(diag, "message_primary", None) if diag else None
    message = _CONSTRAINT_MESSAGES.get(constraint or "", primary or str(orig))
    error_cls: type[GridgovError] = Conflict if _SQLSTATE_STATUS[sqlstate] == 409 else InvalidInput
    return error_cls(message, sqlstate=sqlstate, constraint=constraint)


def _body(message: str, **detail: Any) -> dict[str, Any]:
    return {"detail": message, **({"context": detail} if detail else {})}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GridgovError)
    async def _domain(_: Request, exc: GridgovError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        return JSONResponse(
            _body(exc.message, **exc.detail), status_code=exc.status_code, headers=headers
        )

    @app.exception_handler(DBAPIError)
    async def _database(_: Request, exc: DBAPIError) -> JSONResponse:
        domain = database_error_to_domain(exc)
        if domain is None:
            raise exc
        return JSONResponse(_body(domain.message, **domain.detail), status_code=domain.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": ".".join(str(p) for p in err["loc"] if p not in ("query", "body", "path")),
                "message": err["msg"],
            }
            for err in exc.errors()
        ]
        summary = "；".join(f"{e['field']}: {e['message']}" for e in errors)
        return JSONResponse({"detail": f"输入有误：{summary}", "errors": errors}, status_code=422)
