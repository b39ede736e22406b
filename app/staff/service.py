"""Questions about staff answered from their assignments (``staff_assignments``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlalchemy.orm import Session


def worker_grids(session: Session, staff_id: int, on: dt.date) -> list[str]:
    """Grids a person leads, works in, or is linked to as a township cadre (联系网格干部, who visit
    households too: 走村不漏户、户户见干部) on a date."""
    return list(
        session.scalars(
            text(
                "SELECT DISTINCT grid_code FROM staff_assignments WHERE staff_id = :s "
                "AND role IN ('leader', 'worker', 'cadre') AND start_date <= :d "
                "AND (end_date IS NULL OR end_date >= :d) ORDER BY grid_code"
            ),
            {"s": staff_id, "d": on},
        )
    )
