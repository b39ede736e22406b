"""Every KPI formula of docs/domain.md#kpis on a hand-made set of cases, against figures worked out
by hand in the tables below (not by the code under test).

Period: March 2026 (Asia/Shanghai), "now" 15 April. Units: 城管局 CGJ (a department) and the grid
unit of G12 (UG12). Times are midnights in Shanghai of the day given (month 3 unless said).

case grid state      reported deadline handled closed on_spot rework ext reopen reg_late ver_late rating      callback   worker unit
C1   G11  evaluated  1        10       5       6      -       -      -   -      no       no       satisfied   satisfied  w1     CGJ
C2   G11  closed     2        10       12      13     -       1      -   -      yes      yes      unsatisfied satisfied  w1     CGJ
C3   G12  handling   5        20       -       -      -       -      1   -      no       -        -           -          w2     UG12
C4   G12  handled    6        20       18      -      -       -      -   -      no       -        -           -          w2     UG12
C5   G11  rejected   7        15       -       -      -       -      -   -      no       -        -           -          -      -
C6   G11  closed     8        9        8       8      yes     -      -   -      -        -        -           -          w1     -
C7   G11  handling   25       5 Apr    -       -      -       -      -   -      yes      -        -           -          w1     CGJ
C8   G12  reported   30       31       -       -      -       -      -   -      -        -        -           -          -      -
C9   G21  closed     20 Feb   3        2       3      -       -      -   1      no       no       basically   -          w3     -

Dispatch moves in March: C1 派遣→CGJ; C2 派遣→UG12, UG12 退回, 改派 UG12→CGJ; C3 派遣→UG12;
C4 派遣→UG12; C7 派遣→CGJ. (C9's 派遣 was on 21 Feb: outside.)

Worked out:
- reported in March: C1–C8 = 8; 自行处置 C6 = 1; to register 7; registered C1 C2 C3 C4 C7 = 5;
  立案率 5/7 = 0.7143. 受理立案 stage ended: C1 C2 C3 C4 C5 C7 = 6, on time C1 C3 C4 C5 = 4:
  按时受理率 0.6667.
- registered and due in March (应结案): C1 C2 C3 C4 C9 = 5 (C5 rejected, C6 on the spot, C7 due in
  April, C8 never registered). 结案 C1 C2 C9 = 3 → 0.6; 按期处置 C1 C4 C9 = 3 → 0.6; 按期结案 C1 C9
  = 2 → 0.4; 超期 C2 (late) C3 (open past 20 Mar) = 2 → 0.4; 返工 C2 → 0.2; 延期 C3 → 0.2; 重办 C9;
  核查 C1 C2 C9 = 3, on time 2 → 0.6667; residents' ratings 3, satisfied or basically 2 → 0.6667;
  the dispatcher's callbacks 2, both satisfied → 1.0 (kept apart).
- moves: sent (派遣 + 改派) 6, 改派 1, 退回 1: 派遣准确率 1 − 1/6 = 0.8333, 退回率 0.1667.
- hours to close: C1 120, C2 264, C9 264 (20 Feb → 3 Mar = 11 days): mean 216, p90 264.
"""

from __future__ import annotations

import datetime as dt
import io
from csv import DictReader

import pytest
from sqlalchemy import text

from app.auth.policy import system_principal
from app.auth.scope import scope_of
from app.incidents.calendar import TZ
from app.incidents.config import KpiSettings
from app.incidents.kpis import compute_kpis, league_tables
from tests.factories import G11, G12, G21

NOW = dt.datetime(2026, 4, 15, tzinfo=TZ)
START, END = dt.datetime(2026, 3, 1, tzinfo=TZ), dt.datetime(2026, 4, 1, tzinfo=TZ)
# Weights and lights chosen to be easy to follow by hand.
KPI = KpiSettings(
    weights={"closure_rate": 1, "satisfaction_rate": 1, "return_rate": 2},
    score_lights=(90, 80),
    rate_lights={"closure_rate": (0.9, 0.5), "return_rate": (0.1, 0.2)},
)


def d(day: int, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, tzinfo=TZ)


