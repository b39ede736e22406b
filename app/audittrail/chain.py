"""Checking the hash chain, independently of the database function that builds it.

Each row's ``hash`` is ``sha256(prev_hash || canonical)`` where canonical is the JSON array
``[id, at, actor, address, action, object, outcome, detail]`` as PostgreSQL prints ``jsonb``
(``", "`` and ``": "`` separators, non-ASCII as is), ``at`` in UTC as
``YYYY-MM-DDTHH:MM:SS.ffffffZ`` and ``detail`` as its ``jsonb`` text (or null). The first row's
``prev_hash`` is 64 zeros, unless older rows were purged: then a purge anchor (an ``audit.purge``
row, itself in the chain) names the id and hash of the last row deleted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

GENESIS = "0" * 64
PURGE_ACTION = "audit.purge"

_ROWS = text(
    "SELECT id, at, actor, address, action, object, outcome, detail::text AS detail, "
    "prev_hash, hash FROM audit_events ORDER BY id"
)


def canonical(row: Any) -> str:
    at = row.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    fields = [row.id, at, row.actor, row.address, row.action, row.object, row.outcome, row.detail]
    return json.dumps(fields, ensure_ascii=False)


def row_hash(prev_hash: str, row: Any) -> str:
    return hashlib.sha256((prev_hash + canonical(row)).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    first_id: int | None = None
    last_id: int | None = None
    last_hash: str | None = None
    broken_at: int | None = None  # the id of the first row that does not fit
    reason: str = ""

    def message(self) -> str:
        if not self.ok:
            return f"审计日志在第 {self.broken_at} 条处断裂：{self.reason}"
        if not self.checked:
            return "审计日志为空"
        return (
            f"审计日志完整：共 {self.checked} 条（编号 {self.first_id}–{self.last_id}），"
            f"末条哈希 {self.last_hash}"
        )


def verify_rows(rows: Iterable[Any]) -> Verdict:
    """Walk rows in id order (one snapshot). When older rows were purged, the first row's
    ``prev_hash`` must be the ``through_hash`` of the purge anchor naming the id before it; that
    anchor comes later in the chain (purges keep their anchor), so it is checked when reached."""
    prev: Any = None
    first: Any = None
    anchored = False
    checked = 0
    for row in rows:
        if prev is None:
            first = row
            anchored = row.id == 1
            if anchored and row.prev_hash != GENESIS:
                return _broken(checked, row.id, "首条记录的前一条哈希不是初始值")
        elif row.id != prev.id + 1:
            return _broken(checked, prev.id + 1, f"第 {prev.id + 1}–{row.id - 1} 条缺失（被删除）")
        elif row.prev_hash != prev.hash:
            return _broken(checked, row.id, "前一条哈希不符（前面的记录被删除、插入或修改）")
        if row.hash != row_hash(row.prev_hash, row):
            return _broken(checked, row.id, "内容与哈希不符（记录被修改）")
        if not anchored and row.action == PURGE_ACTION:
            detail = json.loads(row.detail or "{}")
            if detail.get("through_id") == first.id - 1:
                if detail.get("through_hash") != first.prev_hash:
                    return _broken(checked, first.id, "与清理锚点记下的哈希不符")
                anchored = True
        checked += 1
        prev = row
    if prev is None:
        return Verdict(True, 0)
    if not anchored:
        return _broken(checked, first.id, f"第 1–{first.id - 1} 条被删除，且没有清理锚点")
    return Verdict(True, checked, first_id=first.id, last_id=prev.id, last_hash=prev.hash)


def _broken(checked: int, at: int, reason: str) -> Verdict:
    return Verdict(False, checked, broken_at=at, reason=reason)


def chain_head(session: Session) -> tuple[int, str] | None:
    """The newest row's id and hash. The chain cannot show that rows were cut off its end, so the
    worker writes the head to its log every hour: logs shipped off the machine then anchor it."""
    row = session.execute(
        text("SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1")
    ).first()
    return None if row is None else (int(row.id), str(row.hash))


def verify(session: Session) -> Verdict:
    """Check the whole chain as stored, streamed in one statement (one consistent snapshot)."""
    return verify_rows(session.execute(_ROWS.execution_options(yield_per=2000)))
