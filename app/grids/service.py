"""Reading grids: the active ones by code, names over every version."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.scope import AreaScope
from app.grids.models import Grid


def active_names(session: Session, codes: Sequence[str]) -> dict[str, str]:
    """``{code: name}`` for the active grids among ``codes`` (unknown codes are left out)."""
    rows = session.execute(
        select(Grid.code, Grid.name).where(Grid.code.in_(codes), Grid.status == "active")
    )
    return {code: name for code, name in rows}


def grid_names(session: Session, scope: AreaScope) -> dict[str, str]:
    """``{code: name}`` for the grids in ``scope``, retired ones included (a period's cases may sit
    in a grid since replaced), each named by its latest version."""
    rows = session.execute(
        select(Grid.code, Grid.name)
        .where(scope.clause(Grid.code))
        .order_by(Grid.code, Grid.version.desc())
    )
    names: dict[str, str] = {}
    for code, name in rows:
        names.setdefault(code, name)
    return names