# name: grid, state, reported, deadline, handled, closed, on_spot, rework, ext, reopen,
#       register_late, verification_late, rating, callback, worker, unit
CASES = {
    "C1": (G11, "evaluated", d(1), d(10), d(5), d(6), False, 0, 0, 0, False, False,
           "satisfied", "satisfied", "w1", "CGJ"),
    "C2": (G11, "closed", d(2), d(10), d(12), d(13), False, 1, 0, 0, True, True,
           "unsatisfied", "satisfied", "w1", "CGJ"),
    "C3": (G12, "handling", d(5), d(20), None, None, False, 0, 1, 0, False, None,
           None, None, "w2", "UG12"),
    "C4": (G12, "handled", d(6), d(20), d(18), None, False, 0, 0, 0, False, None,
           None, None, "w2", "UG12"),
    "C5": (G11, "rejected", d(7), d(15), None, None, False, 0, 0, 0, False, None,
           None, None, None, None),
    "C6": (G11, "closed", d(8), d(9), d(8), d(8), True, 0, 0, 0, None, None,
           None, None, "w1", None),
    "C7": (G11, "handling", d(25), d(5, 4), None, None, False, 0, 0, 0, True, None,
           None, None, "w1", "CGJ"),
    "C8": (G12, "reported", d(30), d(31), None, None, False, 0, 0, 0, None, None,
           None, None, None, None),
    "C9": (G21, "closed", d(20, 2), d(3), d(2), d(3), False, 0, 0, 1, False, False,
           "basically", None, "w3", None),
}  # fmt: skip
# (case, action, day, data)
MOVES = [
    ("C1", "dispatch", d(2), {"unit": "CGJ"}),
    ("C2", "dispatch", d(3), {"unit": "UG12"}),
    ("C2", "return", d(3), {"unit": "UG12"}),
    ("C2", "reassign", d(4), {"from_unit": "UG12", "unit": "CGJ"}),
    ("C3", "dispatch", d(6), {"unit": "UG12"}),
    ("C4", "dispatch", d(7), {"unit": "UG12"}),
    ("C7", "dispatch", d(26), {"unit": "CGJ"}),
    ("C9", "dispatch", d(21, 2), {"unit": "UG21"}),
]


@pytest.fixture
def cases(db, county):  # type: ignore[no-untyped-def]
    db.execute(
        text(
            "INSERT INTO units (code, name, kind, area_code) VALUES "
            "('CGJ', '县城管局', 'department', '419901'), ('UG12', '二网格', 'grid', :g12)"
        ),
        {"g12": G12},
    )
    ids = {}
    for name, c in CASES.items():
        (grid, state, rep, deadline, handled, closed, on_spot, rework, ext, reopen, reg_late,
         ver_late, rating, callback, who, unit) = c  # fmt: skip
        ids[name] = db.execute(
            text(
                """
                INSERT INTO incidents (case_no, token, category_code, description, location,
                    grid_code, community_code, township_code, locate, state, reported_at,
                    deadline, handled_at, closed_at, on_spot, rework_count, extension_count,
                    reopen_count, register_late, verification_late, resident_rating,
                    satisfaction, assignee, unit_code)
                VALUES (:no, :no, '0401', 'k', ST_SetSRID(ST_MakePoint(113.002, 34.005), 4490),
                    :grid, :comm, :town, '{}', :state, :rep, :deadline, :handled, :closed,
                    :on_spot, :rework, :ext, :reopen, :reg_late, :ver_late, :rating, :callback,
                    :who, :unit)
                RETURNING id
                """
            ),
            {
                "no": f"KPI-{name}",
                "grid": grid,
                "comm": grid[:12],
                "town": grid[:9],
                "state": state,
                "rep": rep,
                "deadline": deadline,
                "handled": handled,
                "closed": closed,
                "on_spot": on_spot,
                "rework": rework,
                "ext": ext,
                "reopen": reopen,
                "reg_late": reg_late,
                "ver_late": ver_late,
                "rating": rating,
                "callback": callback,
                "who": who,
                "unit": unit,
            },
        ).scalar_one()
    for name, action, at, data in MOVES:
        db.execute(
            text(
                "INSERT INTO incident_events (incident_id, action, from_state, to_state, actor, "
                "role, data, at) VALUES (:i, :a, 'registered', 'dispatched', 'd', 'dispatcher', "
                "CAST(:data AS jsonb), :at)"
            ),
            {"i": ids[name], "a": action, "data": __import__("json").dumps(data), "at": at},
        )
    db.flush()


