"""What row-level security costs on the hot paths: the console's case layer, the KPI query, intake.

Same run, same data, same code, two ways of opening the session:

- **without RLS**: a plain session on the owner (a superuser here, so PostgreSQL skips every policy),
  with the application's own jurisdiction filter as before;
- **with RLS**: the app's session, which declares ``gridgov_app`` and the caller's jurisdiction at
  the start of each transaction (one extra statement), so the policies of migration 0012 apply on
  top of the same filter.

Data: the incidents bench's county (10 communities × 30 grids) and N generated cases (default
1,000,000, as the KPI anchor; ``BENCH_RLS_CASES`` to change), of which the newest 5,000 are open for
the case layer. The caller is a county dispatcher (419901). Goal: overhead under 10 % on each.

Run: ``python bench/bench_rls.py`` (several minutes, most of it generating the cases).
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _common import bench_database  # noqa: E402
from bench_incidents import BOX, county, generate  # noqa: E402

from app.auth.policy import Principal, Role  # noqa: E402
from app.auth.scope import scope_of  # noqa: E402
from app.db import access_for, access_sessionmaker, intake_access, with_access  # noqa: E402
from app.incidents.calendar import TZ, default_calendar  # noqa: E402
from app.incidents.config import IncidentSettings  # noqa: E402
from app.incidents.intake import intake  # noqa: E402
from app.incidents.kpis import compute_kpis  # noqa: E402
from app.incidents.schemas import IncidentCreate  # noqa: E402
from app.incidents.service import cases_geojson  # noqa: E402
from app.incidents.statemachine import IN_PROGRESS_STATES  # noqa: E402
from app.locate.registry import load_snapshot  # noqa: E402

CASES = int(os.environ.get("BENCH_RLS_CASES", "1000000"))
ROUNDS = 7
INTAKES = 400
DISPATCHER = Principal(
    username="bench", role=Role.DISPATCHER, jurisdiction_code="419901", user_id=1
)


def _open_cases(engine) -> None:  # type: ignore[no-untyped-def]
    """The newest 5,000 cases are open with deadlines around now: the console's working set."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE incidents SET state = 'handling', closed_at = NULL, handled_at = NULL, "
                "deadline = now() + (id % 96 - 24) * interval '1 hour' "
                "WHERE id IN (SELECT id FROM incidents ORDER BY id DESC LIMIT 5000)"
            )
        )
        conn.execute(text("ANALYZE incidents"))


def _timed(make_session: Callable[[], Session], work: Callable[[Session], object]) -> float:
    session = make_session()
    try:
        t0 = time.perf_counter()
        work(session)
        session.commit()
        return time.perf_counter() - t0
    finally:
        session.close()


def _compare(name: str, plain, scoped, work, rounds: int = ROUNDS) -> None:  # type: ignore[no-untyped-def]
    before: list[float] = []
    after: list[float] = []
    _timed(plain, work), _timed(scoped, work)  # warm caches and plans for both
    for _ in range(rounds):  # interleaved, so drift in the machine's load hits both alike
        before.append(_timed(plain, work))
        after.append(_timed(scoped, work))
    b, a = statistics.median(before), statistics.median(after)
    print(
        f"{name:<34} without RLS {b * 1000:8.2f} ms   with RLS {a * 1000:8.2f} ms   "
        f"overhead {100 * (a - b) / b:+5.1f} %   (median of {rounds}; goal < 10 %)"
    )


