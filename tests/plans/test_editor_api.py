"""The planner's editor over the API on the tiny county: undo/redo kept on the server, one name per
grid, the live balance of an edit not yet made, reasons at submission, 退回, what each role may do
in each state, and an approval with a future effective date swapped once at that moment.

Community C1 = box(113.000, 34.000, 113.010, 34.010); G11 (幸福社区第1网格) west of 113.005 holds
building B1 with 2 households; G12 (幸福社区第2网格) east of it has no building. Band 250–500.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, text

from app.grids.models import Grid
from app.plans.models import Plan, PlanGrid
from app.plans.schedule import apply_due_in
from tests.factories import C1, G11, G12, add_building, tiny_county

P = "/api/v1/plans"
CUT = {"type": "LineString", "coordinates": [[113.008, 33.999], [113.008, 34.011]]}
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _plan(client, h) -> dict:  # type: ignore[no-untyped-def]
    r = client.post(P, json={"community_code": C1}, headers=h)
    assert r.status_code == 201, r.text
    return r.json()


def _gid(plan: dict, name: str) -> int:
    return next(g["id"] for g in plan["grids"] if g["name"] == name)


def _post(client, h, plan_id: int, action: str, body: dict):  # type: ignore[no-untyped-def]
    return client.post(f"{P}/{plan_id}/{action}", json=body, headers=h)


def _split(client, h, plan: dict) -> dict:  # type: ignore[no-untyped-def]
    r = _post(client, h, plan["id"], "split", {
        "version": plan["version"], "grid_id": _gid(plan, "幸福社区第2网格"), "line": CUT,
    })  # fmt: skip
    assert r.status_code == 200, r.text
    return r.json()


REASONS_OK = "幸福社区第1网格为老城区，第2网格为在建小区"


def _reasons(plan: dict) -> dict[str, str]:
    return {str(g["id"]): REASONS_OK for g in plan["grids"]}


def _submitted(client, h, plan: dict) -> dict:  # type: ignore[no-untyped-def]
    r = _post(client, h, plan["id"], "submit", {
        "version": plan["version"], "reasons": _reasons(plan),
    })  # fmt: skip
    assert r.status_code == 200, r.text
    return client.get(f"{P}/{plan['id']}", headers=h).json()


# --------------------------------------------------------------------------- undo / redo
def test_undo_and_redo_are_kept_on_the_server(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    h = token_for("planner")
    plan = _plan(client, h)
    assert plan["undo"] is None and plan["redo"] is None
    assert plan["actions"] == ["edit", "submit"]
    split = _split(client, h, plan)
    assert [g["name"] for g in split["grids"]] == ["幸福社区第1网格", "幸福社区第2网格", "新网格1"]
    assert split["undo"] == "拆分 「幸福社区第2网格」、「新网格1」" and split["redo"] is None
    assert split["actions"] == ["edit", "undo", "submit"]
    new_id = _gid(split, "新网格1")

    r = _post(client, h, plan["id"], "undo", {"version": 2})
    assert r.status_code == 200, r.text
    # A reload (a new GET, as another browser would) sees the undone state and what redo does.
    undone = client.get(f"{P}/{plan['id']}", headers=h).json()
    assert undone["version"] == 3
    assert [(g["code"], g["name"]) for g in undone["grids"]] == [
        (G11, "幸福社区第1网格"),
        (G12, "幸福社区第2网格"),
    ]
    assert undone["undo"] is None and undone["redo"] == "拆分 「幸福社区第2网格」、「新网格1」"
    assert undone["actions"] == ["edit", "redo", "submit"]
    assert _post(client, h, plan["id"], "undo", {"version": 3}).json()["detail"] == (
        "没有可以撤销的编辑"
    )

    redone = _post(client, h, plan["id"], "redo", {"version": 3}).json()
    assert redone["version"] == 4
    assert [g["name"] for g in redone["grids"]] == ["幸福社区第1网格", "幸福社区第2网格", "新网格1"]
    assert _gid(redone, "新网格1") == new_id  # the same grid again, not a copy

    # An edit after an undo drops what could have been redone.
    _post(client, h, plan["id"], "undo", {"version": 4})
    merged = _post(client, h, plan["id"], "merge", {
        "version": 5, "grid_id": _gid(plan, "幸福社区第1网格"),
        "other_grid_id": _gid(plan, "幸福社区第2网格"),
    }).json()  # fmt: skip
    assert (
        merged["redo"] is None and merged["undo"] == "合并 「幸福社区第1网格」、「幸福社区第2网格」"
    )
    r = _post(client, h, plan["id"], "redo", {"version": 6})
    assert r.status_code == 409 and r.json()["detail"] == "没有可以重做的编辑"
    # A stale version is refused like any edit.
    r = _post(client, h, plan["id"], "undo", {"version": 5})
    assert r.status_code == 409 and r.json()["context"]["current_version"] == 6


def test_undo_restores_households_and_the_version_moves(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    add_building(db, "E1", C1, 113.009, 34.005, 40)
    h = token_for("planner")
    plan = _plan(client, h)
    split = _split(client, h, plan)
    assert {g["name"]: g["households"] for g in split["grids"]} == {
        "幸福社区第1网格": 2,
        "幸福社区第2网格": 0,
        "新网格1": 40,
    }
    undone = _post(client, h, plan["id"], "undo", {"version": 2}).json()
    assert {g["name"]: g["households"] for g in undone["grids"]} == {
        "幸福社区第1网格": 2,
        "幸福社区第2网格": 40,
    }
    assert db.scalar(select(func.count()).select_from(PlanGrid)) == 2


# --------------------------------------------------------------------------- one name
def test_a_grid_keeps_the_name_the_plan_gives_it(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    h = token_for("planner")
    plan = _split(client, h, _plan(client, h))
    new_id = _gid(plan, "新网格1")
    r = _post(
        client, h, plan["id"], "rename", {"version": 2, "grid_id": new_id, "name": " 东区网格 "}
    )
    assert r.status_code == 200, r.text
    renamed = r.json()
    assert [g["name"] for g in renamed["grids"]] == [
        "幸福社区第1网格",
        "幸福社区第2网格",
        "东区网格",
    ]
    assert renamed["undo"] == "改名 「东区网格」"
    taken = _post(client, h, plan["id"], "rename", {
        "version": 3, "grid_id": new_id, "name": "幸福社区第1网格",
    })  # fmt: skip
    assert taken.status_code == 422
    assert taken.json()["detail"] == "方案中已有名为「幸福社区第1网格」的网格，请换一个名称"
    blank = _post(client, h, plan["id"], "rename", {"version": 3, "grid_id": new_id, "name": "  "})
    assert blank.status_code == 422 and blank.json()["detail"] == "网格名称不能为空"
    missing = _post(client, h, plan["id"], "rename", {"version": 3, "grid_id": 999999, "name": "X"})
    assert missing.status_code == 404 and missing.json()["detail"] == "方案中没有网格 999999"
    # The export and the validation messages use the same name.
    gj = client.get(f"{P}/{plan['id']}/export", params={"f": "geojson"}, headers=h).json()
    assert sorted(f["properties"]["name"] for f in gj["features"]) == [
        "东区网格",
        "幸福社区第1网格",
        "幸福社区第2网格",
    ]
    messages = [e["message"] for e in renamed["validation"]["errors"]]
    assert "网格「东区网格」内没有楼栋：请调整边界，或提交时说明理由" in messages
    # Approved, the live grid carries that name.
    plan = _submitted(client, h, renamed)
    r = _post(client, token_for("county_admin"), plan["id"], "approve", {
        "effective_date": "2026-06-01", "reason": "拆分",
    })  # fmt: skip
    assert r.status_code == 200, r.text
    live = db.scalar(select(Grid).where(Grid.code == C1 + "003", Grid.status == "active"))
    assert live is not None and live.name == "东区网格"


# --------------------------------------------------------------------------- live balance
def test_preview_gives_households_per_grid_without_writing(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    add_building(db, "E1", C1, 113.009, 34.005, 40)
    add_building(db, "E2", C1, 113.006, 34.005, 300)
    h = token_for("planner")
    plan = _plan(client, h)
    r = _post(client, h, plan["id"], "preview", {
        "kind": "split", "grid_id": _gid(plan, "幸福社区第2网格"), "line": CUT,
    })  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    assert [(g["name"], g["households"], g["buildings"], g["band"]) for g in body["grids"]] == [
        ("幸福社区第1网格", 2, 1, "below"),
        ("幸福社区第2网格", 300, 1, "within"),
        ("新网格1", 40, 1, "below"),
    ]
    assert body["households"] == 342 and body["outside"] == 0
    assert body["band"] == [250, 500]
    # Nothing was written: same version, same two grids, no history.
    again = client.get(f"{P}/{plan['id']}", headers=h).json()
    assert again["version"] == 1 and len(again["grids"]) == 2 and again["undo"] is None
    # A reshape that gives E2 to G11 moves its 300 households there.
    r = _post(client, h, plan["id"], "preview", {
        "kind": "reshape", "grid_id": _gid(plan, "幸福社区第1网格"),
        "geometry": {"type": "Polygon", "coordinates": [[[113.0, 34.0], [113.007, 34.0],
                     [113.007, 34.01], [113.0, 34.01], [113.0, 34.0]]]},
    })  # fmt: skip
    assert [(g["name"], g["households"]) for g in r.json()["grids"]] == [
        ("幸福社区第1网格", 302),
        ("幸福社区第2网格", 40),
    ]


def test_preview_refusals(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    h = token_for("planner")
    plan = _plan(client, h)
    g12 = _gid(plan, "幸福社区第2网格")
    r = _post(client, h, plan["id"], "preview", {"kind": "split", "grid_id": g12})
    assert r.status_code == 422 and r.json()["detail"] == "预览拆分需要 line"
    inside = {"type": "LineString", "coordinates": [[113.006, 34.004], [113.007, 34.006]]}
    r = _post(client, h, plan["id"], "preview", {"kind": "split", "grid_id": g12, "line": inside})
    assert r.status_code == 422 and "没有穿过" in r.json()["detail"]
    body = {"kind": "split", "grid_id": g12, "line": CUT}
    assert _post(client, token_for("dispatcher"), plan["id"], "preview", body).status_code == 403
    assert _post(client, token_for("auditor"), plan["id"], "preview", body).status_code == 403
    _submitted(client, h, plan)
    r = _post(client, h, plan["id"], "preview", body)
    assert r.status_code == 409
    assert r.json()["detail"] == (
        f"方案「{plan['name']}」当前为待审批，不能编辑（只有草稿、已退回的方案可以编辑）"
    )


# --------------------------------------------------------------------------- submission
def test_submit_names_each_grid_that_needs_a_reason(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    add_building(db, "E0", C1, 113.006, 34.005, 0)  # a building nobody lives in, in G12
    h = token_for("planner")
    plan = _split(client, h, _plan(client, h))  # 新网格1: the east piece, no building
    r = _post(client, h, plan["id"], "submit", {"version": 2})
    assert r.status_code == 422
    assert r.json()["detail"] == (
        "方案有 3 处问题，不能提交："
        "网格「幸福社区第1网格」只有 2 户，少于标准的 250–500 户：请调整边界，或提交时说明理由；"
        "网格「幸福社区第2网格」内没有住户：请调整边界，或提交时说明理由；"
        "网格「新网格1」内没有楼栋：请调整边界，或提交时说明理由"
    )
    # Reasons for two of three: still refused, naming the third, and nothing is kept.
    g11, g12, new = (_gid(plan, n) for n in ("幸福社区第1网格", "幸福社区第2网格", "新网格1"))
    r = _post(client, h, plan["id"], "submit", {
        "version": 2, "reasons": {str(g11): "老城区，户数少", str(g12): "仓库区"},
    })  # fmt: skip
    assert r.status_code == 422
    assert [e["objects"] for e in r.json()["context"]["errors"]] == [["新网格1"]]
    assert db.scalar(select(PlanGrid.exception_reason).where(PlanGrid.id == g11)) is None
    # A reason for a grid the plan does not have.
    r = _post(client, h, plan["id"], "submit", {"version": 2, "reasons": {"999999": "x"}})
    assert r.status_code == 422 and r.json()["detail"] == "方案中没有网格 999999，不能为它说明理由"
    # All three: submitted; the approver reads each reason beside its grid.
    r = _post(client, h, plan["id"], "submit", {
        "version": 2,
        "reasons": {str(g11): "老城区，户数少", str(g12): "仓库区", str(new): "规划绿地"},
    })  # fmt: skip
    assert r.status_code == 200, r.text
    seen = client.get(f"{P}/{plan['id']}", headers=token_for("county_admin")).json()
    assert seen["status"] == "submitted" and seen["validation"]["ok"] is True
    assert {g["name"]: g["exception_reason"] for g in seen["grids"]} == {
        "幸福社区第1网格": "老城区，户数少",
        "幸福社区第2网格": "仓库区",
        "新网格1": "规划绿地",
    }
    assert "网格「新网格1」内没有楼栋；规划员说明：规划绿地" in [
        w["message"] for w in seen["validation"]["warnings"]
    ]


def test_a_grid_above_the_band_is_a_warning_only(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    add_building(db, "E1", C1, 113.009, 34.005, 501)
    h = token_for("planner")
    plan = _plan(client, h)
    above = [w["message"] for w in plan["validation"]["warnings"] if w["kind"] == "above_band"]
    assert above == ["网格「幸福社区第2网格」有 501 户，多于标准的 250–500 户"]
    assert [g["band"] for g in plan["grids"]] == ["below", "above"]
    g11 = _gid(plan, "幸福社区第1网格")
    r = _post(client, h, plan["id"], "submit", {"version": 1, "reasons": {str(g11): "老城区"}})
    assert r.status_code == 200, r.text


# --------------------------------------------------------------------------- 退回 and who may act
def test_return_with_reason_then_fix_and_resubmit(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    h, admin = token_for("planner"), token_for("county_admin")
    plan = _submitted(client, h, _plan(client, h))
    assert plan["actions"] == []  # the planner waits: nothing to press
    seen = client.get(f"{P}/{plan['id']}", headers=admin).json()
    assert seen["actions"] == ["return", "approve"]  # no edit tools for the approver
    # Edits, undo and submission of a submitted plan are refused, naming the state.
    for action, body in (
        ("split", {"version": 2, "grid_id": _gid(plan, "幸福社区第2网格"), "line": CUT}),
        ("rename", {"version": 2, "grid_id": _gid(plan, "幸福社区第2网格"), "name": "X"}),
        ("undo", {"version": 2}),
        ("submit", {"version": 2}),
    ):
        r = _post(client, admin, plan["id"], action, body)
        assert r.status_code == 409, (action, r.text)
        assert r.json()["detail"].startswith(f"方案「{plan['name']}」当前为待审批，不能")
    # Only those who approve may return it, and only with a reason.
    r = _post(client, h, plan["id"], "return", {"reason": "户数不均"})
    assert r.status_code == 403
    assert _post(client, admin, plan["id"], "return", {}).status_code == 422
    assert _post(client, admin, plan["id"], "return", {"reason": ""}).status_code == 422
    r = _post(client, admin, plan["id"], "return", {"reason": "东侧新网格没有住户，请并入相邻网格"})
    assert r.status_code == 200, r.text
    back = client.get(f"{P}/{plan['id']}", headers=h).json()
    assert back["status"] == "rejected"
    assert back["return_reason"] == "东侧新网格没有住户，请并入相邻网格"
    assert back["returned_by"] is not None and back["actions"] == ["edit", "submit"]
    assert client.get(f"{P}/{plan['id']}", headers=admin).json()["actions"] == ["edit", "submit"]
    # Returned twice, or approved once returned: refused.
    r = _post(client, admin, plan["id"], "return", {"reason": "再退"})
    assert r.status_code == 409 and r.json()["detail"] == (
        f"方案「{plan['name']}」当前为已退回，不能退回（只有待审批的方案可以退回）"
    )
    r = _post(client, admin, plan["id"], "approve", {"effective_date": "2026-06-01", "reason": "x"})
    assert r.status_code == 409
    # The planner fixes it and submits again; the approver approves.
    fixed = _post(client, h, plan["id"], "rename", {
        "version": back["version"], "grid_id": _gid(plan, "幸福社区第2网格"), "name": "幸福东网格",
    }).json()  # fmt: skip
    assert fixed["status"] == "rejected" and fixed["undo"] == "改名 「幸福东网格」"
    again = _submitted(client, h, fixed)
    assert again["status"] == "submitted"
    r = _post(
        client, admin, plan["id"], "approve", {"effective_date": "2026-06-01", "reason": "调整"}
    )
    assert r.status_code == 200 and r.json()["status"] == "approved"
    done = client.get(f"{P}/{plan['id']}", headers=admin).json()
    assert done["actions"] == [] and done["applied_at"] is not None


def test_readers_get_no_actions_and_may_not_act(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    plan = _plan(client, token_for("planner"))
    for role in ("auditor", "dispatcher"):
        h = token_for(role)
        assert client.get(f"{P}/{plan['id']}", headers=h).json()["actions"] == []
        for action, body in (
            ("undo", {"version": 1}),
            ("redo", {"version": 1}),
            ("rename", {"version": 1, "grid_id": plan["grids"][0]["id"], "name": "X"}),
            ("return", {"reason": "x"}),
        ):
            assert _post(client, h, plan["id"], action, body).status_code == 403, (role, action)


# --------------------------------------------------------------------------- effective date
def test_future_effective_date_swaps_once_at_that_moment(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    h, admin = token_for("planner"), token_for("county_admin")
    plan = _submitted(client, h, _split(client, h, _plan(client, h)))
    day = dt.date.today() + dt.timedelta(days=30)
    r = _post(client, admin, plan["id"], "approve", {"effective_date": str(day), "reason": "拆分"})
    assert r.status_code == 200, r.text
    starts = dt.datetime.combine(day, dt.time(0), SHANGHAI)
    assert r.json()["status"] == "scheduled"
    assert dt.datetime.fromisoformat(r.json()["effective_at"]) == starts
    seen = client.get(f"{P}/{plan['id']}", headers=admin).json()
    assert (seen["status"], seen["effective_date"], seen["applied_at"]) == (
        "scheduled", str(day), None,
    )  # fmt: skip
    assert seen["actions"] == []
    listed = client.get(P, headers=h).json()["data"][0]
    assert (listed["status"], listed["effective_date"]) == ("scheduled", str(day))

    def live() -> list[tuple[str, int, str]]:
        rows = db.execute(
            select(Grid.code, Grid.version, Grid.status)
            .where(Grid.community_code == C1)
            .order_by(Grid.code, Grid.version)
        ).all()
        return [tuple(r) for r in rows]

    before = [(G11, 1, "active"), (G12, 1, "active")]
    assert live() == before  # nothing swapped at approval
    east = {"lng": 113.009, "lat": 34.005, "date": str(day + dt.timedelta(days=1))}
    assert client.get("/api/v1/grids/at", params=east).json()["code"] == G12

    # Another plan of the community cannot be approved while this one waits.
    other = _submitted(client, h, _plan(client, h))
    r = _post(
        client, admin, other["id"], "approve", {"effective_date": "2026-06-01", "reason": "x"}
    )
    assert r.status_code == 409 and str(day) in r.json()["detail"]

    # One second before the moment: nothing; at the moment: swapped; again: nothing more.
    assert apply_due_in(db, at=starts - dt.timedelta(seconds=1)) == []
    assert live() == before
    mark = db.execute(text("SELECT coalesce(max(seq), 0) FROM registry_changes")).scalar_one()
    assert apply_due_in(db, at=starts) == [plan["id"]]
    after = [(G11, 1, "active"), (G12, 1, "retired"), (G12, 2, "active"), (C1 + "003", 1, "active")]
    assert live() == after
    assert apply_due_in(db, at=starts + dt.timedelta(days=3)) == []
    assert live() == after
    row = db.get(Plan, plan["id"])
    db.refresh(row)
    assert (row.status, row.applied_at) == ("approved", starts)
    # The history, locate's change feed and the plan all see it.
    assert client.get("/api/v1/grids/at", params=east).json()["code"] == C1 + "003"
    fed = db.execute(
        text("SELECT DISTINCT key FROM registry_changes WHERE kind = 'grid' AND seq > :m"),
        {"m": mark},
    ).scalars()
    assert {G12, C1 + "003"} <= set(fed)
    new = db.scalar(select(Grid).where(Grid.code == C1 + "003"))
    assert new is not None and (new.name, str(new.valid_from)) == ("新网格1", str(day))
    assert client.get(f"{P}/{plan['id']}", headers=h).json()["status"] == "approved"


def test_approval_refuses_a_date_before_the_live_version(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)  # the live grids are valid from 2026-01-01
    h, admin = token_for("planner"), token_for("county_admin")
    plan = _submitted(client, h, _split(client, h, _plan(client, h)))
    r = _post(client, admin, plan["id"], "approve", {"effective_date": "2025-12-01", "reason": "x"})
    assert r.status_code == 422
    assert r.json()["detail"] == (
        f"生效日期 2025-12-01 早于网格 {G12} 现行版本的生效日期 2026-01-01"
    )
    assert db.get(Plan, plan["id"]).status == "submitted"


def test_approval_and_edits_refused_outside_their_states(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    h, admin = token_for("planner"), token_for("county_admin")
    plan = _plan(client, h)
    name = plan["name"]
    body = {"effective_date": str(dt.date.today() + dt.timedelta(days=10)), "reason": "调整"}
    r = _post(client, admin, plan["id"], "approve", body)
    assert r.status_code == 409
    assert r.json()["detail"] == f"方案「{name}」当前为草稿，不能批准（只有待审批的方案可以批准）"
    r = _post(client, admin, plan["id"], "return", {"reason": "x"})
    assert r.status_code == 409
    assert r.json()["detail"] == f"方案「{name}」当前为草稿，不能退回（只有待审批的方案可以退回）"
    _submitted(client, h, plan)
    assert _post(client, admin, plan["id"], "approve", body).json()["status"] == "scheduled"
    # Scheduled: nothing more to approve, return, edit or submit.
    for action, payload in (
        ("approve", body),
        ("return", {"reason": "x"}),
        ("submit", {"version": 3}),
        ("redo", {"version": 3}),
    ):
        r = _post(client, admin, plan["id"], action, payload)
        assert r.status_code == 409, action
        assert r.json()["detail"].startswith(f"方案「{name}」当前为已批准，待生效，不能")
