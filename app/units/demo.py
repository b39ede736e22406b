"""Demo data for the responsible units of the demo county (synthetic, like the county itself:
the names are common office names, the phone numbers are made up): the tier units derived from
the registry, four county departments, a police station stationed in 城关街道, a routing table and
the demo accounts' memberships. Idempotent, like every demo step (app/demo.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.units.derive import derive_tier_units, tier_unit_code
from app.units.models import RoutingRule, Unit, UnitMember

COUNTY = "419901"
STREET = COUNTY + "001"
COUNTY_UNIT = tier_unit_code("county", COUNTY)
# code, name, kind, jurisdiction, parent, phone (synthetic)
UNITS = [
    ("dept-419901-cgzf", "县城市管理综合执法局", "department", COUNTY, COUNTY_UNIT, "0399-0000101"),
    ("dept-419901-zjj", "县住房和城乡建设局", "department", COUNTY, COUNTY_UNIT, "0399-0000102"),
    ("dept-419901-yjj", "县应急管理局", "department", COUNTY, COUNTY_UNIT, "0399-0000103"),
    ("dept-419901-scjg", "县市场监督管理局", "department", COUNTY, COUNTY_UNIT, "0399-0000104"),
    ("agency-419901001-pcs", "城关派出所", "agency", STREET, COUNTY_UNIT, "0399-0000110"),
]
# category (small or big class), area, unit or tier: who takes a case by default
RULES = [
    ("05", COUNTY, "dept-419901-cgzf", None),  # 违章建筑
    ("0803", COUNTY, "dept-419901-cgzf", None),  # 井盖缺失
    ("0203", COUNTY, "dept-419901-zjj", None),  # 房屋安全隐患
    ("0503", COUNTY, "dept-419901-zjj", None),  # 私拆承重墙
    ("0202", COUNTY, "dept-419901-zjj", None),  # 燃气隐患
    ("0206", COUNTY, "dept-419901-scjg", None),  # 食品安全隐患
    ("07", COUNTY, "dept-419901-yjj", None),  # 突发事件
    ("03", STREET, "agency-419901001-pcs", None),  # 治安, in 城关街道
    ("0801", COUNTY, None, "grid"),  # 占道经营: the grid first
]
# demo account -> unit (app/demo.py DEMO_USERS)
MEMBERS = [("cgj", "dept-419901-cgzf"), ("pcs", "agency-419901001-pcs")]


def load_demo_units(session: Session) -> tuple[int, int, int]:
    """Create what is missing; returns (units, rules, memberships) created."""
    created = derive_tier_units(session, COUNTY)
    for code, name, kind, area, parent, phone in UNITS:
        if session.scalar(select(Unit.id).where(Unit.code == code)) is None:
            session.add(
                Unit(
                    code=code, name=name, kind=kind, area_code=area, parent_code=parent, phone=phone
                )
            )
            created += 1
    session.flush()
    rules = 0
    for category, area, unit, tier in RULES:
        exists = session.scalar(
            select(RoutingRule.id).where(
                RoutingRule.category_code == category, RoutingRule.area_code == area
            )
        )
        if exists is None:
            session.add(
                RoutingRule(category_code=category, area_code=area, unit_code=unit, tier=tier)
            )
            rules += 1
    members = 0
    for username, unit in MEMBERS:
        exists = session.scalar(
            select(UnitMember.id).where(
                UnitMember.username == username, UnitMember.unit_code == unit
            )
        )
        if exists is None:
            session.add(
                UnitMember(unit_code=unit, username=username, valid_from=dt.date(2026, 1, 1))
            )
            members += 1
    session.flush()
    return created, rules, members


def assign_demo_cases(session: Session) -> int:
    """Demo cases past dispatch are with the unit of their tier (their grid's, community's...)."""
    return len(
        session.execute(
            text(
                """
                UPDATE incidents i SET unit_code = u.code
                  FROM units u
                 WHERE i.source = 'demo' AND i.unit_code IS NULL AND i.assignee IS NOT NULL
                   AND u.active
                   AND u.kind = (ARRAY['grid', 'community', 'township', 'county'])[i.tier + 1]
                   AND u.area_code = left(i.grid_code, (ARRAY[15, 12, 9, 6])[i.tier + 1])
                RETURNING i.id
                """
            )
        ).all()
    )


def demo_units_step(session: Session) -> str:
    units, rules, members = load_demo_units(session)
    return f"承办单位：新建 {units} 个，分派规则 {rules} 条，单位成员 {members} 名"
