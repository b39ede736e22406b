"""Workforce duties as data (``rules.json``), one set per county (docs/duties.md).

The file holds a ``default`` set and, under ``counties``, the keys a county changes. ``rules_for``
answers a county's effective rules; a malformed file is refused when it is read (ValueError naming
the key), never half-applied.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

RULES_FILE = Path(__file__).with_name("rules.json")
_CLASS_CODE = re.compile(r"^[0-9]{2}([0-9]{2})*$")
_COUNTY_CODE = re.compile(r"^[0-9]{6}$")
EMPLOYMENTS = ("full_time", "part_time")


@dataclass(frozen=True)
class ArrivalRule:
    """四必到: a case of ``categories`` in a grid asks a worker there within ``within_days``."""

    kind: str
    label: str
    categories: tuple[str, ...]  # incident class codes; a class covers its small classes
    within_days: int

    def matches(self, category_code: str) -> bool:
        return any(category_code.startswith(c) for c in self.categories)


@dataclass(frozen=True)
class DutyRules:
    arrivals: tuple[ArrivalRule, ...]
    arrival_lookback_days: int
    field_days_per_month: tuple[tuple[str, int], ...]  # (employment, minimum days)
    full_time_worker_per_grid: bool
    cadre_visit_every_household_days: int

    def field_days(self, employment: str) -> int:
        return dict(self.field_days_per_month).get(employment, 0)

    def arrival(self, category_code: str) -> ArrivalRule | None:
        """The rule a case of this class falls under (the first listed), or None."""
        return next((r for r in self.arrivals if r.matches(category_code)), None)


def _positive(raw: dict[str, Any], key: str, where: str, *, zero: bool = False) -> int:
    value = raw[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < (0 if zero else 1):
        raise ValueError(f"{where}: {key} must be an integer {'>= 0' if zero else '> 0'}")
    return value


def parse_rules(raw: dict[str, Any], where: str = "default") -> DutyRules:
    """One complete rule set; raises ValueError naming what is wrong."""
    missing = {
        "arrivals",
        "arrival_lookback_days",
        "field_days_per_month",
        "full_time_worker_per_grid",
        "cadre_visit_every_household_days",
    } - set(raw)
    if missing:
        raise ValueError(f"{where}: missing {sorted(missing)}")
    arrivals, kinds = [], set()
    for a in raw["arrivals"]:
        cats = tuple(a.get("categories") or ())
        if not cats or any(not _CLASS_CODE.match(str(c)) for c in cats):
            raise ValueError(f"{where}: arrival {a.get('kind')}: categories must be class codes")
        if a["kind"] in kinds:
            raise ValueError(f"{where}: arrival kind {a['kind']} listed twice")
        kinds.add(a["kind"])
        arrivals.append(
            ArrivalRule(a["kind"], a["label"], cats, _positive(a, "within_days", where))
        )
    days = raw["field_days_per_month"]
    if set(days) - set(EMPLOYMENTS):
        raise ValueError(f"{where}: field_days_per_month keys are {EMPLOYMENTS}")
    for k in days:
        if _positive(days, k, where, zero=True) > 31:
            raise ValueError(f"{where}: field_days_per_month.{k} is more than a month")
    if not isinstance(raw["full_time_worker_per_grid"], bool):
        raise ValueError(f"{where}: full_time_worker_per_grid must be true or false")
    return DutyRules(
        arrivals=tuple(arrivals),
        arrival_lookback_days=_positive(raw, "arrival_lookback_days", where),
        field_days_per_month=tuple(sorted((k, int(v)) for k, v in days.items())),
        full_time_worker_per_grid=raw["full_time_worker_per_grid"],
        cadre_visit_every_household_days=_positive(raw, "cadre_visit_every_household_days", where),
    )


@dataclass(frozen=True)
class DutyBook:
    """Every county's rules: the default and the counties that change it."""

    default: DutyRules
    counties: tuple[tuple[str, DutyRules], ...]

    def rules_for(self, county_code: str) -> DutyRules:
        return dict(self.counties).get(county_code[:6], self.default)


def parse_book(data: dict[str, Any]) -> DutyBook:
    default_raw = data["default"]
    default = parse_rules(default_raw)
    counties = []
    for code, changes in (data.get("counties") or {}).items():
        if not _COUNTY_CODE.match(code):
            raise ValueError(f"counties: {code!r} is not a 6-digit county code")
        unknown = set(changes) - set(default_raw)
        if unknown:
            raise ValueError(f"county {code}: unknown keys {sorted(unknown)}")
        counties.append((code, parse_rules({**default_raw, **changes}, f"county {code}")))
    return DutyBook(default, tuple(sorted(counties)))


@lru_cache
def load_book(path: Path = RULES_FILE) -> DutyBook:
    return parse_book(json.loads(path.read_text(encoding="utf-8")))
