"""GET /api/v1/meta: the labels the pages show, from the tables that define them."""

from __future__ import annotations


def test_meta_serves_labels_to_anyone_and_may_be_cached(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/meta")
    assert r.status_code == 200
    assert r.headers["cache-control"] == "public, max-age=300"
    meta = r.json()
    assert meta["states"]["reported"] == "已上报"
    assert meta["states"]["handling"] == "处置中"
    assert meta["states"]["voided"] == "已作废"
    assert list(meta["states"])[:3] == ["reported", "accepted", "registered"]
    # 在办 (docs/domain.md#incident-lifecycle): a case a unit returned waits for 改派, a case
    # sent for on-site 核查 waits for the grid worker; both are still in progress.
    assert meta["in_progress_states"] == [
        "reported",
        "accepted",
        "registered",
        "dispatched",
        "returned",
        "handling",
        "handled",
        "checking",
        "verified",
    ]
    assert meta["transitions"]["accept"] == "受理"
    assert meta["transitions"]["escalate"] == "升级督办"
    assert meta["transitions"]["resolve_on_spot"] == "自行处置"
    assert "report" not in meta["transitions"]  # not a move a client can ask for
    # A case's history also holds its intake and a boundary change's re-routing.
    assert meta["events"]["report"] == "上报"
    assert meta["events"]["reroute"] == "改划网格"
    assert meta["events"]["accept"] == "受理"
    # The category table as loaded by the migrations (app/incidents/data/categories.csv).
    assert meta["categories"]["01"] == "矛盾纠纷"
    assert meta["categories"]["0101"] == "邻里纠纷"
    assert meta["roles"]["dispatcher"] == "指挥调度员"
    assert meta["roles"]["grid_worker"] == "网格员"


def test_meta_shows_a_renamed_category(client, token_for) -> None:  # type: ignore[no-untyped-def]
    before = client.get("/api/v1/incident-categories").json()
    cat = next(c for c in before if c["code"] == "0101")
    body = {**cat, "name": "邻里矛盾"}
    r = client.put("/api/v1/incident-categories/0101", json=body, headers=token_for("county_admin"))
    assert r.status_code == 200
    assert client.get("/api/v1/meta").json()["categories"]["0101"] == "邻里矛盾"


def test_meta_names_the_console_s_urgency_lights_and_ratings(client) -> None:  # type: ignore[no-untyped-def]
    meta = client.get("/api/v1/meta").json()
    # The cases layer's classes, named as the deadline lights they show.
    assert meta["urgency"] == {"overdue": "超期", "due_soon": "临期", "on_time": "正常"}
    assert meta["lights"] == {"green": "正常", "amber": "临期", "red": "超期", "paused": "挂账"}
    assert meta["requests"] == {"extension": "延期", "suspension": "挂账"}
    assert meta["satisfaction"] == {
        "satisfied": "满意",
        "basically": "基本满意",
        "unsatisfied": "不满意",
    }


def test_meta_names_plan_states_and_household_bands(client) -> None:  # type: ignore[no-untyped-def]
    meta = client.get("/api/v1/meta").json()
    assert meta["plan_states"] == {
        "draft": "草稿",
        "submitted": "待审批",
        "scheduled": "已批准，待生效",
        "approved": "已批准",
        "rejected": "已退回",
    }
    # Every band class the grids layer gives a grid has a label.
    assert meta["bands"] == {
        "below": "低于标准",
        "within": "标准内",
        "above": "高于标准",
        "exempt": "专属网格（不计户数标准）",
    }