def main() -> None:
    with bench_database() as engine:
        county(engine)
        t0 = time.perf_counter()
        generate(engine, CASES)
        _open_cases(engine)
        print(f"{CASES:,} cases generated in {time.perf_counter() - t0:.0f} s; load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip

        factory = access_sessionmaker(engine)

        def plain() -> Session:
            return Session(engine, expire_on_commit=False)

        def scoped() -> Session:
            return with_access(factory, access_for(DISPATCHER))

        scope = scope_of(DISPATCHER)
        _compare(
            "case layer (5,000 open cases)",
            plain,
            scoped,
            lambda s: cases_geojson(
                s, scope=scope, states=IN_PROGRESS_STATES, soon=dt.timedelta(hours=24), limit=5000
            ),
        )
        start = dt.datetime(2026, 4, 1, tzinfo=TZ)
        end = dt.datetime(2026, 7, 1, tzinfo=TZ)
        _compare(
            f"KPI query, county × quarter ({CASES:,})",
            plain,
            scoped,
            lambda s: compute_kpis(s, start=start, end=end, scope=scope),
            rounds=5,
        )

        with plain() as s:
            snapshot = load_snapshot(s, edge_distance_m=20.0)
        calendar, settings = default_calendar(), IncidentSettings()
        minx, miny, maxx, maxy = BOX
        counter = iter(range(10**9))

        def one_intake(session: Session) -> object:
            n = next(counter)
            data = IncidentCreate(
                category_code="0401",
                description="bench",
                lng=minx + 0.001 + (n % 97) / 97 * (maxx - minx - 0.002),
                lat=miny + 0.001 + (n % 89) / 89 * (maxy - miny - 0.002),
                crs="cgcs2000",
            )
            return intake(
                session, snapshot, data=data, principal=DISPATCHER, calendar=calendar,
                settings=settings,
            )  # fmt: skip

        def intake_plain() -> Session:
            return plain()

        def intake_scoped() -> Session:
            return with_access(factory, intake_access(DISPATCHER))

        def batch(make: Callable[[], Session]) -> Callable[[Session], object]:
            # One timed unit is INTAKES reports, each its own transaction as over HTTP.
            def run(_: Session) -> object:
                for _ in range(INTAKES):
                    _timed(make, one_intake)
                return None

            return run

        before: list[float] = []
        after: list[float] = []
        for _ in range(3):
            before.append(_timed(plain, batch(intake_plain)))
            after.append(_timed(plain, batch(intake_scoped)))
        b, a = statistics.median(before) / INTAKES, statistics.median(after) / INTAKES
        print(
            f"{'intake (one report, committed)':<34} without RLS {b * 1000:8.2f} ms   with RLS "
            f"{a * 1000:8.2f} ms   overhead {100 * (a - b) / b:+5.1f} %   "
            f"({1 / b:,.0f}/s vs {1 / a:,.0f}/s on one connection; goal < 10 %)"
        )
        _http_intake(engine, plain)
        print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _http_intake(engine, plain) -> None:  # type: ignore[no-untyped-def]
    """The whole intake request in-process (routing, validation, audit trail, JSON), against an app
    whose sessions are plain owner sessions: what a resident's report costs with and without RLS."""
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.settings import Settings

    settings = Settings(environment="test", locate_refresh_seconds=30)
    minx, miny = BOX[0], BOX[1]
    body = {"category_code": "0401", "description": "bench", "crs": "cgcs2000"}

    def run(client: TestClient, n: int) -> float:
        t0 = time.perf_counter()
        for i in range(n):
            point = {"lng": minx + 0.01 + (i % 97) * 0.002, "lat": miny + 0.01 + (i % 89) * 0.002}
            r = client.post("/api/v1/incidents", json={**body, **point})
            assert r.status_code == 201, r.text
        return (time.perf_counter() - t0) / n

    with (
        TestClient(create_app(settings, session_factory=plain)) as without,
        TestClient(create_app(settings, engine=engine)) as with_rls,
    ):
        run(without, 50), run(with_rls, 50)  # warm up
        before, after = [], []
        for _ in range(5):
            before.append(run(without, INTAKES // 2))
            after.append(run(with_rls, INTAKES // 2))
    b, a = statistics.median(before), statistics.median(after)
    print(
        f"{'intake over HTTP (in-process)':<34} without RLS {b * 1000:8.2f} ms   with RLS "
        f"{a * 1000:8.2f} ms   overhead {100 * (a - b) / b:+5.1f} %   (median of 5 × {INTAKES // 2})"
    )


if __name__ == "__main__":
    main()
