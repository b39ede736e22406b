"""The order of a worker's due list (docs/domain.md#visit-cadences): the one ranking rule.

1. Special-group households before ordinary ones: a special household overdue by weeks matters more
   than an ordinary one never visited (an ordinary household is due once a year).
2. Within each band, never visited first, then the most days overdue.
3. Then the tightest cadence, then the household id (a stable order for equal cases).

Which households are due (and in which grid) is ``service.due_list``'s; this module only orders them.
"""

from __future__ import annotations

from typing import Protocol, TypeVar


class Ranked(Protocol):
    household_id: int
    interval_days: int
    days_overdue: int | None  # None: never visited

    @property
    def special(self) -> bool: ...


def due_rank(d: Ranked) -> tuple[bool, bool, int, int, int]:
    """Sort key: smaller comes first."""
    return (
        not d.special,
        d.days_overdue is not None,
        -(d.days_overdue or 0),
        d.interval_days,
        d.household_id,
    )


R = TypeVar("R", bound=Ranked)


def rank_due(due: list[R]) -> None:
    """Order ``due`` in place by ``due_rank``."""
    due.sort(key=due_rank)