def _scope(area: str = "419901"):  # type: ignore[no-untyped-def]
    return scope_of(system_principal("test")).narrow(area)


def _kpis(db, area="419901", **kw):  # type: ignore[no-untyped-def]
    return compute_kpis(db, start=START, end=END, at=NOW, scope=_scope(area), kpi=KPI, **kw)


# Every count and rate of the total, as worked out in the module's docstring.
TOTAL = {
    "reports": 8, "on_spot": 1, "to_register": 7, "registered": 5, "acceptance_ended": 6,
    "accepted_on_time": 4, "due": 5, "closed": 3, "handled_on_time": 3, "closed_on_time": 2,
    "overdue": 2, "reworked": 1, "extended": 1, "reopened": 1, "verified": 3,
    "verified_on_time": 2, "rated": 3, "satisfied": 2, "callbacks": 2, "callback_satisfied": 2,
    "sent": 6, "reassigned": 1, "returned": 1,
    "registration_rate": 0.7143, "on_time_acceptance_rate": 0.6667, "closure_rate": 0.6,
    "on_time_handling_rate": 0.6, "on_time_closure_rate": 0.4, "overdue_rate": 0.4,
    "rework_rate": 0.2, "extension_rate": 0.2, "on_time_verification_rate": 0.6667,
    "satisfaction_rate": 0.6667, "callback_satisfaction_rate": 1.0, "dispatch_accuracy": 0.8333,
    "return_rate": 0.1667, "mean_hours_to_close": 216.0, "p90_hours_to_close": 264.0,
    # 100 × (0.6 + 0.6667 + 2 × (1 − 0.1667)) / 4 = 73.33
    "score": 73.3,
}  # fmt: skip


def test_each_formula(db, cases):  # type: ignore[no-untyped-def]
    (row,) = _kpis(db)
    assert {k: row[k] for k in TOTAL} == TOTAL
    # closure 0.6: amber (≥ 0.5, < 0.9); 退回率 0.1667: amber (> 0.1, ≤ 0.2); score 73.3: red.
    assert row["lights"] == {"closure_rate": "amber", "return_rate": "amber", "score": "red"}


def test_on_the_spot_cases_are_reported_apart(db, cases):  # type: ignore[no-untyped-def]
    (row,) = _kpis(db)
    # C6 is reported and counted as 自行处置, and is in no registered figure.
    assert (row["reports"], row["on_spot"], row["to_register"], row["due"]) == (8, 1, 7, 5)


def test_league_by_grid_worker_and_department(db, cases):  # type: ignore[no-untyped-def]
    result = league_tables(
        db,
        start=START,
        end=END,
        scope=_scope(),
        kpi=KPI,
        at=NOW,
        levels=("grid", "worker", "department"),
    )
    assert result["total"]["score"] == 73.3
    grid = [(r["rank"], r["group"], r["due"], r["score"]) for r in result["tables"]["grid"]]
    # G21: closure 1, satisfaction 1 (basically), no move: 100.
    # G11: closure 2/2, satisfaction 1/2, 退回 1 of 4 sent: 100 × (1 + 0.5 + 2 × 0.75) / 4 = 75.
    # G12: closure 0/2, no rating, 退回 0 of 2 sent: 100 × (0 + 2 × 1) / 3 = 66.7.
    assert grid == [(1, G21, 1, 100.0), (2, G11, 2, 75.0), (3, G12, 2, 66.7)]
    g12 = result["tables"]["grid"][2]
    assert g12["lights"] == {"closure_rate": "red", "return_rate": "green", "score": "red"}
    workers = [(r["group"], r["name"], r["score"]) for r in result["tables"]["worker"]]
    # w3: 100; w1: (1 + 0.5) / 2 = 75; w2: 0 / 1 = 0; cases nobody was assigned (C5, C8): no score.
    assert workers == [("w3", None, 100.0), ("w1", None, 75.0), ("w2", None, 0.0),
                       (None, "未指派", None)]  # fmt: skip
    (cgj,) = result["tables"]["department"]  # UG12 is a grid's unit, not a department
    # CGJ: due C1 C2, both closed, satisfaction 1/2; sent to it C1, C2 (改派), C7 = 3, none taken
    # away or returned: 100 × (1 + 0.5 + 2 × 1) / 4 = 87.5, amber.
    assert (cgj["group"], cgj["name"], cgj["kind"], cgj["due"], cgj["sent"]) == (
        "CGJ",
        "县城管局",
        "职能部门",
        2,
        3,
    )
    assert (cgj["dispatch_accuracy"], cgj["return_rate"], cgj["score"]) == (1.0, 0.0, 87.5)
    assert cgj["lights"]["score"] == "amber"


