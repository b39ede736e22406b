"""CQL2-text filters (OGC API – Features Part 3) as SQL conditions over a collection's queryables.

The text is parsed by pygeofilter (a maintained CQL2 parser); the syntax tree is then walked here
into a SQLAlchemy condition. Only the collection's queryables can be named, every literal reaches
PostgreSQL as a bound parameter, and each literal must have its queryable's type, so a filter can
never compare text with a number in SQL (a 500) or reach a column the collection does not show.

Supported (CQL2 Basic plus the advanced comparison operators): ``=``, ``<>``, ``<``, ``<=``, ``>``,
``>=``, ``AND``, ``OR``, ``NOT``, ``IS [NOT] NULL``, ``[NOT] LIKE`` (``%`` any run, ``_`` one
character, ``\\`` escapes), ``[NOT] BETWEEN``, ``[NOT] IN``; literals: text, numbers, booleans,
``DATE('…')`` and ``TIMESTAMP('…')``. Anything else (spatial, temporal and array predicates,
functions, arithmetic) is refused with a 400 naming it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from lark.exceptions import LarkError, UnexpectedInput
from pygeofilter import ast
from pygeofilter.parsers.cql2_text import parse as parse_cql2_text
from sqlalchemy import ColumnElement, and_, not_, or_

EXAMPLE = "code = '419901001001001' AND name LIKE '城关%'"
MAX_FILTER_CHARS = 4000


class FilterError(ValueError):
    """A filter that cannot be served; the message is for a person (Chinese)."""


@dataclass(frozen=True)
class Queryable:
    """A property a filter may name: its column, JSON Schema type and title."""

    column: Any
    type: str  # "string" | "integer" | "number" | "boolean" | "date" | "date-time"
    title: str

    def schema(self) -> dict[str, Any]:
        if self.type in ("date", "date-time"):
            return {"title": self.title, "type": "string", "format": self.type}
        return {"title": self.title, "type": self.type}


_OPS = {
    ast.Equal: lambda a, b: a == b,
    ast.NotEqual: lambda a, b: a != b,
    ast.LessThan: lambda a, b: a < b,
    ast.LessEqual: lambda a, b: a <= b,
    ast.GreaterThan: lambda a, b: a > b,
    ast.GreaterEqual: lambda a, b: a >= b,
}


def _parse(text: str) -> ast.Node:
    if len(text) > MAX_FILTER_CHARS:
        raise FilterError(f"filter 过长（至多 {MAX_FILTER_CHARS} 个字符）")
    try:
        return parse_cql2_text(text)
    except UnexpectedInput as exc:
        near = text[max(0, exc.column - 1) : exc.column + 19] if exc.column > 0 else text[:20]
        raise FilterError(
            f"filter 不是有效的 CQL2 文本：第 {exc.column} 个字符附近（“{near}”）无法解析。"
            f"示例：{EXAMPLE}"
        ) from exc
    except (LarkError, ValueError, TypeError) as exc:
        raise FilterError(f"filter 不是有效的 CQL2 文本（{exc}）。示例：{EXAMPLE}") from exc


class _Walker:
    def __init__(self, queryables: dict[str, Queryable]) -> None:
        self.queryables = queryables

    def known(self) -> str:
        return "、".join(self.queryables)

    def attribute(self, node: Any) -> Queryable:
        if not isinstance(node, ast.Attribute):
            raise FilterError(f"比较的左边应为属性名（可用：{self.known()}）；不支持算术与函数")
        q = self.queryables.get(node.name)
        if q is None:
            raise FilterError(f"不能按 {node.name} 过滤；此集合可查询的属性：{self.known()}")
        return q

    def literal(self, q: Queryable, name: str, value: Any) -> Any:
        """``value`` as ``q``'s type, or a FilterError naming both."""
        converted = _convert(q.type, value)
        if converted is None:
            raise FilterError(f"属性 {name} 的值应为{_TYPE_LABELS[q.type]}，而不是 {value!r}")
        return converted

    def __call__(self, node: Any) -> ColumnElement[bool]:
        if isinstance(node, ast.And):
            return and_(self(node.lhs), self(node.rhs))
        if isinstance(node, ast.Or):
            return or_(self(node.lhs), self(node.rhs))
        if isinstance(node, ast.Not):
            return not_(self(node.sub_node))
        if isinstance(node, ast.Comparison) and type(node) in _OPS:
            q = self.attribute(node.lhs)
            value = self.literal(q, node.lhs.name, node.rhs)
            return _OPS[type(node)](q.column, value)  # type: ignore[no-any-return]
        if isinstance(node, ast.IsNull):
            q = self.attribute(node.lhs)
            return q.column.is_not(None) if node.not_ else q.column.is_(None)
        if isinstance(node, ast.Like):
            q = self.attribute(node.lhs)
            if q.type != "string" or not isinstance(node.pattern, str):
                raise FilterError(f"LIKE 只能用于文本属性和文本模式（{node.lhs.name}）")
            # CQL2: % any run, _ one character, \ escapes; the same as SQL's LIKE with ESCAPE '\'.
            cond = q.column.like(node.pattern, escape="\\")
            return not_(cond) if node.not_ else cond
        if isinstance(node, ast.Between):
            q = self.attribute(node.lhs)
            low = self.literal(q, node.lhs.name, node.low)
            high = self.literal(q, node.lhs.name, node.high)
            cond = q.column.between(low, high)
            return not_(cond) if node.not_ else cond
        if isinstance(node, ast.In):
            q = self.attribute(node.lhs)
            values = [self.literal(q, node.lhs.name, v) for v in node.sub_nodes]
            cond = q.column.in_(values)
            return not_(cond) if node.not_ else cond
        if isinstance(node, bool):  # a bare TRUE / FALSE
            raise FilterError("filter 应为条件（如 code = '…'），而不是单独的 TRUE/FALSE")
        raise FilterError(
            f"filter 中有不支持的部分：{type(node).__name__}（支持比较、LIKE、BETWEEN、IN、"
            "IS NULL 与 AND/OR/NOT；不支持空间、时间、数组谓词与函数）"
        )


_TYPE_LABELS = {
    "string": "文本（单引号括起）",
    "integer": "整数",
    "number": "数字",
    "boolean": "true 或 false",
    "date": "日期，如 DATE('2026-03-01')",
    "date-time": "时间，如 TIMESTAMP('2026-03-01T08:00:00Z')",
}


def _convert(kind: str, value: Any) -> Any:
    """``value`` as a literal of JSON Schema type ``kind``, or None if it is not one."""
    if isinstance(value, str) and kind in ("date", "date-time"):
        # '2026-03-01' written as plain text is a date to a person, as DATE('2026-03-01') is.
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if kind == "date" and isinstance(value, dt.datetime):
        return value.date()
    checks = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: type(v) is int and abs(v) < 2**63,
        "number": lambda v: type(v) in (int, float),
        "boolean": lambda v: isinstance(v, bool),
        "date": lambda v: isinstance(v, dt.date),
        "date-time": lambda v: isinstance(v, dt.date),
    }
    return value if checks[kind](value) else None


def to_sql(text: str, queryables: dict[str, Queryable]) -> ColumnElement[bool]:
    """The SQL condition of the CQL2-text ``text`` over ``queryables``; FilterError if it cannot
    be served."""
    if not text.strip():
        raise FilterError(f"filter 为空。示例：{EXAMPLE}")
    return _Walker(queryables)(_parse(text))
