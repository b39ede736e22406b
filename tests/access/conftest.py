"""The role × jurisdiction matrix's world (tests/access/test_matrix.py), built once per module.

Two townships of the tiny county (tests/factories.py): A = 419901001 (the tiny county itself) and
B = 419901002 (added here). Each has a grid with a leader, a building with a household and a
special-group household, a visit, an open case, a plan, an audit run with findings and an access-log
entry, every one carrying a marker string that belongs to that township alone (``MARKERS``): the
matrix looks for B's markers in every answer to a caller of township A.

Everything lives in one transaction on one connection, rolled back when the module ends; the two
apps (application filters on, and off so that row-level security holds alone) share it, and each of
their sessions is a savepoint in it, like the ``app_factory`` of tests/conftest.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from geoalchemy2.shape import from_shape
from shapely.geometry import Point, box
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.conftest import rolled_back_connection
from tests.factories import C1, COUNTY, G11, TOWNSHIP, add_area, add_grid, mp, tiny_county

TOWNSHIP_A = TOWNSHIP
TOWNSHIP_B = "419901002"
COMMUNITY_B = TOWNSHIP_B + "001"
GRID_B = COMMUNITY_B + "001"
BJ = dt.timezone(dt.timedelta(hours=8))
TODAY = dt.datetime.now(BJ).date()

# What belongs to one township only. Names and phones are spelled so that no other record (and no
# masked form: 欧*甲, 136****0001) contains them.
MARKERS: dict[str, dict[str, str]] = {
    "A": {
        "case_no": "MTX-A-0001",
        "case_text": "甲镇路灯坏了矩阵",
        "case_note": "甲镇派遣备注",
        "reporter_phone": "13611119999",
        "head": "欧阳甲户",
        "head_masked": "欧**户",
        "head_phone": "13611110001",
        "special_head": "司马甲特",
        "special_masked": "司**特",
        "special_phone": "13611110002",
        "leader_phone": "13812345678",  # tiny_county's leader of G11
        "plan": "甲镇矩阵方案",
        "building": "阳光花园",
        "building_code": "B1",  # tiny_county's
        "reader": "reader_of_a",
        "grid": G11,
        "township": TOWNSHIP_A,
    },
    "B": {
        "case_no": "MTX-B-0001",
        "case_text": "乙镇井盖丢失矩阵",
        "case_note": "乙镇派遣备注",
        "reporter_phone": "13622229999",
        "head": "上官乙户",
        "head_masked": "上**户",
        "head_phone": "13622220001",
        "special_head": "诸葛乙特",
        "special_masked": "诸**特",
        "special_phone": "13622220002",
        "leader_phone": "13700009999",
        "plan": "乙镇矩阵方案",
        "building": "东城花园",
        "building_code": "MTXB9",
        "reader": "reader_of_b",
        "grid": GRID_B,
        "township": TOWNSHIP_B,
    },
}


@dataclass
class World:
    """Ids of each township's records, by township ("A", "B")."""

    case: dict[str, int] = field(default_factory=dict)
    case_token: dict[str, str] = field(default_factory=dict)
    household: dict[str, int] = field(default_factory=dict)
    special: dict[str, int] = field(default_factory=dict)
    visit: dict[str, int] = field(default_factory=dict)
    plan: dict[str, int] = field(default_factory=dict)
    audit: dict[str, int] = field(default_factory=dict)
    staff_worker: int = 0
    point: dict[str, tuple[float, float]] = field(default_factory=dict)
    address: dict[str, str] = field(default_factory=dict)
    unit: dict[str, str] = field(default_factory=dict)  # a responsible unit of each township
    # The register's records of each township (tests/register/matrix_world.py)
    register: dict[str, dict[str, int]] = field(default_factory=dict)
    # Party organisations, 双报到 and grid tasks of each township (tests/party/matrix_world.py)
    party: dict[str, dict[str, int]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def matrix_connection(engine: Engine) -> Iterator[Any]:
    with rolled_back_connection(engine) as conn:
        yield conn


def _session(conn: Any) -> Session:
    return Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)


