"""The tiny county (tests/factories.py) with two county departments and their members, for the
party-building and task admission tests (docs/party.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.staff.models import Staff
from app.units.models import Unit, UnitMember
from tests.factories import tiny_county

# 民政局 has one member (mzj), 住建局 one (zjj); 派出所 stands in the township only.
DEPTS = (
    ("dept-mz", "县民政局", "department", "419901"),
    ("dept-zj", "县住建局", "department", "419901"),
)


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    tiny_county(db)
    db.add_all(Unit(code=c, name=n, kind=k, area_code=a) for c, n, k, a in DEPTS)
    db.flush()
    start = dt.date(2026, 1, 1)
    db.add_all(
        [
            UnitMember(unit_code="dept-mz", username="mzj", valid_from=start),
            UnitMember(unit_code="dept-zj", username="zjj", valid_from=start),
        ]
    )
    db.commit()
    return {s.code: s.id for s in db.scalars(select(Staff))}


@pytest.fixture
def api(app_factory, world):  # type: ignore[no-untyped-def]
    with TestClient(app_factory()) as c:
        yield c
