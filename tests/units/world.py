"""Responsible units for the tiny county (tests/factories.py), made by hand for unit and lifecycle
tests: the tier units, two county departments and a stationed agency, their staff, and a grid
worker for each community.

    county-419901            示范县网格化服务管理中心 (county)
    township-419901001       城关街道 (township)
    community-<C1>, -<C2>    幸福社区, 和平社区
    grid-<G11>, -<G12>, -<G21>
    dept-cgzf                城管执法局 (department, 419901): member cg1
    dept-zj                  住建局 (department, 419901): member zj1; zj_old (membership ended)
    agency-pcs-c2            和平派出所 (agency, C2 only): member pcs1
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from app.auth.models import User
from app.staff.models import Staff, StaffAssignment
from app.units.models import Unit, UnitMember
from tests.factories import C1, C2, COUNTY, G11, G12, G21, TOWNSHIP

CG, ZJ, PCS = "dept-cgzf", "dept-zj", "agency-pcs-c2"


def add_units(db: Session) -> None:
    rows = [
        ("county-" + COUNTY, "示范县网格化服务管理中心", "county", COUNTY, None),
        ("township-" + TOWNSHIP, "城关街道", "township", TOWNSHIP, "county-" + COUNTY),
        ("community-" + C1, "幸福社区", "community", C1, "township-" + TOWNSHIP),
        ("community-" + C2, "和平社区", "community", C2, "township-" + TOWNSHIP),
        ("grid-" + G11, "幸福社区第1网格", "grid", G11, "community-" + C1),
        ("grid-" + G12, "幸福社区第2网格", "grid", G12, "community-" + C1),
        ("grid-" + G21, "和平社区第1网格", "grid", G21, "community-" + C2),
        (CG, "城管执法局", "department", COUNTY, "county-" + COUNTY),
        (ZJ, "住建局", "department", COUNTY, "county-" + COUNTY),
        (PCS, "和平派出所", "agency", C2, "county-" + COUNTY),
    ]
    for code, name, kind, area, parent in rows:
        db.add(Unit(code=code, name=name, kind=kind, area_code=area, parent_code=parent))
        db.flush()
    today = dt.date.today()
    for code, username, full_name, start, end in [
        (CG, "cg1", "城管王强", dt.date(2026, 1, 1), None),
        (ZJ, "zj1", "住建刘洋", dt.date(2026, 1, 1), None),
        (ZJ, "zj_old", "住建旧人", dt.date(2025, 1, 1), today - dt.timedelta(days=1)),
        (PCS, "pcs1", "民警赵磊", dt.date(2026, 1, 1), None),
    ]:
        db.add(UnitMember(unit_code=code, username=username, valid_from=start, valid_to=end))
        if db.query(User).filter_by(username=username).first() is None:
            db.add(
                User(
                    username=username,
                    full_name=full_name,
                    password_hash="!",
                    role="unit_handler",
                    jurisdiction_code=COUNTY if code != PCS else C2,
                )
            )
    # A grid worker for C2's grid (tiny_county staffs G11 and G12 only).
    s3 = Staff(code="S3", name="陈静", phone="13700002222", employment="full_time")
    db.add(s3)
    db.flush()
    db.add(StaffAssignment(staff_id=s3.id, grid_code=G21, role="worker", start_date="2026-01-01"))
    db.flush()


def staff_id(db: Session, code: str) -> int:
    from sqlalchemy import select

    sid = db.scalar(select(Staff.id).where(Staff.code == code))
    assert sid is not None
    return sid


__all__ = ["C1", "C2", "CG", "G11", "G12", "G21", "PCS", "ZJ", "add_units", "staff_id"]
