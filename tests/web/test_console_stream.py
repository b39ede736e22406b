"""The console's live stream (GET /api/v1/incident-events, Server-Sent Events) against the real
server: a case reported through the API reaches a console of its area within 2 s and never a
console of another area; a reconnecting console gets what it missed, inside its area only."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from tests.web.conftest import PASSWORD

G11_POINT = {"lng": 113.002, "lat": 34.005, "crs": "cgcs2000"}  # grid 419901001001001, 幸福社区
G21_POINT = {"lng": 113.015, "lat": 34.005, "crs": "cgcs2000"}  # grid 419901001002001, 和平社区
# A dispatcher of 和平社区 only (made here, beside the conftest's users).
C2_USER = ("c2disp", "dispatcher", "419901001002")


@pytest.fixture
def c2_user(engine: Engine, web_data: None) -> Iterator[str]:
    from app.auth.security import hash_password

    name, role, jur = C2_USER
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE username = :u"), {"u": name})
        conn.execute(
            text(
                "INSERT INTO users (username, full_name, password_hash, role, jurisdiction_code) "
                "VALUES (:u, :u, :h, :r, :j)"
            ),
            {"u": name, "h": hash_password(PASSWORD), "r": role, "j": jur},
        )
    try:
        yield name
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE username = :u"), {"u": name})


def bearer(base: str, username: str) -> dict[str, str]:
    r = httpx.post(f"{base}/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@dataclass
class Listener:
    """One console's stream in a thread: every event as (kind, id, data, arrival time)."""

    base: str
    headers: dict[str, str]
    params: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[str, str | None, dict[str, Any], float]] = field(default_factory=list)
    status: int | None = None
    ready: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Listener:
        threading.Thread(target=self._run, daemon=True).start()
        assert self.ready.wait(10), f"stream not ready: {self.status} {self.events}"
        return self

    def _run(self) -> None:
        try:
            with httpx.stream(
                "GET",
                f"{self.base}/api/v1/incident-events",
                headers=self.headers,
                params={"timeout": 15, **self.params},
                timeout=30,
            ) as r:
                self.status = r.status_code
                if r.status_code != 200:
                    return
                kind, eid, data = "message", None, ""
                for line in r.iter_lines():
                    if line.startswith("event:"):
                        kind = line[6:].strip()
                    elif line.startswith("id:"):
                        eid = line[3:].strip()
                    elif line.startswith("data:"):
                        data += line[5:].strip()
                    elif line == "" and data:
                        self.events.append((kind, eid, json.loads(data), time.monotonic()))
                        if kind == "ready":
                            self.ready.set()
                        kind, eid, data = "message", None, ""
        finally:
            self.ready.set()
            self.done.set()

    def cases(self) -> list[tuple[str, str, float]]:
        return [(d["case_no"], d["action"], at) for k, _, d, at in self.events if k == "case"]


