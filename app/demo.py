"""``gridgov demo``: load the synthetic demo county (示范县) from data/boundaries, then demo users.

Later features add their own demo steps to DEMO_STEPS (incidents, visits...). Every step is
idempotent, so running the demo twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.addresses.service import sync_rooms
from app.admission.demo import demo_admission_step
from app.auth.models import User
from app.auth.passwords import DEMO_PASSWORD
from app.auth.schemas import UserCreate
from app.auth.service import create_user
from app.imports.report import ImportReport
from app.imports.service import run_import
from app.incidents.demo import demo_incidents_step
from app.microgrids.demo import demo_micro_grids_step
from app.register.demo import demo_register_step
from app.units.demo import demo_units_step
from app.visits.demo import demo_visits_step

DEMO_DIR = Path(__file__).resolve().parent.parent / "data" / "boundaries"
COUNTY_CODE = "419901"

# (kind, file, crs): the order matters, each kind refers to the one before.
DEMO_FILES = [
    ("areas", "demo_areas.geojson", None),
    ("grids", "demo_grids.gpkg", None),
    ("buildings", "demo_buildings.gpkg", None),
    ("buildings", "demo_survey_gcj02.csv", "gcj02"),
    ("households", "demo_households.csv", None),
    ("staff", "demo_staff.csv", None),
    ("barriers", "demo_roads.geojson", None),
    # standard addresses: streets and door numbers (docs/addresses.md)
    ("roads", "demo_streets.geojson", None),
    ("door_numbers", "demo_door_numbers.csv", None),
]

# username, role, jurisdiction, full name, staff code (the grid worker is 白磊, worker of grid
# 419901001001001 in demo_staff.csv, so the phone page shows his due visits).
DEMO_USERS = [
    ("admin", "county_admin", COUNTY_CODE, "县级管理员", None),
    ("planner", "planner", COUNTY_CODE, "网格规划员", None),
    ("dispatcher", "dispatcher", COUNTY_CODE, "县指挥中心调度员", None),
    ("street_dispatcher", "dispatcher", COUNTY_CODE + "001", "街道调度员", None),
    ("worker", "grid_worker", COUNTY_CODE + "001", "白磊", "S00002"),
    ("auditor", "auditor", COUNTY_CODE, "督查审计员", None),
    # Staff of responsible units (app/units/demo.py makes them members of their unit).
    ("cgj", "unit_handler", COUNTY_CODE, "城管执法局承办员", None),
    ("pcs", "unit_handler", COUNTY_CODE + "001", "城关派出所民警", None),
]


def load_demo_files(session: Session, data_dir: Path = DEMO_DIR) -> list[ImportReport]:
    reports = []
    for kind, name, crs in DEMO_FILES:
        report = run_import(session, kind=kind, path=data_dir / name, crs=crs, commit=True)
        if report.rejected and kind not in ("staff",):
            first = report.rejected[0]
            raise RuntimeError(
                f"demo {name}: {len(report.rejected)} rows rejected, e.g. #{first.feature}: {first.reason}"
            )
        reports.append(report)
    sync_rooms(session)  # the flats the demo households name get their unit and room rows
    return reports


def load_demo_users(session: Session) -> int:
    created = 0
    for username, role, jurisdiction, full_name, staff_code in DEMO_USERS:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            create_user(
                session,
                data=UserCreate(
                    username=username,
                    password=DEMO_PASSWORD,
                    role=role,
                    jurisdiction_code=jurisdiction,
                    staff_code=staff_code,
                    full_name=full_name,
                ),
                demo_password=True,  # the one place the (publicly known) demo password is set
            )
            created += 1
    return created


DemoStep = Callable[[Session], str]


def _files_step(session: Session) -> str:
    return "\n".join(r.render() for r in load_demo_files(session))


def _users_step(session: Session) -> str:
    return f"演示账号：新建 {load_demo_users(session)} 个（密码 {DEMO_PASSWORD}）"


DEMO_STEPS: list[DemoStep] = [_files_step, _users_step]
# micro-grids (微网格) in one grid, synthetic and labelled (docs/domain.md#micro-grids)
DEMO_STEPS.append(demo_micro_grids_step)
# visits: a year with realistic gaps (docs/domain.md#visits)
DEMO_STEPS.append(demo_visits_step)
# incidents: 90 days in every state (docs/domain.md#incident-lifecycle)
# responsible units and the routing table (docs/domain.md#responsible-units), before the cases:
# demo cases past dispatch are with the unit of their tier
DEMO_STEPS.append(demo_units_step)
DEMO_STEPS.append(demo_incidents_step)
# the register (实有人口、房屋、单位), synthetic and labelled (docs/register.md#demo)
DEMO_STEPS.append(demo_register_step)


# the county's task admission list (docs/party.md#task-admission)
DEMO_STEPS.append(demo_admission_step)


def load_demo(session: Session) -> list[str]:
    return [step(session) for step in DEMO_STEPS]


def demo_loaded(session: Session) -> bool:
    from app.areas.models import Area

    return session.scalar(select(Area.id).where(Area.code == COUNTY_CODE)) is not None