def test_per_unit_moves(db, cases):  # type: ignore[no-untyped-def]
    units = {r["group"]: r for r in _kpis(db, group_by="unit")}
    # UG12: sent C2, C3, C4 = 3; C2 taken away (改派) and returned once: 1 − 1/3, 1/3.
    ug12 = units["UG12"]
    assert (ug12["sent"], ug12["reassigned"], ug12["returned"]) == (3, 1, 1)
    assert (ug12["dispatch_accuracy"], ug12["return_rate"]) == (0.6667, 0.3333)
    assert units[None]["name"] == "未派遣"


def test_filters_and_empty(db, cases):  # type: ignore[no-untyped-def]
    (g12,) = _kpis(db, area=G12)
    assert (g12["reports"], g12["due"], g12["sent"]) == (3, 2, 2)
    (w2,) = _kpis(db, worker="w2")
    assert (w2["due"], w2["overdue"], w2["sent"]) == (2, 1, 0)  # C3 open past its deadline
    (other,) = _kpis(db, category="05")
    assert other["due"] == 0 and other["closure_rate"] is None and other["score"] is None


def test_stage_timeliness_is_recorded_when_a_stage_ends(db, cases):  # type: ignore[no-untyped-def]
    def case(state: str, due: dt.datetime) -> int:
        return int(
            db.execute(
                text("""INSERT INTO incidents (case_no, token, category_code, description, location,
                    grid_code, community_code, locate, state, reported_at, deadline,
                    stage_started_at, stage_due_at, updated_at)
                    VALUES (left(md5(random()::text), 20), md5(random()::text), '0401', 'k',
                    ST_SetSRID(ST_MakePoint(113.002, 34.005), 4490), :g, :c, '{}', :s, :r, :r,
                    :r, :due, :r) RETURNING id"""),
                {"g": G11, "c": G11[:12], "s": state, "r": d(1), "due": due},
            ).scalar_one()
        )

    def move(i: int, state: str, at: dt.datetime, started: dt.datetime | None) -> tuple:  # type: ignore[type-arg]
        db.execute(
            text(
                "UPDATE incidents SET state = :s, updated_at = :at, stage_started_at = :st "
                "WHERE id = :i"
            ),
            {"s": state, "at": at, "st": started, "i": i},
        )
        return tuple(
            db.execute(
                text("SELECT register_late, verification_late FROM incidents WHERE id = :i"),
                {"i": i},
            ).one()
        )

    on_time, late = case("accepted", d(2)), case("accepted", d(2))
    assert move(on_time, "registered", d(2), d(2)) == (False, None)  # at the due time: on time
    assert move(late, "registered", d(3), d(3)) == (True, None)
    checked = case("handled", d(5))
    assert move(checked, "handling", d(6), d(6)) == (None, True)  # 返工 after the due time
    assert move(checked, "handled", d(7), d(7)) == (None, True)  # a handling stage: unchanged
    assert move(checked, "verified", d(7), None) == (None, True)  # once late, late


