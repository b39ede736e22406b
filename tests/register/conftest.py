"""The register over the tiny county (tests/factories.py): worker S2 (李娜) serves grids G11 and
G12 of community C1; building B1 (3号楼, households 1-101 and 1-102) stands in G11, building B2
(和平苑1号楼) in G21 (community C2), which S2 does not serve."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import select

from app.buildings.models import Building
from app.staff.models import Staff
from tests.factories import C1, C2, COUNTY, tiny_county

# Valid resident ID numbers (GB 11643 check digit), written out by hand.
ID_A = "410102199003071230"  # male, born 1990-03-07
ID_B = "410102198511114562"  # female, born 1985-11-11
ID_C = "11010519700101002X"
ID_D = "410102201005200083"
ID_BAD_CHECK = "410102199003071231"  # ID_A with a wrong check digit


@dataclass
class World:
    b1: int
    b2: int
    worker: dict[str, str]
    worker2: dict[str, str]
    dispatcher: dict[str, str]
    dispatcher_c2: dict[str, str]
    admin: dict[str, str]
    auditor: dict[str, str]
    township_dispatcher: dict[str, str]


@pytest.fixture
def world(db, token_for) -> World:  # type: ignore[no-untyped-def]
    tiny_county(db)
    b2 = Building(
        code="B2",
        name="和平苑1号楼",
        community_code=C2,
        location=from_shape(Point(113.015, 34.005), srid=4490),
    )
    db.add(b2)
    db.flush()
    b1 = db.scalar(select(Building.id).where(Building.code == "B1"))
    s2 = db.scalar(select(Staff.id).where(Staff.code == "S2"))
    db.commit()
    return World(
        b1=b1,
        b2=b2.id,
        worker=token_for("grid_worker", "419901001", "lina", staff_id=s2),
        worker2=token_for("grid_worker", "419901001", "other_worker"),
        dispatcher=token_for("dispatcher", C1, "c1_dispatcher"),
        dispatcher_c2=token_for("dispatcher", C2, "c2_dispatcher"),
        admin=token_for("county_admin", COUNTY, "admin1"),
        auditor=token_for("auditor", COUNTY, "auditor1"),
        township_dispatcher=token_for("dispatcher", "419901001", "township_dispatcher"),
    )


def proposal(kind: str, action: str, fields: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "client_id": str(uuid.uuid4()),
        "kind": kind,
        "action": action,
        "fields": fields,
        **extra,
    }


def file_and_approve(client, world: World, body: dict[str, Any]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/register/proposals", json=body, headers=world.worker)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    r = client.post(f"/api/v1/register/proposals/{pid}/approve", headers=world.admin)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]
