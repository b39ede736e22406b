"""Browser tests: the real app under uvicorn on 127.0.0.1, headless Debian chromium via Playwright.

The fixture data (the tiny county of tests/factories.py plus users) is committed on a real
connection, because the server answers from its own connections, and deleted afterwards. What a
test makes (cases, visits, plans) is deleted before and after each test (``web``), so every test
starts from the same county and any one can run alone.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "secret-pass-1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
USERS = [
    ("admin", "county_admin", "419901", None),
    ("disp", "dispatcher", "419901", None),
    ("plan", "planner", "419901", None),
    ("worker", "grid_worker", "419901001001", "S2"),
    ("outsider", "dispatcher", "419902", None),
    ("auditor", "auditor", "419901", None),
    # Staff of 城管执法局 (tests/units/world.py: the county's responsible units and their staff).
    ("cg1", "unit_handler", "419901", None),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# What tests make in the tiny county, dependants first.
_MADE = (
    (
        "incident_ratings",
        "incident_id IN (SELECT id FROM incidents WHERE grid_code LIKE '419901%')",
    ),
    ("incident_events", "incident_id IN (SELECT id FROM incidents WHERE grid_code LIKE '419901%')"),
    ("incident_outbox", "incident_id IN (SELECT id FROM incidents WHERE grid_code LIKE '419901%')"),
    ("incidents", "grid_code LIKE '419901%'"),
    ("visits", "grid_code LIKE '419901%'"),
    ("plan_edits", "plan_id IN (SELECT id FROM plans WHERE community_code LIKE '419901%')"),
    ("plan_grids", "plan_id IN (SELECT id FROM plans WHERE community_code LIKE '419901%')"),
    ("plans", "community_code LIKE '419901%'"),
    ("audit_findings", "run_id IN (SELECT id FROM audit_runs WHERE area_code LIKE '419901%')"),
    ("audit_runs", "area_code LIKE '419901%'"),
    # Arrivals and the register made on the phone (tests/web/test_phone_register.py); the flat an
    # approved rented house added to the tiny county's households (it has 1-101 and 1-102).
    ("duty_arrivals", "grid_code LIKE '419901%'"),
    ("access_log", "person_id IS NOT NULL"),
    ("register_history", "true"),
    ("register_proposals", "grid_code LIKE '419901%' OR from_grid_code LIKE '419901%'"),
    ("persons", "grid_code LIKE '419901%'"),
    ("houses", "grid_code LIKE '419901%'"),
    (
        "households",
        "building_id IN (SELECT id FROM buildings WHERE community_code LIKE '419901%') "
        "AND (unit, room) NOT IN (('1', '101'), ('1', '102'))",
    ),
)


def _delete_made(conn: Any) -> None:
    # The case history is append-only (a trigger refuses DELETE): as the test cluster's superuser we
    # switch triggers off for this transaction only, so we must delete dependent rows ourselves.
    conn.execute(text("SET LOCAL session_replication_role = replica"))
    for table, where in _MADE:
        if conn.execute(text("SELECT to_regclass(:t)"), {"t": table}).scalar():
            conn.execute(text(f"DELETE FROM {table} WHERE {where}"))


def _cleanup(conn: Any) -> None:
    _delete_made(conn)
    conn.execute(text("DELETE FROM users WHERE username = ANY(:u)"), {"u": [u[0] for u in USERS]})
    conn.execute(
        text(
            "DELETE FROM households WHERE building_id IN (SELECT id FROM buildings WHERE community_code LIKE '419901%')"
        )
    )
    conn.execute(text("DELETE FROM routing_rules WHERE area_code LIKE '419901%'"))
    conn.execute(
        text(
            "DELETE FROM unit_members WHERE unit_code IN "
            "(SELECT code FROM units WHERE area_code LIKE '419901%')"
        )
    )
    conn.execute(text("DELETE FROM units WHERE area_code LIKE '419901%'"))
    conn.execute(
        text("DELETE FROM users WHERE username = ANY(:u)"), {"u": ["zj1", "zj_old", "pcs1"]}
    )
    conn.execute(text("DELETE FROM staff_assignments WHERE grid_code LIKE '419901%'"))
    conn.execute(text("DELETE FROM buildings WHERE community_code LIKE '419901%'"))
    conn.execute(text("DELETE FROM staff WHERE code IN ('S1', 'S2', 'S3')"))
    conn.execute(text("DELETE FROM grids WHERE code LIKE '419901%'"))
    conn.execute(text("DELETE FROM areas WHERE code LIKE '419901%'"))


# Package scope: the committed county is deleted once tests/web ends, so test packages that run after
# it (in any order) can make the tiny county in their own transaction.
@pytest.fixture(scope="package")
def web_data(engine: Engine) -> Iterator[None]:
    from app.auth.models import User
    from app.auth.security import hash_password
    from app.incidents.categories import DEFAULT_FILE, read_category_file, upsert_categories
    from tests.factories import tiny_county
    from tests.units.world import add_units

    with engine.begin() as conn:
        _cleanup(conn)
    with engine.begin() as conn:
        # Reference data the pages need; upserted, so it is left in place afterwards.
        upsert_categories(conn, read_category_file(DEFAULT_FILE))
        session = Session(bind=conn)
        tiny_county(session)
        staff = dict(session.execute(text("SELECT code, id FROM staff")).all())
        pw = hash_password(PASSWORD)
        for name, role, jur, staff_code in USERS:
            session.add(
                User(
                    username=name,
                    full_name=name,
                    password_hash=pw,
                    role=role,
                    jurisdiction_code=jur,
                    staff_id=staff.get(staff_code) if staff_code else None,
                )
            )
        session.flush()
        add_units(session)  # the tier units, two departments, a police station and their staff
    try:
        yield
    finally:
        with engine.begin() as conn:
            _cleanup(conn)


@pytest.fixture(scope="package")
def live_server(engine: Engine, web_data: None) -> Iterator[str]:
    import uvicorn

    from app.main import create_app
    from app.settings import Settings

    app = create_app(Settings(environment="test", locate_refresh_seconds=0), engine=engine)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@dataclass
class Watched:
    """A page plus what it did: every request URL and every console error."""

    page: Any
    base: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def login(self, username: str, next_url: str = "/") -> None:
        self.page.goto(f"{self.base}/login?next={quote(next_url)}")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state("networkidle")

    def cookie(self, name: str) -> str:
        return next(c["value"] for c in self.page.context.cookies() if c["name"] == name)

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"))

    def assert_clean(self) -> None:
        outside = [u for u in self.requests if urlparse(u).hostname not in ("127.0.0.1", None)]
        outside = [u for u in outside if not u.startswith(("data:", "blob:"))]
        assert outside == [], f"requests left 127.0.0.1: {outside}"
        assert self.errors == [], f"console errors: {self.errors}"


@pytest.fixture
def fresh_county(engine: Engine, web_data: None) -> Iterator[None]:
    """The committed tiny county with nothing made by a test: no cases, visits or plans, before
    the test and after it."""
    with engine.begin() as conn:
        _delete_made(conn)
    try:
        yield
    finally:
        with engine.begin() as conn:
            _delete_made(conn)


@pytest.fixture
def web(browser: Any, live_server: str, fresh_county: None) -> Iterator[Watched]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 800},
        geolocation={"latitude": 34.005, "longitude": 113.002},
        permissions=["geolocation"],
        locale="zh-CN",
    )
    page = context.new_page()
    w = Watched(page=page, base=live_server)
    page.on("request", lambda r: w.requests.append(r.url))
    page.on("console", lambda m: w.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: w.errors.append(str(e)))
    try:
        yield w
    finally:
        context.close()
