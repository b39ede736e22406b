"""Reading the current administrative areas by code."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.areas.models import Area


def current_area(session: Session, code: str) -> dict[str, Any] | None:
    """The current area ``code`` as {code, name, level, parent_code}, or None."""
    row = session.execute(
        select(Area.code, Area.name, Area.level, Area.parent_code).where(
            Area.code == code, Area.valid_to.is_(None)
        )
    ).first()
    return None if row is None else row._asdict()


def current_names(session: Session, codes: Sequence[str]) -> dict[str, str]:
    """``{code: name}`` for the current areas among ``codes`` (unknown codes are left out)."""
    rows = session.execute(
        select(Area.code, Area.name).where(Area.code.in_(codes), Area.valid_to.is_(None))
    )
    return {code: name for code, name in rows}
