"""Bounded integer parameters, used by every router: no number a client sends can overflow a
PostgreSQL integer. An id is 1 up to the largest value of its column's type (``integer`` unless the
table says ``bigint``); an offset is bounded too. Out of range is a 404 for an id in the path (it
names nothing) and a 422 in the query or the body (app/errors.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import Field
from sqlalchemy import BigInteger

INT4_MAX = 2**31 - 1  # PostgreSQL integer (serial): most tables' ids
INT8_MAX = 2**63 - 1  # PostgreSQL bigint (bigserial): incidents and their history

# An id in the path.
Id = Annotated[int, Path(ge=1, le=INT4_MAX)]
BigId = Annotated[int, Path(ge=1, le=INT8_MAX)]
# An id in the query (optional) or in a request body.
IdQuery = Annotated[int | None, Query(ge=1, le=INT4_MAX)]
IdField = Annotated[int, Field(ge=1, le=INT4_MAX)]
BigIdField = Annotated[int, Field(ge=1, le=INT8_MAX)]
# How many rows to skip when paging.
Offset = Annotated[int, Query(ge=0, le=INT4_MAX)]


def parse_big_id(raw: str) -> int | None:
    """A bigint id written as text (Open311's service_request_id), or None if it cannot be one."""
    if not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if 1 <= value <= INT8_MAX else None


def max_id(column: Any) -> int:
    """The largest id a column can hold (a bigint column or an integer one)."""
    return INT8_MAX if isinstance(column.type, BigInteger) else INT4_MAX
