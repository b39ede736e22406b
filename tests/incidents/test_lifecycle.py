"""Every transition of the table, allowed and refused; roles, jurisdiction, versions, history."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.incidents import statemachine as sm
from tests.factories import C1, C2

EXTRA = {
    "dispatch": {"assignee": "w1"},
    "reassign": {"assignee": "w2"},
    "extend": {"extension_hours": 4},
    "evaluate": {"satisfaction": "satisfied"},
}
ALLOWED = [(a, s) for a, t in sm.TRANSITIONS.items() for s in t.sources]
REFUSED = [(a, s) for a, t in sm.TRANSITIONS.items() for s in sm.STATES if s not in t.sources]


def _force_state(db, case_id: int, state: str) -> None:
    db.execute(text("UPDATE incidents SET state = :s WHERE id = :i"), {"s": state, "i": case_id})
    db.commit()


def _move(api, headers, case, action, **kw):
    body = {"action": action, "version": case["version"], **EXTRA.get(action, {}), **kw}
    return api.post(f"/api/v1/incidents/{case['id']}/transitions", json=body, headers=headers)


@pytest.mark.parametrize(("action", "state"), ALLOWED)
def test_allowed(api, db, report, token_for, action, state):
    case = report()
    _force_state(db, case["id"], state)
    role = sm.TRANSITIONS[action].roles[0]
    r = _move(api, token_for(role, C1), case, action, note="备注")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["state"] == sm.TRANSITIONS[action].target_from(state)
    assert out["version"] == case["version"] + 1
    last = api.get(f"/api/v1/incidents/{case['id']}/history", headers=token_for("auditor")).json()[
        -1
    ]
    assert (last["action"], last["from_state"], last["role"], last["note"]) == (
        action,
        state,
        role,
        "备注",
    )


@pytest.mark.parametrize(("action", "state"), REFUSED)
def test_refused_with_allowed_moves(api, db, report, token_for, action, state):
    case = report()
    _force_state(db, case["id"], state)
    role = sm.TRANSITIONS[action].roles[0]
    r = _move(api, token_for(role, C1), case, action)
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["context"]["current_state"] == state
    assert body["context"]["allowed"] == sm.allowed_actions(state)
    assert sm.STATE_LABELS[state] in body["detail"]


@pytest.mark.parametrize("action", [a for a in sm.ACTIONS if a != "resolve_on_spot"])
def test_wrong_role_is_403(api, db, report, token_for, action):
    case = report()
    t = sm.TRANSITIONS[action]
    _force_state(db, case["id"], t.sources[0])
    wrong = next(r for r in ("auditor", "grid_worker", "dispatcher") if r not in t.roles)
    assert _move(api, token_for(wrong, C1), case, action).status_code == 403


def test_outside_jurisdiction_is_403(api, report, token_for):
    case = report()  # in community C1
    assert _move(api, token_for("dispatcher", C2), case, "accept").status_code == 403
    assert (
        api.get(f"/api/v1/incidents/{case['id']}", headers=token_for("auditor", C2)).status_code
        == 403
    )
    assert _move(api, token_for("dispatcher", C1), case, "accept").status_code == 200


def test_stale_version_is_409(api, report, token_for):
    case = report()
    h = token_for("dispatcher")
    assert _move(api, h, case, "accept").status_code == 200
    r = _move(api, h, case, "void")  # still sends version 1
    assert r.status_code == 409 and r.json()["context"]["current_version"] == 2


def test_full_loop_with_rework_extension_and_evaluation(api, report, token_for):
    d, w = token_for("dispatcher"), token_for("grid_worker", C1, "w1")
    case = report()
    steps = [
        (d, "accept"), (d, "register"), (d, "dispatch"), (w, "start"), (d, "extend"),
        (w, "handle"), (d, "rework"), (w, "handle"), (d, "verify"), (d, "close"), (d, "evaluate"),
    ]  # fmt: skip
    for headers, action in steps:
        r = _move(api, headers, case, action)
        assert r.status_code == 200, (action, r.text)
        case = r.json()
    assert case["state"] == "evaluated" and case["allowed_actions"] == []
    assert (case["rework_count"], case["extension_count"], case["satisfaction"]) == (
        1,
        1,
        "satisfied",
    )
    hist = api.get(f"/api/v1/incidents/{case['id']}/history", headers=d).json()
    assert [e["action"] for e in hist] == ["report"] + [a for _, a in steps]


def test_missing_transition_data_is_422(api, db, report, token_for):
    case = report()
    _force_state(db, case["id"], "handling")
    r = api.post(
        f"/api/v1/incidents/{case['id']}/transitions",
        json={"action": "extend", "version": 1},
        headers=token_for("dispatcher"),
    )
    assert r.status_code == 422 and "extension_hours" in r.text


def test_manual_escalation_stops_at_county(api, report, token_for):
    d = token_for("dispatcher")
    case = report("0701")  # 火灾: handled at county level from the start
    assert case["tier"] == "county"
    assert _move(api, d, case, "escalate").status_code == 409
    case = report()
    r = _move(api, d, case, "escalate")
    assert r.json()["tier"] == "community" and r.json()["supervised"]


def test_history_is_append_only(db, report):
    from sqlalchemy.exc import DBAPIError

    case = report()
    with pytest.raises(DBAPIError, match="只能追加"), db.begin_nested():
        db.execute(
            text("UPDATE incident_events SET note = 'x' WHERE incident_id = :i"), {"i": case["id"]}
        )
    with pytest.raises(DBAPIError, match="只能追加"), db.begin_nested():
        db.execute(text("DELETE FROM incident_events WHERE incident_id = :i"), {"i": case["id"]})


def test_transitions_write_outbox_in_same_transaction(api, db, report, token_for):
    case = report()
    _move(api, token_for("dispatcher"), case, "accept")
    kinds = (
        db.execute(
            text("SELECT kind FROM incident_outbox WHERE incident_id = :i ORDER BY id"),
            {"i": case["id"]},
        )
        .scalars()
        .all()
    )
    assert kinds == ["incident.report", "incident.accept"]
