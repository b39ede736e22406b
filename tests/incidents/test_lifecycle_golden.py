"""The golden lifecycle table: state × caller → the moves offered and where each leads.

Written by hand from docs/domain.md#incident-lifecycle (the table of moves and who makes them),
never from app/incidents/statemachine.py: a wrong entry there fails here instead of being copied.
When the lifecycle changes, change docs/domain.md and this table by hand, together.

Every cell is checked through the API as a page sees it:

- the case's detail and its list item carry exactly the moves of the cell (``actions``);
- every move of the cell is made on a fresh case and lands in the state the table says, with a
  history row naming the move, both states and the caller's role;
- every other move is refused with a 409 whose body lists the cell's moves, and changes nothing.

The case lies in grid G11 (community C1) and, once dispatched, is with 城管执法局 (dept-cgzf).
Callers: the township's dispatcher (D), 城管执法局's handler (U), the grid worker of G11 (W), the
grid worker of another grid in the township (W2), the county admin (A) and an auditor (R).
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.factories import G11, TOWNSHIP
from tests.units.world import CG, ZJ, add_units, staff_id

# Every move there is, as docs/domain.md#incident-lifecycle lists them.
MOVES = (
    "accept", "register", "reject", "void", "dispatch", "start", "extend", "return", "reassign",
    "handle", "verify", "rework", "request_check", "check_pass", "check_fail", "close",
    "evaluate", "reopen", "resolve_on_spot", "escalate", "request_extension",
    "approve_extension", "refuse_extension", "request_suspension", "approve_suspension",
    "refuse_suspension", "resume",
)  # fmt: skip
STATES = (
    "reported", "accepted", "registered", "rejected", "voided", "dispatched", "returned",
    "handling", "handled", "checking", "verified", "closed", "evaluated",
)  # fmt: skip
CALLERS = ("D", "U", "W", "W2", "A", "R")

# state -> caller -> {move: next state}; a caller not listed may make no move in that state.
GOLDEN: dict[str, dict[str, dict[str, str]]] = {
    "reported": {
        "D": {"accept": "accepted", "void": "voided", "escalate": "reported"},
        "W": {"resolve_on_spot": "closed"},
    },
    "accepted": {
        "D": {
            "register": "registered",
            "reject": "rejected",
            "void": "voided",
            "escalate": "accepted",
        },
    },
    "registered": {"D": {"dispatch": "dispatched", "escalate": "registered"}},
    "rejected": {},
    "voided": {},
    # 延期 and 挂账 with no request pending and the clock running: the unit may ask, the
    # dispatcher may extend on their own authority (deciding needs a pending request).
    "dispatched": {
        "D": {"reassign": "dispatched", "escalate": "dispatched", "extend": "dispatched"},
        "U": {
            "start": "handling",
            "return": "returned",
            "request_extension": "dispatched",
            "request_suspension": "dispatched",
        },
    },
    "returned": {"D": {"reassign": "dispatched", "escalate": "returned"}},
    "handling": {
        "D": {"extend": "handling", "reassign": "dispatched", "escalate": "handling"},
        "U": {
            "return": "returned",
            "handle": "handled",
            "request_extension": "handling",
            "request_suspension": "handling",
        },
    },
    "handled": {
        "D": {"verify": "verified", "rework": "handling", "request_check": "checking"},
    },
    "checking": {"W": {"check_pass": "verified", "check_fail": "handling"}},
    "verified": {"D": {"close": "closed"}},
    "closed": {"D": {"evaluate": "evaluated", "reopen": "dispatched"}},
    "evaluated": {"D": {"reopen": "dispatched"}},
}
# States in which the case is with a unit (the others: nobody but the dispatcher answers yet).
WITH_UNIT = ("dispatched", "handling", "handled", "checking", "verified", "closed", "evaluated")
# What each move needs besides the version (docs/domain.md: the "needs" column).
BODY = {
    "dispatch": {"unit": ZJ},
    "reassign": {"unit": ZJ},
    "extend": {"extension_hours": 4, "note": "需协调施工队"},
    "request_extension": {"extension_hours": 8, "note": "需协调施工队"},
    "request_suspension": {"note": "需纳入明年改造计划"},
    "evaluate": {"satisfaction": "satisfied"},
    "return": {"note": "不属于本单位职责"},
    "reject": {"note": "不属于受理范围"},
    "void": {"note": "重复上报"},
    "rework": {"note": "仍有垃圾"},
    "check_fail": {"note": "现场未清理"},
    "reopen": {"note": "居民不满意"},
}
ROLE = {
    "D": "dispatcher",
    "U": "unit_handler",
    "W": "grid_worker",
    "W2": "grid_worker",
    "A": "county_admin",
    "R": "auditor",
}


def test_the_table_covers_every_state_and_names_only_known_moves():
    assert set(GOLDEN) == set(STATES)
    for cells in GOLDEN.values():
        assert set(cells) <= set(CALLERS)
        for moves in cells.values():
            assert set(moves) <= set(MOVES) and set(moves.values()) <= set(STATES)


@pytest.fixture
def world(db, county):  # type: ignore[no-untyped-def]
    add_units(db)
    db.commit()


@pytest.fixture
def callers(world, db, token_for):  # type: ignore[no-untyped-def]
    return {
        "D": token_for("dispatcher", TOWNSHIP, "disp"),
        "U": token_for("unit_handler", "419901", "cg1"),
        "W": token_for("grid_worker", TOWNSHIP, "gw", staff_id=staff_id(db, "S2")),
        "W2": token_for("grid_worker", TOWNSHIP, "gw21", staff_id=staff_id(db, "S3")),
        "A": token_for("county_admin", "419901", "admin1"),
        "R": token_for("auditor", "419901", "aud1"),
    }


@pytest.fixture
def case_in(db, report):  # type: ignore[no-untyped-def]
    """A case reported in G11 and put in ``state`` (with 城管执法局 once dispatched)."""

    def make(state: str) -> dict:
        case = report("0103")  # 物业纠纷: community tier, handled without a photo
        assert case["grid_code"] == G11
        db.execute(
            text("UPDATE incidents SET state = :s, unit_code = :u WHERE id = :i"),
            {"s": state, "u": CG if state in WITH_UNIT else None, "i": case["id"]},
        )
        db.commit()
        return case

    return make


def _move(api, headers, case, action):  # type: ignore[no-untyped-def]
    body = {"action": action, "version": case["version"], **BODY.get(action, {})}
    return api.post(f"/api/v1/incidents/{case['id']}/transitions", json=body, headers=headers)


CELLS = [(s, c) for s in STATES for c in CALLERS]


@pytest.mark.parametrize(("state", "caller"), CELLS)
def test_offered_moves_and_refusals(api, callers, case_in, state, caller):
    expected = set(GOLDEN[state].get(caller, {}))
    h = callers[caller]
    case = case_in(state)
    detail = api.get(f"/api/v1/incidents/{case['id']}", headers=h)
    if caller == "U" and state not in WITH_UNIT:
        # A unit's staff see the cases of their unit only: any other is answered as missing.
        assert (detail.status_code, detail.json()["detail"]) == (404, "事件不存在")
        assert _move(api, h, case, "start").status_code == 404
        return
    assert detail.status_code == 200, detail.text
    offered = detail.json()["actions"]
    assert {a["action"] for a in offered} == expected
    assert all(a["label"] and isinstance(a["needs"], list) for a in offered)
    assert set(detail.json()["allowed_actions"]) == expected
    listed = api.get("/api/v1/incidents", params={"state": state}, headers=h).json()["data"]
    item = next(c for c in listed if c["id"] == case["id"])
    assert {a["action"] for a in item["actions"]} == expected
    for action in MOVES:
        if action in expected:
            continue
        r = _move(api, h, case, action)
        assert r.status_code == 409, (action, r.text)
        body = r.json()
        assert body["context"]["current_state"] == state, action
        assert set(body["context"]["allowed"]) == expected, action
        assert {a["action"] for a in body["context"]["actions"]} == expected
    after = api.get(f"/api/v1/incidents/{case['id']}", headers=callers["R"]).json()
    assert (after["state"], after["version"]) == (state, case["version"])


ALLOWED = [
    (state, caller, action, target)
    for state, cells in GOLDEN.items()
    for caller, moves in cells.items()
    for action, target in moves.items()
]


@pytest.mark.parametrize(("state", "caller", "action", "target"), ALLOWED)
def test_each_offered_move_lands_where_the_table_says(
    api, callers, case_in, state, caller, action, target
):
    case = case_in(state)
    r = _move(api, callers[caller], case, action)
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["state"], out["version"]) == (target, case["version"] + 1)
    hist = api.get(f"/api/v1/incidents/{case['id']}/history", headers=callers["R"]).json()
    last = hist[-1]
    assert (last["action"], last["from_state"], last["to_state"], last["role"]) == (
        action,
        state,
        target,
        ROLE[caller],
    )


def test_the_refusal_says_why_and_what_is_possible(api, callers, case_in):
    case = case_in("handled")
    r = _move(api, callers["D"], case, "close")
    assert r.status_code == 409
    assert r.json()["detail"] == (
        "事件当前状态为“已处置”（handled），不能执行“结案”；"
        "您可执行的操作：核查通过（verify）、返工（rework）、现场核查（request_check）"
    )
    r = _move(api, callers["R"], case, "verify")
    assert (
        r.json()["detail"] == "“核查通过”仅限指挥调度员；当前角色为督查审计员；您可执行的操作：无"
    )
    case = case_in("dispatched")
    r = _move(api, callers["W"], case, "start")
    assert r.status_code == 409
    assert r.json()["detail"].startswith(
        "“开始处置”仅限本案承办单位（dept-cgzf）的人员或指定处置人"
    )