def _build(db: Session) -> World:
    from app.audits.service import run_audit
    from app.auth.policy import system_principal
    from app.auth.scope import scope_of
    from app.buildings.models import Building, Household
    from app.households.models import AccessLog
    from app.incidents.models import Incident, IncidentCategory, IncidentEvent
    from app.plans.models import Plan, PlanGrid
    from app.staff.models import Staff, StaffAssignment
    from app.units.models import RoutingRule, Unit, UnitMember
    from app.visits.models import Visit

    world = World()
    tiny_county(db)
    add_area(db, TOWNSHIP_B, "东城镇", "township", "town", box(113.02, 34.0, 113.04, 34.01), COUNTY)
    add_area(
        db,
        COMMUNITY_B,
        "东城村",
        "community",
        "village",
        box(113.02, 34.0, 113.04, 34.01),
        TOWNSHIP_B,
    )
    add_grid(db, GRID_B, box(113.02, 34.0, 113.04, 34.01), name="东城村第1网格")
    leader_b = Staff(code="S9", name="赵敏", phone=MARKERS["B"]["leader_phone"])
    db.add(leader_b)
    db.flush()
    db.add(
        StaffAssignment(
            staff_id=leader_b.id, grid_code=GRID_B, role="leader", start_date="2026-01-01"
        )
    )
    building_b = Building(
        code=MARKERS["B"]["building_code"],
        name="9号楼",
        compound=MARKERS["B"]["building"],
        address="示范县东城镇东城村东城花园9号楼",
        community_code=COMMUNITY_B,
        household_count=2,
        location=from_shape(Point(113.03, 34.005), srid=4490),
    )
    db.add(building_b)
    db.flush()
    for room, groups in (("201", []), ("202", ["elderly_alone"])):
        db.add(
            Household(
                building_id=building_b.id,
                unit="1",
                room=room,
                location=building_b.location,
                special_groups=groups,
            )
        )
    db.flush()
    world.point = {"A": (113.002, 34.005), "B": (113.03, 34.005)}
    world.address = {
        "A": "示范县城关街道幸福社区阳光花园3号楼",
        "B": "示范县东城镇东城村东城花园9号楼",
    }
    buildings = {"A": db.query(Building).filter_by(code="B1").one(), "B": building_b}
    for t in ("A", "B"):
        plain, special = (
            db.query(Household)
            .filter_by(building_id=buildings[t].id)
            .order_by(Household.special_groups.is_not(None), Household.room)
            .all()
        )
        if plain.special_groups:
            plain, special = special, plain
        m = MARKERS[t]
        plain.head_name, plain.phone = m["head"], m["head_phone"]
        special.head_name, special.phone = m["special_head"], m["special_phone"]
        world.household[t], world.special[t] = plain.id, special.id
    db.flush()
    from tests.register.matrix_world import add_register

    world.register = add_register(db, MARKERS, {t: buildings[t].id for t in ("A", "B")})

    worker = db.query(Staff).filter_by(code="S2").one()  # serves G11 and G12 in township A
    world.staff_worker = worker.id
    at = dt.datetime.combine(TODAY, dt.time(9), BJ)
    for t, grid in (("A", G11), ("B", GRID_B)):
        v = Visit(
            worker_id=worker.id,
            household_id=world.special[t],
            grid_code=grid,
            visited_at=at,
            kind="routine",
            recorded_by="matrix",
            notes=f"{MARKERS[t]['head']}走访",
            location=from_shape(Point(*world.point[t]), srid=4490),
        )
        db.add(v)
        db.flush()
        world.visit[t] = v.id
        db.add(
            AccessLog(
                username=MARKERS[t]["reader"],
                role="dispatcher",
                household_id=world.special[t],
                purpose=f"GET /api/v1/households/{world.special[t]}",
            )
        )

    # A category the public listing shows (not sensitive), so Open311 has the cases to leave out.
    category = IncidentCategory(code="MX01", name="矩阵测试", sensitive=False)
    db.add(category)
    db.flush()
    # A stationed agency per township, its cases and a routing rule; A's has the matrix's unit
    # handler as a member (the unit handler sees the cases of their unit only).
    for t in ("A", "B"):
        code = MARKERS[t]["township"]
        world.unit[t] = f"matrix-{code}"
        db.add(Unit(code=world.unit[t], name=f"派出所{t}", kind="agency", area_code=code))
        db.flush()
        db.add(RoutingRule(category_code=category.code, area_code=code, unit_code=world.unit[t]))
    db.add(UnitMember(unit_code=world.unit["A"], username="matrix_unit_handler", valid_from=TODAY))
    now = dt.datetime.now(dt.UTC)
    for t, grid in (("A", G11), ("B", GRID_B)):
        m = MARKERS[t]
        inc = Incident(
            unit_code=world.unit[t],
            case_no=m["case_no"],
            token=f"matrix-token-{t}",
            category_code=category.code,
            description=m["case_text"],
            reporter_name=f"{m['head']}报",
            reporter_phone=m["reporter_phone"],
            grid_code=grid,
            community_code=grid[:12],
            township_code=grid[:9],
            locate={},
            reported_at=now - dt.timedelta(hours=1),
            deadline=now + dt.timedelta(days=2),
            state="dispatched",
            assignee=f"处置人{t}",
            location=from_shape(Point(*world.point[t]), srid=4490),
        )
        db.add(inc)
        db.flush()
        db.add(
            IncidentEvent(
                incident_id=inc.id,
                action="dispatch",
                from_state="registered",
                to_state="dispatched",
                actor="matrix",
                role="dispatcher",
                note=m["case_note"],
            )
        )
        world.case[t], world.case_token[t] = inc.id, inc.token

    for t, community, grid, shape in (
        ("A", C1, G11, box(113.0, 34.0, 113.005, 34.01)),
        ("B", COMMUNITY_B, GRID_B, box(113.02, 34.0, 113.04, 34.01)),
    ):
        plan = Plan(
            community_code=community, name=MARKERS[t]["plan"], source="current", created_by="matrix"
        )
        db.add(plan)
        db.flush()
        db.add(
            PlanGrid(
                plan_id=plan.id,
                code=grid,
                name=f"{MARKERS[t]['plan']}网格",
                geom=mp(shape),
                households=2,
            )
        )
        db.flush()
        world.plan[t] = plan.id

    from tests.party.matrix_world import add_party

    world.party = add_party(db, MARKERS, world.unit, TODAY)
    system = scope_of(system_principal("matrix"))
    for t in ("A", "B"):
        world.audit[t] = run_audit(db, scope=system.narrow(MARKERS[t]["township"])).id
    db.commit()
    return world


