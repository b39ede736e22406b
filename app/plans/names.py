"""One name for each grid of a plan: a new grid is named once, when it is made (新网格N, the next
number unused in the plan), and keeps that name in the table, on the map, in validation messages,
in exports and after approval (app/plans/approval.py writes it to the live grid)."""

from __future__ import annotations

import re
from collections.abc import Iterable

_NEW = re.compile(r"^新网格(\d+)$")


def new_grid_names(taken: Iterable[str], n: int) -> list[str]:
    """``n`` fresh names 新网格N numbered after the highest one already in ``taken``.

    >>> new_grid_names(["城关一网格", "新网格2"], 2)
    ['新网格3', '新网格4']
    """
    numbers = [int(m.group(1)) for name in taken if (m := _NEW.match(name))]
    start = max(numbers, default=0) + 1
    return [f"新网格{start + i}" for i in range(n)]
