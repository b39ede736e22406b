"""Task admission (docs/party.md#task-admission): the county's list, tasks given by departments and
refused off the list with the reason, a worker's own tasks, the load per worker by kind."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.factories import G11, G12, G21

BJ = dt.timezone(dt.timedelta(hours=8))
TODAY = dt.datetime.now(BJ).date()


@pytest.fixture
def people(api, token_for, world):  # type: ignore[no-untyped-def]
    return {
        "admin": token_for("county_admin", "419901", "admin1"),
        "disp": token_for("dispatcher", "419901001", "disp1"),
        "mzj": token_for("unit_handler", "419901", "mzj"),
        "zjj": token_for("unit_handler", "419901", "zjj"),
        "loner": token_for("unit_handler", "419901", "loner"),
        "leader": token_for("grid_worker", "419901001", "zhangwei", staff_id=world["S1"]),
        "worker": token_for("grid_worker", "419901001", "lina", staff_id=world["S2"]),
        "planner": token_for("planner", "419901", "plan1"),
        "auditor": token_for("auditor", "419901", "aud1"),
    }


@pytest.fixture
def listed(api, people):  # type: ignore[no-untyped-def]
    ids = {}
    for name in ("信息采集", "入户走访", "矛盾调解"):
        r = api.post("/api/v1/task-kinds", json={"name": name}, headers=people["admin"])
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    return ids


def give(api, who, **body):  # type: ignore[no-untyped-def]
    payload = {"kind": "信息采集", "grid_code": G11, "title": "核对低保户信息", **body}
    return api.post("/api/v1/grid-tasks", json=payload, headers=who)


def test_the_admin_keeps_the_list(api, people, listed):
    r = api.get("/api/v1/task-kinds", headers=people["mzj"])
    assert [k["name"] for k in r.json()] == ["信息采集", "入户走访", "矛盾调解"]
    again = api.post("/api/v1/task-kinds", json={"name": " 信息采集 "}, headers=people["admin"])
    assert again.status_code == 409
    assert "已有“信息采集”" in again.json()["detail"]
    blank = api.post("/api/v1/task-kinds", json={"name": "   "}, headers=people["admin"])
    assert blank.status_code == 422
    off = api.put(
        f"/api/v1/task-kinds/{listed['矛盾调解']}",
        json={"name": "矛盾调解", "active": False},
        headers=people["admin"],
    )
    assert off.status_code == 200 and off.json()["active"] is False
    rename = api.put(
        f"/api/v1/task-kinds/{listed['入户走访']}",
        json={"name": "信息采集"},
        headers=people["admin"],
    )
    assert rename.status_code == 409
    assert (
        api.put(
            "/api/v1/task-kinds/999999", json={"name": "x"}, headers=people["admin"]
        ).status_code
        == 404
    )
    active = api.get("/api/v1/task-kinds", params={"active": True}, headers=people["leader"])
    assert [k["name"] for k in active.json()] == ["信息采集", "入户走访"]


def test_only_the_county_admin_edits_the_list(api, people):
    for who in ("disp", "mzj", "leader", "planner"):
        r = api.post("/api/v1/task-kinds", json={"name": "招商引资"}, headers=people[who])
        assert r.status_code == 403, who
    assert api.post("/api/v1/task-kinds", json={"name": "x"}).status_code == 401


def test_a_department_gives_a_listed_task_to_the_grid_leader(api, people, listed):
    r = give(api, people["mzj"], due_on=(TODAY + dt.timedelta(days=3)).isoformat())
    assert r.status_code == 201, r.text
    t = r.json()
    assert (t["kind_name"], t["assignee"], t["assignee_name"]) == ("信息采集", "zhangwei", "张伟")
    assert (t["unit_code"], t["unit_name"], t["state_label"]) == ("dept-mz", "县民政局", "待办")
    assert t["grid_name"] == "幸福社区第1网格"
    # Named worker of the grid
    r = give(api, people["mzj"], assignee="lina", grid_code=G12, kind="入户走访")
    assert r.status_code == 201 and r.json()["assignee"] == "lina"


def test_a_task_off_the_list_is_refused_naming_the_kind_and_the_list(api, people, listed):
    r = give(api, people["mzj"], kind="招商引资")
    assert r.status_code == 422
    body = r.json()
    assert "任务类型“招商引资”不在示范县网格事务准入清单" in body["detail"]
    assert "/admission" in body["detail"]
    r = give(api, people["mzj"], kind="矛盾调解")
    assert r.status_code == 201
    api.put(
        f"/api/v1/task-kinds/{listed['矛盾调解']}",
        json={"name": "矛盾调解", "active": False},
        headers=people["admin"],
    )
    r = give(api, people["mzj"], kind="矛盾调解")
    assert r.status_code == 422
    assert "任务类型“矛盾调解”已移出示范县网格事务准入清单" in r.json()["detail"]
    # the admin is held to the list too
    assert give(api, people["admin"], kind="招商引资").status_code == 422


def test_every_refusal_of_a_task(api, people, listed):
    assert give(api, people["mzj"], grid_code="419901001001009").status_code == 404
    assert give(api, people["disp"], grid_code="419901002001001").status_code == 404
    no_worker = give(api, people["mzj"], grid_code=G21)
    assert no_worker.status_code == 422 and "没有网格员账号" in no_worker.json()["detail"]
    stranger = give(api, people["mzj"], assignee="disp1")
    assert stranger.status_code == 422 and "不是网格" in stranger.json()["detail"]
    late = give(api, people["mzj"], due_on=(TODAY - dt.timedelta(days=1)).isoformat())
    assert late.status_code == 422 and "期限" in late.json()["detail"]
    loner = give(api, people["loner"])
    assert loner.status_code == 403 and "不属于任何承办单位" in loner.json()["detail"]
    other = give(api, people["zjj"], unit_code="dept-mz")
    assert other.status_code == 403 and "dept-mz" in other.json()["detail"]
    assert give(api, people["admin"], unit_code="dept-none").status_code == 422
    for who in ("leader", "planner", "auditor"):
        assert give(api, people[who]).status_code == 403, who
    bad = api.post(
        "/api/v1/grid-tasks", json={"kind": "信息采集", "grid_code": "1"}, headers=people["mzj"]
    )
    assert bad.status_code == 422


def test_the_worker_sees_and_finishes_their_own_tasks(api, people, listed):
    task = give(api, people["mzj"]).json()
    give(api, people["zjj"], kind="入户走访", assignee="lina")
    mine = api.get("/api/v1/grid-tasks/mine", headers=people["leader"]).json()
    assert [d["title"] for d in mine["data"]] == ["核对低保户信息"] and mine["count"] == 1
    # lina sees only hers, even in the listing of the whole area
    theirs = api.get("/api/v1/grid-tasks", headers=people["worker"]).json()
    assert [d["kind_name"] for d in theirs["data"]] == ["入户走访"]
    # a department sees the tasks of its own unit only
    zj = api.get("/api/v1/grid-tasks", headers=people["zjj"]).json()
    assert [d["unit_code"] for d in zj["data"]] == ["dept-zj"]
    assert api.get("/api/v1/grid-tasks", headers=people["admin"]).json()["count"] == 2
    assert (
        api.post(f"/api/v1/grid-tasks/{task['id']}/done", headers=people["worker"]).status_code
        == 404
    )
    assert (
        api.post(f"/api/v1/grid-tasks/{task['id']}/done", headers=people["mzj"]).status_code == 403
    )
    done = api.post(f"/api/v1/grid-tasks/{task['id']}/done", headers=people["leader"])
    assert done.status_code == 200 and done.json()["state_label"] == "已完成"
    again = api.post(f"/api/v1/grid-tasks/{task['id']}/done", headers=people["leader"])
    assert again.status_code == 409 and "已于" in again.json()["detail"]
    open_only = api.get(
        "/api/v1/grid-tasks/mine", params={"state": "open"}, headers=people["leader"]
    )
    assert open_only.json()["count"] == 0


def test_the_load_per_worker_by_kind(api, people, listed):
    give(api, people["mzj"])
    give(api, people["mzj"])
    give(api, people["zjj"], kind="入户走访")
    give(api, people["zjj"], kind="入户走访", assignee="lina", grid_code=G12)
    first = api.get("/api/v1/grid-tasks/mine", headers=people["leader"]).json()["data"][0]
    api.post(f"/api/v1/grid-tasks/{first['id']}/done", headers=people["leader"])
    r = api.get("/api/v1/grid-tasks/load", headers=people["admin"])
    assert r.status_code == 200, r.text
    load = r.json()
    assert load["kinds"] == ["信息采集", "入户走访"]
    rows = {row["assignee"]: row for row in load["rows"]}
    assert rows["zhangwei"]["by_kind"] == {"信息采集": 2, "入户走访": 1}
    assert (rows["zhangwei"]["total"], rows["zhangwei"]["open"], rows["zhangwei"]["name"]) == (
        3,
        2,
        "张伟",
    )
    assert rows["lina"]["by_kind"] == {"入户走访": 1}
    assert [row["assignee"] for row in load["rows"]] == ["zhangwei", "lina"]
    # the period: nothing yesterday; a reversed period is refused
    y = (TODAY - dt.timedelta(days=1)).isoformat()
    assert (
        api.get(
            "/api/v1/grid-tasks/load", params={"start": y, "end": y}, headers=people["admin"]
        ).json()["rows"]
        == []
    )
    rev = api.get(
        "/api/v1/grid-tasks/load",
        params={"start": TODAY.isoformat(), "end": y},
        headers=people["admin"],
    )
    assert rev.status_code == 422
    assert api.get("/api/v1/grid-tasks/load", headers=people["leader"]).status_code == 403
    outside = api.get(
        "/api/v1/grid-tasks/load", params={"area": "419901002"}, headers=people["disp"]
    )
    assert outside.status_code == 403


def test_the_demo_list_is_loaded_once(db, world):  # type: ignore[no-untyped-def]
    from app.admission.demo import load_admission_list
    from app.admission.models import TaskKind

    assert load_admission_list(db, "419901") == 6
    assert load_admission_list(db, "419901") == 0
    names = sorted(db.scalars(select(TaskKind.name).where(TaskKind.county_code == "419901")))
    assert names == sorted(
        ["信息采集", "入户走访", "矛盾纠纷排查", "安全隐患巡查", "事件上报", "政策宣传"]
    )
