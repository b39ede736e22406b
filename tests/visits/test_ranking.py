"""The due list's order (app/visits/ranking.py), with hand-written households: overdue special
groups first, never-visited ordinary households after them, then the rest."""

from __future__ import annotations

from dataclasses import dataclass

from app.visits.ranking import rank_due


@dataclass
class Due:
    household_id: int
    interval_days: int
    days_overdue: int | None
    special: bool


def test_special_groups_overdue_come_before_never_visited_ordinary_households():
    ordinary_never = Due(1, 365, None, False)
    ordinary_late = Due(2, 365, 200, False)
    petitioner_53 = Due(3, 14, 53, True)
    hardship_2 = Due(4, 30, 2, True)
    hardship_never = Due(5, 30, None, True)
    ordinary_today = Due(6, 365, 0, False)
    due = [ordinary_never, ordinary_late, petitioner_53, hardship_2, hardship_never, ordinary_today]
    rank_due(due)
    assert [d.household_id for d in due] == [5, 3, 4, 1, 2, 6]


def test_equal_lateness_tightest_cadence_then_id():
    due = [Due(9, 30, 5, True), Due(7, 14, 5, True), Due(8, 14, 5, True)]
    rank_due(due)
    assert [d.household_id for d in due] == [7, 8, 9]
