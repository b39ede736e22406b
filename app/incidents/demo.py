"""Demo activity: a few thousand incidents over the last 90 days, in every state, some overdue.

Deterministic (fixed seed) for a given day; idempotent (skipped when demo incidents exist). Uses the
demo county's grids, leaders and categories from the database, and writes the full history of each
case, so consoles, maps and KPIs show something real.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.auth.policy import Role
from app.incidents.calendar import default_calendar
from app.incidents.categories import DEFAULT_FILE, read_category_file, upsert_categories
from app.incidents.deadlines import STAGE_OF_STATE
from app.units.demo import assign_demo_cases

N_CASES = 3000
PLACES = ["小区东门附近", "楼栋北侧", "沿街商铺门前", "村口道路", "菜市场旁", "学校周边", "河道岸边",
          "公园入口", "背街小巷", "地下车库入口"]  # fmt: skip
PATH = [
    "reported",
    "accepted",
    "registered",
    "dispatched",
    "handling",
    "handled",
    "verified",
    "closed",
    "evaluated",
]
ACTION_INTO = {
    "accepted": "accept", "registered": "register", "dispatched": "dispatch", "handling": "start",
    "handled": "handle", "verified": "verify", "closed": "close", "evaluated": "evaluate",
}  # fmt: skip
# Where a case stands follows from its own timeline, as in a working county: old cases are mostly
# closed and evaluated, open ones are mostly recent, and a few are neglected (long overdue, red).
OPEN_BY_PROGRESS = [(0.1, "reported"), (0.2, "accepted"), (0.3, "registered"), (0.45, "dispatched")]
NEGLECTED_SHARE = 0.02


def _final_state(
    rng: random.Random, reported: dt.datetime, handled: dt.datetime, now: dt.datetime
) -> str:
    r = rng.random()
    if r < 0.04:
        return "rejected"
    if r < 0.06:
        return "voided"
    if r < 0.09:
        return "on_spot"
    if handled > now or rng.random() < NEGLECTED_SHARE:
        progress = (now - reported) / max(handled - reported, dt.timedelta(seconds=1))
        return next((s for limit, s in OPEN_BY_PROGRESS if progress < limit), "handling")
    since = now - handled
    if since < dt.timedelta(hours=4):
        return "handled"
    if since < dt.timedelta(hours=12):
        return "verified"
    if since < dt.timedelta(days=3):
        return "closed"
    return "evaluated" if rng.random() < 0.85 else "closed"


def demo_incidents_step(session: Session) -> str:
    upsert_categories(session, read_category_file(DEFAULT_FILE))
    if session.execute(text("SELECT 1 FROM incidents WHERE source = 'demo' LIMIT 1")).first():
        return "示范事件已存在，跳过"
    grids = session.execute(
        text(
            """
            SELECT g.code, g.community_code, a.parent_code AS township,
                   ST_X(p.geom) AS x, ST_Y(p.geom) AS y,
                   (SELECT s.name FROM staff_assignments sa JOIN staff s ON s.id = sa.staff_id
                     WHERE sa.grid_code = g.code AND sa.role = 'leader' AND sa.end_date IS NULL LIMIT 1) AS leader
              FROM grids g
              JOIN areas a ON a.code = g.community_code AND a.valid_to IS NULL
              CROSS JOIN LATERAL ST_Dump(ST_GeneratePoints(g.geom, 4, 42)) AS p
             WHERE g.status = 'active'
             ORDER BY g.code
            """
        )
    ).all()
    if not grids:
        return "没有在用网格，未生成示范事件"
    cats = session.execute(
        text(
            "SELECT code, name, limit_value, limit_unit FROM incident_categories "
            "WHERE parent_code IS NOT NULL AND active ORDER BY code"
        )
    ).all()
    cal = default_calendar()
    rng = random.Random(20260101)
    # The transaction's clock, so nothing is dated after the database's now().
    now = session.execute(text("SELECT date_trunc('second', now())")).scalar_one()
    first_id = int(session.execute(text("SELECT nextval('incidents_id_seq')")).scalar_one())
    cases, events = [], []
    overdue = 0
    for n in range(N_CASES):
        g = grids[rng.randrange(len(grids))]
        cat = cats[rng.randrange(len(cats))]
        reported = now - dt.timedelta(minutes=rng.randrange(5, 90 * 24 * 60))
        deadline = cal.add(reported, cat.limit_value, cat.limit_unit)
        span = deadline - reported
        # Handling takes 20%..125% of the limit: about one case in nine runs late.
        handled = reported + span * rng.uniform(0.2, 1.25)
        final = _final_state(rng, reported, handled, now)
        if final in ("handled", "verified", "closed", "evaluated") and handled > now:
            final = "handling"
        path = (
            ["reported", "closed"]
            if final == "on_spot"
            else ["reported", "accepted", final]
            if final in ("rejected", "voided")
            else PATH[: PATH.index(final) + 1]
        )
        state = path[-1]
        is_handled = final == "on_spot" or (state in PATH and PATH.index(state) >= 5)
        handled_at: dt.datetime | None = None
        if final == "on_spot":
            handled_at = reported + span * 0.1
        elif is_handled:
            handled_at = handled
        closed_at: dt.datetime | None = None
        if state in ("closed", "evaluated") and handled_at is not None:
            lag = dt.timedelta() if final == "on_spot" else dt.timedelta(hours=rng.uniform(1, 30))
            closed_at = min(handled_at + lag, now)
        open_ = state in ("reported", "accepted", "registered", "dispatched", "handling")
        late = open_ and deadline < now
        overdue += late
        tier = rng.choice([0, 0, 1]) + (1 if late else 0)
        cid = first_id + n
        cases.append(
            {
                "id": cid, "case_no": f"SJ{reported.astimezone(cal.tz):%Y%m%d}{cid:08d}",
                "token": str(uuid.UUID(int=rng.getrandbits(128))), "cat": cat.code,
                "desc": f"{cat.name}：网格员巡查发现，{PLACES[n % len(PLACES)]}", "x": g.x, "y": g.y, "grid": g.code,
                "comm": g.community_code, "town": g.township, "leader": g.leader, "state": state,
                "tier": min(tier, 3), "sup": late, "rep": reported, "dl": deadline,
                "esc": deadline if open_ and not late else None, "handled": handled_at,
                "closed": closed_at, "eval": min(closed_at + dt.timedelta(days=1), now) if state == "evaluated" and closed_at else None,
                "sat": rng.choice(["satisfied"] * 8 + ["basically"] * 2 + ["unsatisfied"]) if state == "evaluated" else None,
                "rework": int(rng.random() < 0.08 and is_handled), "ext": int(rng.random() < 0.06),
                "on_spot": final == "on_spot", "assignee": f"worker_{g.code[-5:]}" if len(path) > 3 else None,
                # The case's clock: its one deadline as the due time of the stage it is in.
                "lv": cat.limit_value, "lu": cat.limit_unit,
                "ss": reported if state in STAGE_OF_STATE else None,
                "sd": deadline if state in STAGE_OF_STATE else None,
                "am": deadline - span * 0.2 if state in STAGE_OF_STATE else None,
            }
        )  # fmt: skip
        end_at: dt.datetime = closed_at or handled_at or now
        step = (min(now, end_at) - reported) / max(len(path) - 1, 1)
        for k, s in enumerate(path):
            events.append(
                {
                    "iid": cid, "action": "report" if k == 0 else ("resolve_on_spot" if final == "on_spot" else ACTION_INTO.get(s, s[:-2] if s != "rejected" else "reject")),
                    "frm": path[k - 1] if k else None, "to": s, "at": reported + step * k,
                    "role": Role.PUBLIC if k == 0 else (Role.GRID_WORKER if s in ("handling", "handled") or final == "on_spot" else Role.DISPATCHER),
                }
            )  # fmt: skip
    session.execute(
        text(
            """
            INSERT INTO incidents (id, case_no, token, category_code, description, source, location,
                grid_code, community_code, township_code, leader_name, locate, state, tier, supervised,
                reported_at, deadline, escalate_at, handled_at, closed_at, evaluated_at, satisfaction,
                rework_count, extension_count, on_spot, assignee, escalation_count,
                limit_value, limit_unit, stage_started_at, stage_due_at, amber_at)
            VALUES (:id, :case_no, :token, :cat, :desc, 'demo', ST_SetSRID(ST_MakePoint(:x, :y), 4490),
                :grid, :comm, :town, :leader, '{"source": "demo"}', :state, :tier, :sup, :rep, :dl, :esc,
                :handled, :closed, :eval, :sat, :rework, :ext, :on_spot, :assignee, CASE WHEN :sup THEN 1 ELSE 0 END,
                :lv, :lu, :ss, :sd, :am)
            """
        ),
        cases,
    )
    # Cases past dispatch are with the unit of their tier (when the county has units: the units
    # demo step runs first), and their 派遣 event names it, as a real dispatch's does.
    assign_demo_cases(session)
    session.execute(
        text(
            "INSERT INTO incident_events (incident_id, action, from_state, to_state, actor, role, note, at, data) "
            "VALUES (:iid, :action, :frm, :to, 'demo', :role, '示范数据', :at, COALESCE(CASE WHEN CAST(:action AS varchar) = 'dispatch' "
            "THEN (SELECT jsonb_build_object('unit', unit_code, 'assignee', assignee) FROM incidents "
            "WHERE id = :iid AND unit_code IS NOT NULL) END, '{}'::jsonb))"
        ),
        events,
    )
    session.execute(text("SELECT setval('incidents_id_seq', (SELECT max(id) FROM incidents))"))
    return f"示范事件：{len(cases)} 件（近90天，全部状态），其中逾期未处置 {overdue} 件"
