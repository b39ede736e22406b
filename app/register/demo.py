"""Demo step: the demo county's register, synthetic and labelled (docs/register.md#demo).

Every household of the demo county gets its house (自住; one in eight 出租, its people then
floating residents) and its people: the head (the household's own head name) and one to three
members of the same surname, born to fit their relation; the household's special groups go to
its head. One building in twenty has a vacant flat, one household in twenty-five a shop at its
building. Deterministic (seeded by the household id) and idempotent (skipped if the county has
persons). Without the register's keys (app/register/keys.py ``attach_keys``) it is skipped with
a note.
"""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.auth.policy import system_principal
from app.auth.scope import scope_of
from app.grids.service import holds_point_sql
from app.register import codes, idnumbers, synthetic
from app.register.apply import sync_household_groups
from app.register.exchange import history_sql, insert_persons
from app.register.keys import SESSION_KEY

COUNTY = "419901"
_DEMO = scope_of(system_principal("demo")).narrow(COUNTY)
BY = "demo:synthetic"

_HOUSEHOLDS = f"""
SELECT h.id, h.building_id, h.unit, h.room, h.size, h.head_name, h.phone, h.special_groups,
       g.code AS grid_code
  FROM grids g JOIN households h ON {holds_point_sql("g", "h.location")}
 WHERE g.status = 'active' AND {_DEMO.sql("g.code")}
 ORDER BY h.id
"""

_MEMBERS = (("10", (25, 80)), ("20", (0, 40)), ("30", (0, 40)), ("50", (55, 90)))


def demo_register_step(session: Session) -> str:
    existing = session.scalar(
        text(f"SELECT count(*) FROM persons WHERE {_DEMO.sql('grid_code')}"), _DEMO.params()
    )
    if existing:
        return f"实有人口：已有 {existing} 人，跳过"
    keys = session.info.get(SESSION_KEY)  # app/cli.py hands them over (attach_keys)
    if keys is None:
        return "实有人口：未配置登记簿密钥，跳过演示人口"
    households = session.execute(text(_HOUSEHOLDS), _DEMO.params()).all()
    houses: list[dict[str, Any]] = []
    people: list[dict[str, Any]] = []
    seen: set[str] = set()
    for h in households:
        rng = random.Random(h.id)
        rented = rng.random() < 0.125
        houses.append(
            {"grid_code": h.grid_code, "building_id": h.building_id, "unit": h.unit,
             "room": h.room, "use": "rented" if rented else "self_occupied",
             "household_id": h.id}
        )  # fmt: skip
        head_name = h.head_name or synthetic.person(rng).name
        surname = head_name[0]
        size = max(1, min(int(h.size or 1), 4))
        for k in range(size):
            relation, age = ("02", (25, 85)) if k == 0 else _MEMBERS[(k - 1) % len(_MEMBERS)]
            p = synthetic.person(rng, surname=surname if relation != "10" else None, age=age)
            if p.id_number in seen:
                continue
            seen.add(p.id_number)
            groups = (
                [g for g in (h.special_groups or []) if g in codes.GROUP_LABELS] if k == 0 else []
            )
            residence = "floating" if rented else "registered"
            if residence == "floating":
                groups.append(codes.FLOATING_TAG)
            people.append(
                {"name": head_name if k == 0 else p.name, "gender": p.gender,
                 "birth_date": p.birth_date.isoformat(), "id_type": "111",
                 "phone": (h.phone if k == 0 else None), "ethnicity": "01",
                 "residence_type": residence, "registered_address": synthetic.LABEL,
                 "household_id": h.id, "relation": relation, "grid_code": h.grid_code,
                 "special_groups": groups, "party_member": rng.random() < 0.06,
                 "status": "active", "_number": p.id_number,
                 "_hash": idnumbers.lookup_hash(keys, p.id_number),
                 "_masked": idnumbers.mask(p.id_number)}
            )  # fmt: skip
    house_ids = _insert_houses(session, houses)
    vacant = (
        session.execute(
            text(
                """
            INSERT INTO houses (grid_code, building_id, unit, room, use, status)
            SELECT DISTINCT ON (h.building_id) hs.grid_code, h.building_id, '9', '999', 'vacant',
                   'active'
              FROM houses hs JOIN households h ON h.id = hs.household_id
             WHERE hs.id = ANY(:ids) AND h.building_id % 20 = 0
             ORDER BY h.building_id
            ON CONFLICT DO NOTHING RETURNING id
            """
            ),
            {"ids": house_ids},
        )
        .scalars()
        .all()
    )
    person_ids = insert_persons(session, keys, people)
    session.execute(
        text(
            "UPDATE persons p SET house_id = hs.id FROM houses hs "
            "WHERE hs.household_id = p.household_id AND p.id = ANY(:ids)"
        ),
        {"ids": person_ids},
    )
    shops = (
        session.execute(
            text(
                """
            INSERT INTO organisations (grid_code, kind, name, building_id, location,
                                       contact_name, contact_phone, employees)
            SELECT hs.grid_code, 'shop', '合成商铺' || hs.id || '号（演示）', b.id, b.location,
                   h.head_name, h.phone, 1 + hs.id % 5
              FROM houses hs JOIN households h ON h.id = hs.household_id
              JOIN buildings b ON b.id = hs.building_id
             WHERE hs.id = ANY(:ids) AND hs.household_id % 25 = 0
            RETURNING id
            """
            ),
            {"ids": house_ids},
        )
        .scalars()
        .all()
    )
    history_sql(session, "house", "houses", [*house_ids, *vacant], BY)
    history_sql(session, "person", "persons", person_ids, BY)
    history_sql(session, "organisation", "organisations", list(shops), BY)
    sync_household_groups(session, {h.id for h in households})
    return (
        f"实有人口（合成数据）：{len(person_ids)} 人、房屋 {len(house_ids) + len(vacant)} 套"
        f"（出租 {sum(1 for h in houses if h['use'] == 'rented')}，空置 {len(vacant)}）、"
        f"商铺 {len(shops)} 家"
    )


def _insert_houses(session: Session, houses: list[dict[str, Any]]) -> list[int]:
    ids: list[int] = []
    for start in range(0, len(houses), 10000):
        chunk = houses[start : start + 10000]
        ids.extend(
            session.execute(
                text(
                    """
                    INSERT INTO houses (grid_code, building_id, unit, room, use, household_id)
                    SELECT * FROM unnest(CAST(:grid AS text[]), CAST(:building AS int[]),
                                         CAST(:unit AS text[]), CAST(:room AS text[]),
                                         CAST(:use AS text[]), CAST(:household AS int[]))
                    ON CONFLICT (building_id, unit, room) DO NOTHING
                    RETURNING id
                    """
                ),
                {
                    "grid": [h["grid_code"] for h in chunk],
                    "building": [h["building_id"] for h in chunk],
                    "unit": [h["unit"] for h in chunk],
                    "room": [h["room"] for h in chunk],
                    "use": [h["use"] for h in chunk],
                    "household": [h["household_id"] for h in chunk],
                },
            ).scalars()
        )
    return ids
