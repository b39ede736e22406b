"""The demo county's admission list (docs/party.md#task-admission): the kinds of work grid workers may
be given, from ``data/admission_list.csv`` (a starting list for a county to edit, not a standard)."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.admission.models import TaskKind

DEFAULT_LIST = Path(__file__).parent / "data" / "admission_list.csv"
DEMO_COUNTY = "419901"  # the synthetic demo county (data/boundaries/README.md)


def load_admission_list(session: Session, county_code: str, path: Path = DEFAULT_LIST) -> int:
    """Put the file's kinds on ``county_code``'s list (those already there are left as they are);
    returns how many were added."""
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    have = set(session.scalars(select(TaskKind.name).where(TaskKind.county_code == county_code)))
    added = [
        TaskKind(
            county_code=county_code, name=r["name"], description=r["description"], updated_by="demo"
        )
        for r in rows
        if r["name"] not in have
    ]
    session.add_all(added)
    session.flush()
    return len(added)


def demo_admission_step(session: Session) -> str:
    return f"网格事务准入清单：新增 {load_admission_list(session, DEMO_COUNTY)} 项"
