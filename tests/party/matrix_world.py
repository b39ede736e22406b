"""Party-building and task admission records in the access matrix's two townships
(tests/access/conftest.py), each carrying that township's markers: a party branch covering the
township's grid with a member (the plain head's name and phone), a 双报到 registration with its
community (the special-group head's name and phone; A's names the matrix's unit handler as the
member's own account) and an hour logged, and a task in the grid whose title holds the case text."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from app.admission.models import GridTask, TaskKind
from app.party.models import DualRegistration, PartyMember, PartyOrg, PartyOrgGrid, ServiceHours


def add_party(
    db: Session, markers: dict[str, dict[str, str]], unit: dict[str, str], today: dt.date
) -> dict[str, dict[str, int]]:
    """Returns {"org": {"A": id, "B": id}, "dual": {...}, "task": {...}}."""
    out: dict[str, dict[str, int]] = {"org": {}, "dual": {}, "task": {}}
    kind = TaskKind(county_code="419901", name="矩阵事务", updated_by="matrix")
    db.add(kind)
    db.flush()
    for t, m in markers.items():
        grid = m["grid"]
        org = PartyOrg(name=f"党支部{t}", kind="branch", area_code=grid[:12])
        db.add(org)
        db.flush()
        db.add(PartyOrgGrid(org_id=org.id, grid_code=grid))
        db.add(PartyMember(org_id=org.id, name=m["head"], phone=m["head_phone"]))
        reg = DualRegistration(
            community_code=grid[:12],
            unit_code=unit[t],
            name=m["special_head"],
            phone=m["special_phone"],
            username="matrix_unit_handler" if t == "A" else None,
            registered_on=today,
        )
        db.add(reg)
        db.flush()
        db.add(
            ServiceHours(
                registration_id=reg.id,
                served_on=today,
                hours=2,
                activity=f"{m['case_note']}服务",
                recorded_by="matrix",
            )
        )
        task = GridTask(
            kind_id=kind.id,
            grid_code=grid,
            assignee="matrix_grid_worker" if t == "A" else "matrix_b_worker",
            unit_code=unit[t],
            title=f"{m['case_text']}任务",
            created_by="matrix",
        )
        db.add(task)
        db.flush()
        out["org"][t], out["dual"][t], out["task"][t] = org.id, reg.id, task.id
    return out
