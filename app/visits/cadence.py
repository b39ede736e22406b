"""Visit cadence rules as data (``cadence.json``): how often each household must be visited."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.buildings.models import SPECIAL_GROUPS

RULES_FILE = Path(__file__).with_name("cadence.json")


@dataclass(frozen=True)
class CadenceRule:
    name: str
    label: str
    groups: tuple[str, ...] | None  # None: every household
    interval_days: int

    def applies(self, groups: list[str] | tuple[str, ...]) -> bool:
        return self.groups is None or bool(set(self.groups) & set(groups))


def parse_rules(data: dict[str, Any]) -> tuple[CadenceRule, ...]:
    """Rules sorted tightest first; raises ValueError on an unknown group or a bad interval."""
    rules = []
    for raw in data["rules"]:
        groups = raw.get("groups")
        if groups is not None:
            unknown = set(groups) - set(SPECIAL_GROUPS)
            if unknown:
                raise ValueError(f"cadence rule {raw['name']}: unknown groups {sorted(unknown)}")
        days = int(raw["interval_days"])
        if days <= 0:
            raise ValueError(f"cadence rule {raw['name']}: interval_days must be > 0")
        rules.append(
            CadenceRule(raw["name"], raw["label"], tuple(groups) if groups else None, days)
        )
    if not any(r.groups is None for r in rules):
        raise ValueError("cadence rules need one rule for every household (groups: null)")
    return tuple(sorted(rules, key=lambda r: r.interval_days))


@lru_cache
def load_rules(path: Path = RULES_FILE) -> tuple[CadenceRule, ...]:
    return parse_rules(json.loads(path.read_text(encoding="utf-8")))


def rule_for(groups: list[str] | tuple[str, ...], rules: tuple[CadenceRule, ...]) -> CadenceRule:
    """The tightest rule that applies (the catch-all rule always does)."""
    return next(r for r in rules if r.applies(groups))


def interval_sql(
    rules: tuple[CadenceRule, ...], column: str = "h.special_groups"
) -> tuple[str, dict[str, Any]]:
    """A SQL CASE giving each household's interval in days, with its bind parameters.

    ``column`` is ours (never user input); the groups travel as bound arrays.
    """
    parts, params = [], {}
    default = 365
    for i, rule in enumerate(rules):
        if rule.groups is None:
            default = rule.interval_days
            break
        parts.append(f"WHEN {column} && CAST(:cad_g{i} AS varchar[]) THEN {rule.interval_days}")
        params[f"cad_g{i}"] = list(rule.groups)
    return f"(CASE {' '.join(parts)} ELSE {default} END)", params


def required_visits(period_days: int, interval_days: int) -> int:
    """Visits a household on this cadence needs in a period: one per full interval, at least one."""
    return max(1, period_days // interval_days)
