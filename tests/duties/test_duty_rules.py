"""Each duty rule on the hand-made community (conftest.py), against a table written by hand."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from app.auth.policy import system_principal
from app.auth.scope import scope_of
from app.duties.rules import RULES_FILE, load_book, parse_book
from app.duties.service import duty_findings, last_month, my_duties
from tests.duties.conftest import G1, G2, G4, NOW

SYSTEM = scope_of(system_principal("test"))


def table(rows):  # type: ignore[no-untyped-def]
    return [(r["kind"], r["objects"]) for r in rows]


def test_every_unmet_duty_is_found_and_nothing_else(db, duty_county):
    rows = duty_findings(db, SYSTEM.narrow("419902"), NOW, load_book())
    assert table(rows) == [
        ("arrival_overdue", ["DUTYD", G2]),
        ("arrival_overdue", ["DUTYA", G1]),
        ("field_days_short", ["W2", G2]),
        ("no_full_time_worker", [G2]),
        ("no_full_time_worker", [G4]),
        ("cadre_visit_missing", ["K1", G1]),
    ]
    msg = {tuple(r["objects"]): r["message"] for r in rows}
    assert "有喜事必到" in msg[("DUTYD", G2)] and "已超期 3 天" in msg[("DUTYD", G2)]
    assert "应在 1 天内到场" in msg[("DUTYA", G1)] and "已超期 2 天" in msg[("DUTYA", G1)]
    assert "2026年10月入户走访 7 天，少于规定的每月 8 天" in msg[("W2", G2)]
    assert msg[(G2,)].endswith("现有 1 名网格员均为兼职")
    assert msg[(G4,)].endswith("未配备网格员")
    assert "2/3 户" in msg[("K1", G1)]
    assert all(r["geometry"] is not None for r in rows)


def test_a_county_sets_its_own_minimum(db, duty_county):
    data = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    data["counties"] = {"419902": {"field_days_per_month": {"full_time": 16, "part_time": 7}}}
    rows = duty_findings(db, SYSTEM.narrow("419902"), NOW, parse_book(data))
    # W1's 15 days are now short of 16; W2's 7 meet 7.
    assert [r["objects"] for r in rows if r["kind"] == "field_days_short"] == [["W1", G1]]


def test_another_countys_rules_do_not_apply(db, duty_county):
    data = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    data["counties"] = {"419903": {"full_time_worker_per_grid": False}}
    rows = duty_findings(db, SYSTEM.narrow("419902"), NOW, parse_book(data))
    assert [r["objects"] for r in rows if r["kind"] == "no_full_time_worker"] == [[G2], [G4]]


def test_an_arrival_answers_the_case(db, duty_county):
    from sqlalchemy import text

    db.execute(
        text(
            "INSERT INTO duty_arrivals (incident_id, grid_code, arrived_at, recorded_by) "
            "VALUES (:i, :g, :at, 'w1')"
        ),
        {"i": duty_county["cases"]["A"], "g": G1, "at": NOW},
    )
    rows = duty_findings(db, SYSTEM.narrow("419902"), NOW, load_book())
    assert [r["objects"] for r in rows if r["kind"] == "arrival_overdue"] == [["DUTYD", G2]]


def test_the_cadre_who_visits_everyone_is_clear(db, duty_county):
    from tests.duties.conftest import visit

    h, k1 = duty_county["households"], duty_county["staff"]["K1"]
    for hid in h[1:3]:
        visit(db, k1, hid, NOW - dt.timedelta(days=1), G1)
    rows = duty_findings(db, SYSTEM.narrow("419902"), NOW, load_book())
    assert "cadre_visit_missing" not in {r["kind"] for r in rows}


def test_a_worker_sees_what_they_owe(db, duty_county):
    s = duty_county["staff"]
    w2 = dataclasses.replace(
        system_principal("w2"), system=False, role="grid_worker", jurisdiction_code="419902",
        staff_id=s["W2"],
    )  # fmt: skip
    mine = my_duties(db, scope_of(w2), load_book(), NOW)
    assert [(a.case_no, a.overdue) for a in mine.arrivals] == [("DUTYD", True), ("DUTYC", False)]
    assert mine.arrivals[1].due_at == NOW + dt.timedelta(days=2)
    # November so far: no visits by W2.
    assert (mine.field_days.month, mine.field_days.days, mine.field_days.required) == (
        "2026-11", 0, 8,
    )  # fmt: skip
    assert mine.cadre == []
    k2 = dataclasses.replace(w2, staff_id=s["K2"])
    mine = my_duties(db, scope_of(k2), load_book(), NOW)
    assert [(c.grid_code, c.households, c.not_visited, c.due_on) for c in mine.cadre] == [
        (G2, 1, 1, dt.date(2027, 6, 1))
    ]


@pytest.mark.parametrize(
    ("today", "month"),
    [
        (dt.date(2026, 11, 20), (dt.date(2026, 10, 1), dt.date(2026, 11, 1))),
        (dt.date(2026, 1, 1), (dt.date(2025, 12, 1), dt.date(2026, 1, 1))),
        (dt.date(2026, 3, 31), (dt.date(2026, 2, 1), dt.date(2026, 3, 1))),
    ],
)
def test_last_month(today, month):
    assert last_month(today) == month


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"arrival_lookback_days": 0}, "arrival_lookback_days must be an integer > 0"),
        ({"field_days_per_month": {"full_time": 40}}, "more than a month"),
        ({"field_days_per_month": {"casual": 3}}, "field_days_per_month keys"),
        ({"arrivals": [{"kind": "x", "label": "x", "categories": ["1"], "within_days": 1}]},
         "categories must be class codes"),
        ({"full_time_worker_per_grid": "yes"}, "true or false"),
        ({"unknown": 1}, "unknown keys"),
    ],
)  # fmt: skip
def test_bad_rules_are_refused_by_name(change, error):
    data = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    data["counties"] = {"419902": change}
    with pytest.raises(ValueError, match=error):
        parse_book(data)


@pytest.mark.parametrize(
    ("groups", "rule", "days"),
    [
        ([], "every_household", 365),
        (["floating_population"], "floating_population", 90),
        (["left_behind_woman"], "special_groups", 30),
        (["left_behind_elderly"], "special_groups", 30),
        (["severe_mental_disorder"], "key_persons", 30),
        (["released_prisoner", "floating_population"], "key_persons", 30),
        (["key_youth", "petitioner"], "petitioners", 14),
    ],
)
def test_the_new_special_groups_have_their_cadence(groups, rule, days):
    from app.visits.cadence import load_rules, rule_for

    found = rule_for(groups, load_rules())
    assert (found.name, found.interval_days) == (rule, days)