def test_api_json_csv_and_league(api, cases, token_for):  # type: ignore[no-untyped-def]
    h = token_for("auditor")
    q = {"start": "2026-03-01", "end": "2026-03-31"}
    r = api.get("/api/v1/kpis", params=q, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["rows"][0]["due"] == 5
    csv = api.get("/api/v1/kpis", params={**q, "format": "csv", "group_by": "grid"}, headers=h)
    assert csv.headers["content-type"].startswith("text/csv")
    rows = list(DictReader(io.StringIO(csv.text.lstrip("\ufeff"))))
    assert [(r["group"], r["due"], r["closed"], r["sent"]) for r in rows] == [
        (G11, "2", "2", "4"), (G12, "2", "0", "2"), (G21, "1", "1", "0"),
    ]  # fmt: skip
    league = api.get("/api/v1/kpis/league", params={**q, "by": ["grid", "department"]}, headers=h)
    assert league.status_code == 200, league.text
    body = league.json()
    assert body["tables"]["grid"][0]["group"] == G21  # default weights: still first
    assert [r["group"] for r in body["tables"]["department"]] == ["CGJ"]
    labels = {m["key"]: m["label"] for m in body["metrics"]}
    assert labels["dispatch_accuracy"] == "派遣准确率" and labels["reports"] == "上报数"
    assert api.get("/api/v1/kpis", params=q).status_code == 401
    assert api.get("/api/v1/kpis", params={**q, "area": "419902"}, headers=h).status_code == 403
    assert (
        api.get("/api/v1/kpis/league", params=q, headers=token_for("grid_worker")).status_code
        == 403
    )
    bad = api.get("/api/v1/kpis/league", params={**q, "by": "street"}, headers=h)
    assert bad.status_code == 422 and "street" in bad.json()["detail"]
    backwards = {"start": "2026-03-31", "end": "2026-03-01"}
    assert api.get("/api/v1/kpis", params=backwards, headers=h).status_code == 422
    assert api.get("/api/v1/kpis/league", params=backwards, headers=h).status_code == 422


OPEN = "('reported', 'accepted', 'registered', 'dispatched', 'handling')"


def test_demo_step_creates_all_states_and_is_idempotent(db, county):
    from app.incidents.demo import demo_incidents_step

    def scalar(sql: str) -> int:
        return int(db.execute(text(sql)).scalar_one())

    line = demo_incidents_step(db)
    # The step's clock is the transaction's, to the second: the same ``now`` as here.
    overdue = scalar(
        "SELECT count(*) FROM incidents WHERE source = 'demo' AND state IN "
        f"{OPEN} AND deadline < date_trunc('second', now())"
    )
    assert line == f"示范事件：3000 件（近90天，全部状态），其中逾期未处置 {overdue} 件"
    assert overdue > 0  # the console has red lights to show
    assert scalar("SELECT count(*) FROM incidents WHERE source = 'demo'") == 3000
    states = set(
        db.execute(text("SELECT DISTINCT state FROM incidents WHERE source = 'demo'")).scalars()
    )
    assert {"reported", "handling", "closed", "evaluated", "rejected", "voided"} <= states
    # Each case's history starts with its report and ends in the state the case is in.
    assert (
        scalar(
            """
        SELECT count(*) FROM incidents i WHERE source = 'demo' AND (
            (SELECT e.action FROM incident_events e WHERE e.incident_id = i.id ORDER BY e.id LIMIT 1)
                IS DISTINCT FROM 'report'
         OR (SELECT e.to_state FROM incident_events e WHERE e.incident_id = i.id
              ORDER BY e.id DESC LIMIT 1) IS DISTINCT FROM i.state)
        """
        )
        == 0
    )
    assert (
        scalar(
            "SELECT count(*) FROM incidents WHERE source = 'demo' "
            "AND (closed_at < handled_at OR closed_at > now())"
        )
        == 0
    )
    # A second run adds nothing and says so.
    assert demo_incidents_step(db) == "示范事件已存在，跳过"
    assert scalar("SELECT count(*) FROM incidents WHERE source = 'demo'") == 3000
