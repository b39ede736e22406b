"""Reading the active grids by code."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.grids.models import Grid


def active_names(session: Session, codes: Sequence[str]) -> dict[str, str]:
    """``{code: name}`` for the active grids among ``codes`` (unknown codes are left out)."""
    rows = session.execute(
        select(Grid.code, Grid.name).where(Grid.code.in_(codes), Grid.status == "active")
    )
    return {code: name for code, name in rows}