@pytest.fixture(scope="module")
def matrix_world(matrix_connection: Any) -> World:
    db = _session(matrix_connection)
    try:
        return _build(db)
    finally:
        db.close()


# The callers: every role with township A as jurisdiction (the public: the county, which gives it
# no scope at all), and the anonymous caller. Values: the token, None for anonymous.
ROLES = [
    "county_admin",
    "planner",
    "dispatcher",
    "grid_worker",
    "auditor",
    "unit_handler",
    "public",
    "anonymous",
]


@pytest.fixture(scope="module")
def matrix_tokens(matrix_connection: Any, matrix_world: World) -> dict[str, dict[str, str]]:
    """Bearer headers per caller ({} for anonymous), plus "county_wide": a county admin of the
    whole county, for whom township B's markers must show (the markers are findable at all)."""
    from tests.conftest import token_maker

    make, db = token_maker(matrix_connection)
    try:
        headers: dict[str, dict[str, str]] = {"anonymous": {}}
        for role in ROLES[:-1]:
            jurisdiction = COUNTY if role == "public" else TOWNSHIP_A
            staff = matrix_world.staff_worker if role == "grid_worker" else None
            headers[role] = make(role, jurisdiction, f"matrix_{role}", staff_id=staff)
        headers["county_wide"] = make("county_admin", COUNTY, "matrix_county_wide")
        return headers
    finally:
        db.close()


@pytest.fixture(scope="module")
def matrix_clients(
    matrix_connection: Any, matrix_world: World, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, TestClient]]:
    """One app per mode: "filters" (as deployed) and "rls_only" (application filters off)."""
    from app.db import AccessSession
    from app.main import create_app
    from app.settings import Settings

    conn = matrix_connection

    class _RequestSession(AccessSession):
        def close(self) -> None:
            super().close()
            conn.exec_driver_sql("RESET ROLE")

    def factory() -> Session:
        return _RequestSession(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )

    data_dir = tmp_path_factory.mktemp("matrix")
    clients = {}
    for mode, filters in (("filters", True), ("rls_only", False)):
        settings = Settings(
            environment="test",
            locate_refresh_seconds=0,
            data_dir=data_dir,
            access_app_filters=filters,
        )
        clients[mode] = TestClient(create_app(settings, session_factory=factory))
        clients[mode].__enter__()
    try:
        yield clients
    finally:
        for c in clients.values():
            c.__exit__(None, None, None)
        conn.exec_driver_sql("RESET ROLE")
