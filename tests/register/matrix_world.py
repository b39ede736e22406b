"""The register's records in the access matrix's two townships (tests/access/conftest.py): per
township a person (the special-group head's name and phone), a house (its landlord: the plain
head's name), an organisation (its contact: the plain head), a pending proposal naming the
person, and a history row of each record, all carrying that township's markers."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.register import idnumbers
from app.register.keys import register_keys
from app.settings import Settings

# Valid ID numbers (GB 11643), one per township.
IDS = {"A": "410102199003071230", "B": "410102198511114562"}


def add_register(
    db: Session, markers: dict[str, dict[str, str]], building: dict[str, int]
) -> dict[str, dict[str, int]]:
    """Returns {"person": {"A": id, "B": id}, "house": ..., "organisation": ..., "proposal": ...}."""
    keys = register_keys(Settings(environment="test"))
    out: dict[str, dict[str, int]] = {"person": {}, "house": {}, "organisation": {}, "proposal": {}}
    for t, m in markers.items():
        grid = m["grid"]
        number = IDS[t]
        house = db.execute(
            text(
                "INSERT INTO houses (grid_code, building_id, unit, room, use, landlord_name, "
                "landlord_phone) VALUES (:g, :b, '9', '909', 'rented', :n, :p) RETURNING id"
            ),
            {"g": grid, "b": building[t], "n": m["head"], "p": m["head_phone"]},
        ).scalar_one()
        person = db.execute(
            text(
                "INSERT INTO persons (grid_code, name, id_hash, id_cipher, id_masked, phone, "
                "residence_type, house_id, special_groups) VALUES (:g, :n, :h, :c, :m, :p, "
                "'floating', :house, ARRAY['drug_user', 'floating_population']) RETURNING id"
            ),
            {
                "g": grid,
                "n": m["special_head"],
                "h": idnumbers.lookup_hash(keys, number),
                "c": idnumbers.seal(keys, number),
                "m": idnumbers.mask(number),
                "p": m["special_phone"],
                "house": house,
            },
        ).scalar_one()
        org = db.execute(
            text(
                "INSERT INTO organisations (grid_code, kind, name, contact_name, contact_phone) "
                "VALUES (:g, 'shop', :n, :c, :p) RETURNING id"
            ),
            {"g": grid, "n": f"{m['building']}便利店", "c": m["head"], "p": m["head_phone"]},
        ).scalar_one()
        proposal = db.execute(
            text(
                "INSERT INTO register_proposals (client_id, kind, action, target_id, "
                "base_version, grid_code, before, after, proposed_by) VALUES (:cid, 'person', "
                "'update', :pid, 1, :g, CAST(:before AS jsonb), CAST(:after AS jsonb), 'matrix') "
                "RETURNING id"
            ),
            {
                "cid": uuid.uuid4(),
                "pid": person,
                "g": grid,
                "before": json.dumps({"phone": m["special_phone"]}),
                "after": json.dumps({"name": m["special_head"], "phone": m["head_phone"]}),
            },
        ).scalar_one()
        for kind, rid, data in (
            ("person", person, {"name": m["special_head"], "phone": m["special_phone"]}),
            ("house", house, {"landlord_name": m["head"]}),
            ("organisation", org, {"contact_name": m["head"]}),
        ):
            db.execute(
                text(
                    "INSERT INTO register_history (kind, record_id, version, grid_code, data, "
                    "changed_by) VALUES (:k, :r, 1, :g, CAST(:d AS jsonb), 'matrix')"
                ),
                {"k": kind, "r": rid, "g": grid, "d": json.dumps(data, ensure_ascii=False)},
            )
        out["person"][t], out["house"][t] = person, house
        out["organisation"][t], out["proposal"][t] = org, proposal
    return out