def report(base: str, headers: dict[str, str], where: dict[str, Any], text_: str) -> dict[str, Any]:
    r = httpx.post(
        f"{base}/api/v1/incidents",
        json={"category_code": "0401", "description": text_, **where},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_new_case_reaches_its_area_within_2_s_and_no_other(
    live_server: str, fresh_county: None, c2_user: str
) -> None:
    county = Listener(live_server, bearer(live_server, "disp")).start()
    other_community = Listener(live_server, bearer(live_server, c2_user)).start()
    other_county = Listener(live_server, bearer(live_server, "outsider")).start()
    assert county.status == other_community.status == other_county.status == 200
    # Each says it listens live (a server without a listener would say {"live": false}).
    assert county.events[-1][2] == {"live": True}

    worker = bearer(live_server, "worker")  # signing in (Argon2) is not part of the delivery
    sent = time.monotonic()
    case = report(live_server, worker, G11_POINT, "井盖缺失")
    deadline = sent + 2.0
    while time.monotonic() < deadline and not county.cases():
        time.sleep(0.02)
    got = county.cases()
    assert [(no, action) for no, action, _ in got] == [(case["case_no"], "report")]
    assert got[0][2] - sent < 2.0
    # The event says what happened and to which case, and nothing personal.
    data = next(d for k, _, d, _ in county.events if k == "case")
    assert data["grid_code"] == "419901001001001"
    assert data["to_state"] == "reported"
    assert data["category_code"] == "0401"
    assert "reporter_phone" not in data and "description" not in data

    time.sleep(1.0)  # give a leak the time to arrive
    assert other_community.cases() == []
    assert other_county.cases() == []

    # A case in 和平社区 reaches its dispatcher and the county's, not the other county's.
    disp = bearer(live_server, "disp")
    second = report(live_server, disp, G21_POINT, "路灯不亮")
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and not other_community.cases():
        time.sleep(0.02)
    assert [n for n, _, _ in other_community.cases()] == [second["case_no"]]
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and len(county.cases()) < 2:
        time.sleep(0.02)
    assert [n for n, _, _ in county.cases()] == [case["case_no"], second["case_no"]]
    time.sleep(0.5)
    assert other_county.cases() == []


def test_a_move_is_pushed_too(live_server: str, fresh_county: None) -> None:
    disp = bearer(live_server, "disp")
    case = report(live_server, disp, G11_POINT, "占道经营")
    county = Listener(live_server, disp).start()
    r = httpx.post(
        f"{live_server}/api/v1/incidents/{case['id']}/transitions",
        json={"action": "accept", "version": case["version"]},
        headers=disp,
    )
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and not county.cases():
        time.sleep(0.02)
    data = next(d for k, _, d, _ in county.events if k == "case")
    assert (data["case_no"], data["action"], data["from_state"], data["to_state"]) == (
        case["case_no"],
        "accept",
        "reported",
        "accepted",
    )


def test_reconnecting_gets_what_it_missed_in_its_area_only(
    live_server: str, fresh_county: None, c2_user: str
) -> None:
    disp = bearer(live_server, "disp")
    first = report(live_server, disp, G11_POINT, "第一件")
    # The position a console had reached: the event id of the first case's report.
    county = Listener(live_server, disp, {"after": 0}).start()
    mark = next(
        int(i) for k, i, d, _ in county.events if k == "case" and d["case_no"] == first["case_no"]
    )
    in_c1 = report(live_server, disp, G11_POINT, "断线期间 一")
    in_c2 = report(live_server, disp, G21_POINT, "断线期间 二")

    again = Listener(live_server, {**disp, "Last-Event-ID": str(mark)}).start()
    assert [n for n, _, _ in again.cases()] == [in_c1["case_no"], in_c2["case_no"]]
    # The same position asked by 和平社区's dispatcher: only its own case.
    c2 = Listener(live_server, {**bearer(live_server, c2_user), "Last-Event-ID": str(mark)}).start()
    assert [n for n, _, _ in c2.cases()] == [in_c2["case_no"]]


def test_refusals(live_server: str, fresh_county: None) -> None:
    url = f"{live_server}/api/v1/incident-events"
    r = httpx.get(url, params={"timeout": 0})
    assert r.status_code == 401
    assert r.json()["detail"] == "请先登录"
    r = httpx.get(url, params={"timeout": 0}, headers=bearer(live_server, "plan"))
    assert r.status_code == 403
    detail = r.json()["detail"]
    assert detail.startswith("此操作仅限县级管理员、指挥调度员、网格员、督查审计员")
    assert detail.endswith("；当前角色为网格规划员")
    disp = bearer(live_server, "disp")
    r = httpx.get(url, params={"timeout": 0}, headers={**disp, "Last-Event-ID": "abc"})
    assert r.status_code == 422
    assert r.json()["detail"] == "Last-Event-ID 应为事件编号（非负整数），收到 'abc'"
    # An area outside the caller's jurisdiction is refused, not an empty stream.
    r = httpx.get(url, params={"timeout": 0, "area": "419902"}, headers=disp)
    assert r.status_code == 403
    assert r.json()["detail"] == "区域 419902 不在您的辖区内"


def test_a_units_staff_hear_only_of_their_units_cases(live_server: str, fresh_county: None) -> None:
    disp = bearer(live_server, "disp")
    dept = Listener(live_server, bearer(live_server, "cg1")).start()
    case = report(live_server, disp, G11_POINT, "渣土撒漏")
    other = report(live_server, disp, G11_POINT, "另一件")

    def move(c: dict[str, Any], action: str, **extra: Any) -> dict[str, Any]:
        r = httpx.post(
            f"{live_server}/api/v1/incidents/{c['id']}/transitions",
            json={"action": action, "version": c["version"], **extra},
            headers=disp,
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    case = move(move(case, "accept"), "register")
    move(case, "dispatch", unit="dept-cgzf")  # 城管执法局, whose staff cg1 is
    move(other, "accept")
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline and not dept.cases():
        time.sleep(0.02)
    time.sleep(1.0)
    # The report, 受理 and 立案 happened while the case was nobody's unit's; the other case never is.
    assert [(n, a) for n, a, _ in dept.cases()] == [(case["case_no"], "dispatch")]
    data = next(d for k, _, d, _ in dept.events if k == "case")
    assert data["unit_code"] == "dept-cgzf"
    assert "assignee" not in data
    # Replayed from the start, the department gets its own case's history only (as it is now:
    # with its unit), never the other case.
    again = Listener(live_server, bearer(live_server, "cg1"), {"after": 0}).start()
    assert {n for n, _, _ in again.cases()} == {case["case_no"]}
