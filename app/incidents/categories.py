"""Categories as data: read the two-level table from a CSV file and upsert it (migration, demo, CLI).

Upsert by code keeps case references valid; a class missing from the file is left as it is (an
admin may have added it through the API), never deleted.

``sensitive`` (yes/no) says whether cases of a class are kept off every public surface (the Open311
listing, the public duplicate hint): see docs/public.md#sensitive-categories for the rule. A blank
or missing value means sensitive, as does the column's database default: a class nobody has
judged is not published.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, TextClause, text
from sqlalchemy.orm import Session

from app.incidents.calendar import UNITS

DEFAULT_FILE = Path(__file__).with_name("data") / "categories.csv"
TIER_NAMES = ("grid", "community", "township", "county")
_YES = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}


def read_category_file(path: Path) -> list[dict[str, Any]]:
    """Rows of the category CSV, validated; parents come before their children."""
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for n, raw in enumerate(csv.DictReader(fh), start=2):
            row = {k: (v or "").strip() for k, v in raw.items()}
            if not row["code"] or not row["name"]:
                raise ValueError(f"{path.name}:{n}: code and name are required")
            if row["default_tier"] not in TIER_NAMES:
                raise ValueError(f"{path.name}:{n}: default_tier {row['default_tier']!r}")
            for unit in ("limit_unit", "urgent_limit_unit"):
                if row[unit] and row[unit] not in UNITS:
                    raise ValueError(f"{path.name}:{n}: {unit} {row[unit]!r}")
            flag = row.get("sensitive", "").lower()
            if flag and flag not in _YES:
                raise ValueError(f"{path.name}:{n}: sensitive {row['sensitive']!r} (yes or no)")
            rows.append(
                {
                    "code": row["code"],
                    "parent_code": row["parent_code"] or None,
                    "name": row["name"],
                    "default_tier": row["default_tier"],
                    "limit_value": float(row["limit_value"]) if row["limit_value"] else None,
                    "limit_unit": row["limit_unit"] or None,
                    "urgent_limit_value": float(row["urgent_limit_value"])
                    if row["urgent_limit_value"]
                    else None,
                    "urgent_limit_unit": row["urgent_limit_unit"] or None,
                    "open_condition": row["open_condition"],
                    "close_condition": row["close_condition"],
                    "sensitive": _YES.get(flag, True),
                }
            )
    rows.sort(key=lambda r: (r["parent_code"] is not None, r["code"]))
    return rows


def close_photo_required(close_condition: str) -> bool:
    """Whether handling a case of this class must come with a photo of the site: its close
    condition (结案条件, the category table's data) asks for one, as 环境卫生 "现场清理完毕并有照片"
    and 城市管理 "现场恢复正常并有照片" do. The one place this is decided: the handle move refuses
    without a photo (app/incidents/handling.py) and the category API tells the phone."""
    return "照片" in close_condition


# Every column a category file or the API may set; a row may carry fewer (migration 0002 predates
# ``sensitive``), and only the columns it carries are written.
COLUMNS = (
    "code",
    "parent_code",
    "name",
    "default_tier",
    "limit_value",
    "limit_unit",
    "urgent_limit_value",
    "urgent_limit_unit",
    "open_condition",
    "close_condition",
    "sensitive",
)


@lru_cache
def _upsert(columns: tuple[str, ...]) -> TextClause:
    names = ", ".join(columns)
    values = ", ".join(f":{c}" for c in columns)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != "code")
    return text(
        f"INSERT INTO incident_categories ({names}) VALUES ({values}) "
        f"ON CONFLICT (code) DO UPDATE SET {updates}"
    )


def upsert_categories(conn: Connection | Session, rows: list[dict[str, Any]]) -> int:
    for row in rows:
        conn.execute(_upsert(tuple(c for c in COLUMNS if c in row)), row)
    return len(rows)


@dataclass(frozen=True)
class CategoryRule:
    """What intake needs from a category row (a plain copy, safe to share between threads)."""

    code: str
    name: str
    parent_code: str | None
    default_tier: str
    limit_value: float | None
    limit_unit: str | None
    urgent_limit_value: float | None
    urgent_limit_unit: str | None
    active: bool
    sensitive: bool


_RULES = text(
    "SELECT code, name, parent_code, default_tier, limit_value, limit_unit, urgent_limit_value, "
    "urgent_limit_unit, active, sensitive FROM incident_categories"
)


class CategoryCache:
    """A per-process copy of the (small, rarely edited) category table for the intake hot path.

    Never trusted blindly: the intake INSERT only goes ahead while the row in the database still
    matches the copy (see ``service._INTAKE``); on a mismatch the caller reloads and tries again, so
    an edit made through another process is seen at the next report of that category.
    """

    def __init__(self) -> None:
        self._rules: dict[str, CategoryRule] = {}

    def get(self, session: Session, code: str, *, reload: bool = False) -> CategoryRule | None:
        if reload or code not in self._rules:
            # Replaced whole, never mutated: readers in other threads see the old or the new dict.
            self._rules = {r.code: CategoryRule(**r._mapping) for r in session.execute(_RULES)}
        return self._rules.get(code)
