"""The escalation worker and the case's clock: it steps by the current stage's limit, and leaves
a 挂账 case alone. Commits through the shared engine (the worker's own connections) and purges
its rows afterwards, like tests/incidents/test_worker.py."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from app.incidents.calendar import CalendarNotCovered, WorkingCalendar
from app.incidents.worker import sweep_once

PREFIX = "DLW"


@pytest.fixture
def cases(engine):  # type: ignore[no-untyped-def]
    """Two handling cases reported ten days ago whose handling stage (two hours, started three
    hours ago) ran out an hour ago; the second is 挂账 (its clock stopped, no escalate_at)."""
    now = dt.datetime.now(dt.UTC)
    due = now - dt.timedelta(hours=1)
    with engine.begin() as conn:
        conn.execute(
            text(
                """
                INSERT INTO incidents (case_no, token, category_code, description, location,
                    grid_code, community_code, locate, state, tier, reported_at, deadline,
                    escalate_at, limit_value, limit_unit, stage_started_at, stage_due_at,
                    amber_at, paused_since)
                SELECT :p || g, :p || g, '0701', 'w', ST_SetSRID(ST_MakePoint(113.002, 34.005), 4490),
                       '419901001001001', '419901001001', '{}', 'handling', 0, :rep, :due,
                       CASE WHEN g = 0 THEN CAST(:due AS timestamptz) END, 2, 'calendar_hours',
                       :start, :due, :due,
                       CASE WHEN g = 1 THEN CAST(:start AS timestamptz) END
                  FROM generate_series(0, 1) AS g
                """
            ),
            {
                "p": PREFIX,
                "rep": now - dt.timedelta(days=10),
                "start": now - dt.timedelta(hours=3),
                "due": due,
            },
        )
    yield now, due
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL gridgov.allow_purge = 'on'"))
        conn.execute(text("DELETE FROM incidents WHERE case_no LIKE :p"), {"p": PREFIX + "%"})


def test_worker_steps_by_the_stage_and_skips_a_paused_case(engine, cases):
    now, due = cases
    assert sweep_once(engine, now=now) == 1
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT case_no, tier, escalation_count, escalate_at FROM incidents "
                "WHERE case_no LIKE :p ORDER BY case_no"
            ),
            {"p": PREFIX + "%"},
        ).all()
    running, paused = rows
    # Next escalation one stage span (two hours) later, not ten days (report → deadline).
    assert (running.tier, running.escalation_count) == (1, 1)
    assert running.escalate_at == due + dt.timedelta(hours=2)
    assert (paused.tier, paused.escalation_count, paused.escalate_at) == (0, 0, None)


def test_worker_refuses_to_start_outside_the_calendar(engine, monkeypatch):
    from app.incidents import worker
    from app.incidents.config import IncidentSettings

    old = WorkingCalendar(
        periods=((dt.time(9), dt.time(17)),),
        first_day=dt.date(2025, 1, 1),
        last_day=dt.date(2025, 12, 31),
    )
    monkeypatch.setattr(worker, "default_calendar", lambda: old)
    with pytest.raises(CalendarNotCovered) as exc:
        worker.run_worker(engine, IncidentSettings(), once=True)
    assert "2025-01-01 至 2025-12-31" in exc.value.message


def test_app_refuses_to_start_outside_the_calendar(monkeypatch):
    import app.main as main
    from app.settings import Settings

    old = WorkingCalendar(
        periods=((dt.time(9), dt.time(17)),),
        first_day=dt.date(2025, 1, 1),
        last_day=dt.date(2025, 12, 31),
    )
    monkeypatch.setattr(main, "default_calendar", lambda: old)
    with pytest.raises(CalendarNotCovered):
        main.create_app(Settings(environment="test", secret_key="x" * 40))
