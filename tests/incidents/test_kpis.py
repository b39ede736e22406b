"""Each KPI formula on a hand-made case set (numbers worked out in the comments)."""

from __future__ import annotations

import datetime as dt
import io
from csv import DictReader

import pytest
from sqlalchemy import text

from app.auth.policy import system_principal
from app.auth.scope import scope_of
from app.incidents.calendar import TZ
from app.incidents.kpis import compute_kpis
from tests.factories import C1, G11, G12

NOW = dt.datetime(2026, 4, 15, tzinfo=TZ)


def d(day: int, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, tzinfo=TZ)


# (grid, state, deadline, handled, closed, satisfaction, rework, extension, assignee)
CASES = [
    (G11, "evaluated", d(10), d(5), d(6), "satisfied", 0, 0, "w1"),  # on time; 120 h to close
    (G11, "evaluated", d(10), d(12), d(13), "unsatisfied", 1, 0, "w1"),  # late; 288 h
    (G12, "handling", d(20), None, None, None, 0, 1, "w2"),  # overdue, never handled
    (G12, "handled", d(20), d(18), None, None, 0, 0, "w2"),  # handled on time, not closed
    (G11, "rejected", d(15), None, None, None, 0, 0, None),  # never registered: not due
    (G11, "handling", d(5, 4), None, None, None, 0, 0, "w1"),  # due in April: outside
]


@pytest.fixture
def cases(db):  # type: ignore[no-untyped-def]
    for n, (grid, state, deadline, handled, closed, sat, rework, ext, who) in enumerate(CASES):
        db.execute(
            text(
                """
                INSERT INTO incidents (case_no, token, category_code, description, location,
                    grid_code, community_code, locate, state, reported_at, deadline, handled_at,
                    closed_at, satisfaction, rework_count, extension_count, assignee)
                VALUES (:no, :no, '0401', 'k', ST_SetSRID(ST_MakePoint(113.002, 34.005), 4490),
                    :grid, :comm, '{}', :state, :rep, :deadline, :handled, :closed, :sat, :rework,
                    :ext, :who)
                """
            ),
            {
                "no": f"KPI{n}",
                "grid": grid,
                "comm": grid[:12],
                "state": state,
                "rep": d(1),
                "deadline": deadline,
                "handled": handled,
                "closed": closed,
                "sat": sat,
                "rework": rework,
                "ext": ext,
                "who": who,
            },
        )
    db.flush()


def _kpis(db, area="419901", **kw):  # type: ignore[no-untyped-def]
    scope = scope_of(system_principal("test")).narrow(area)
    return compute_kpis(db, start=d(1), end=d(1, 4), at=NOW, scope=scope, **kw)


def test_each_formula(db, cases):
    (row,) = _kpis(db)
    assert row["due"] == 4
    assert row["closure_rate"] == 0.5  # 2 closed / 4
    assert row["on_time_handling_rate"] == 0.5  # cases 1 and 4
    assert row["on_time_closure_rate"] == 0.25  # case 1
    assert row["overdue_rate"] == 0.5  # case 2 (handled late) and 3 (still open)
    assert row["rework_rate"] == 0.25
    assert row["extension_rate"] == 0.25
    assert row["satisfaction_rate"] == 0.5  # 1 satisfied of 2 evaluated
    assert row["mean_hours_to_close"] == 204.0  # (120 + 288) / 2
    assert row["p90_hours_to_close"] == pytest.approx(271.2)  # 120 + 0.9 * 168


def test_grouping_and_filters(db, cases):
    by_grid = {r["group"]: r for r in _kpis(db, group_by="grid")}
    assert by_grid[G11]["due"] == 2 and by_grid[G12]["due"] == 2
    assert by_grid[G12]["closure_rate"] == 0.0 and by_grid[G12]["satisfaction_rate"] is None
    (w2,) = _kpis(db, worker="w2")
    assert w2["due"] == 2 and w2["overdue_rate"] == 0.5
    (g12,) = _kpis(db, area=G12)
    assert g12["due"] == 2
    assert _kpis(db, category="05")[0]["due"] == 0
    assert _kpis(db, area=C1 + "9")[0]["closure_rate"] is None  # empty: no ratio, not 0


def test_api_json_and_csv(api, cases, token_for):
    h = token_for("auditor")
    q = {"start": "2026-03-01", "end": "2026-03-31"}
    r = api.get("/api/v1/kpis", params=q, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["rows"][0]["due"] == 4
    csv = api.get("/api/v1/kpis", params={**q, "format": "csv", "group_by": "grid"}, headers=h)
    assert csv.headers["content-type"].startswith("text/csv")
    rows = list(DictReader(io.StringIO(csv.text.lstrip("\ufeff"))))
    # Per grid, as worked out above: G11 has cases 1 and 2 (both closed), G12 cases 3 and 4.
    assert [(r["group"], r["due"], r["closed"]) for r in rows] == [(G11, "2", "2"), (G12, "2", "0")]
    assert api.get("/api/v1/kpis", params=q).status_code == 401
    assert api.get("/api/v1/kpis", params={**q, "area": "419902"}, headers=h).status_code == 403
    assert (
        api.get(
            "/api/v1/kpis", params={"start": "2026-03-31", "end": "2026-03-01"}, headers=h
        ).status_code
        == 422
    )


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
