"""The register at county scale: the community's review list over 1,000,000 persons, and an
import of 100,000 persons (docs/register.md#measured).

Data: the incidents bench's county (10 communities × 30 grids), 1,000,000 synthetic persons
(valid GB 11643 numbers, sealed and hashed with this run's keys) written with COPY, and 200,000
proposals of which 20,000 pending (every tenth), spread over the grids. Timed, median of 7 after a warm-up:

- the review list endpoint (GET /api/v1/register/proposals, 50 pending, newest first) over HTTP
  for a county and a community dispatcher, first page and a page deep (``before_id``);
- the same list as the service call in the app's session (row-level security on), beside a plain
  SQL anchor: the list's query alone as the owner (no policies, no shaping);
- the masked persons list of one grid (50 rows, each read logged);
- importing 100,000 new persons from a GB/T 31000-shaped CSV: dry run, write, and the same file
  again (all unchanged).

Goal: review list < 300 ms. Run: ``python bench/bench_register.py`` (several minutes).
"""

from __future__ import annotations

import io
import os
import secrets
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _common import bench_database  # noqa: E402
from bench_incidents import COMMUNITIES, GRIDS, county  # noqa: E402
from stdnum.cn import ric  # noqa: E402

from app.auth.policy import Principal, Role  # noqa: E402
from app.auth.scope import scope_of  # noqa: E402
from app.db import access_for, access_sessionmaker, with_access  # noqa: E402
from app.register import exchange, idnumbers, proposals  # noqa: E402
from app.register.keys import register_keys  # noqa: E402
from app.settings import Settings  # noqa: E402

PERSONS = int(os.environ.get("BENCH_REGISTER_PERSONS", "1000000"))
IMPORTED = int(os.environ.get("BENCH_REGISTER_IMPORT", "100000"))
PROPOSALS, PENDING = 200_000, 20_000
ROUNDS = 7
COMMUNITY = "419901001001"
GRID_CODES = [f"419901001{c + 1:03d}{g + 1:03d}" for c in range(COMMUNITIES) for g in range(GRIDS)]
SETTINGS = Settings(
    environment="test",
    register_key=secrets.token_urlsafe(48),
    register_hash_key=secrets.token_urlsafe(48),
)
KEYS = register_keys(SETTINGS)
_PLACES = ("110101", "110102", "110105", "110108", "120101", "310101", "310104", "310110")


def numbers(count: int, offset: int = 0):  # type: ignore[no-untyped-def]
    """Distinct valid ID numbers: place × birth day × sequence, walked in order."""
    import datetime as dt

    base = dt.date(1940, 1, 1)
    for i in range(offset, offset + count):
        place = _PLACES[i % 8]
        day = base + dt.timedelta(days=(i // 8) % 25000)
        seq = (i // 200000) % 1000
        body = f"{place}{day:%Y%m%d}{seq:03d}"
        yield body + ric.calc_check_digit(body + "0")


def load_persons(engine) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        with cur.copy(
            "COPY persons (grid_code, name, id_hash, id_cipher, id_masked, phone, residence_type, "
            "special_groups, party_member) FROM STDIN"
        ) as copy:
            for i, number in enumerate(numbers(PERSONS)):
                floating = i % 7 == 0
                copy.write_row(
                    (
                        GRID_CODES[i % len(GRID_CODES)],
                        f"合成{i}",
                        idnumbers.lookup_hash(KEYS, number),
                        idnumbers.seal(KEYS, number),
                        idnumbers.mask(number),
                        f"139{i:08d}",
                        "floating" if floating else "registered",
                        ["floating_population"] if floating else [],
                        i % 17 == 0,
                    )
                )
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - t0


def load_proposals(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        conn.execute(
            text(
                """
                INSERT INTO register_proposals (client_id, kind, action, target_id, base_version,
                    grid_code, before, after, state, proposed_by, reviewed_by, reviewed_at)
                SELECT gen_random_uuid(), 'person', 'update', n, 1,
                       (ARRAY[:grids])[1 + n % :ngrids],
                       jsonb_build_object('phone', '139' || lpad(n::text, 8, '0')),
                       jsonb_build_object('phone', '137' || lpad(n::text, 8, '0'),
                                          'residence_type', 'floating'),
                       CASE WHEN n % :every = 0 THEN 'pending' ELSE 'approved' END, 'worker' || n % 300,
                       CASE WHEN n % :every = 0 THEN NULL ELSE 'dispatcher' END,
                       CASE WHEN n % :every = 0 THEN NULL ELSE now() END
                  FROM generate_series(1, :total) n
                """.replace("ARRAY[:grids]", "CAST(:grids AS text[])")
            ),
            {"grids": GRID_CODES, "ngrids": len(GRID_CODES), "every": PROPOSALS // PENDING,
             "total": PROPOSALS},
        )  # fmt: skip
        conn.execute(text("ANALYZE persons"))
        conn.execute(text("ANALYZE register_proposals"))


def timed(work: Callable[[], object], rounds: int = ROUNDS) -> float:
    work()
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        work()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def http_client(engine, role: str, jurisdiction: str):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from app.auth import sessions
    from app.auth.models import User
    from app.main import create_app

    with Session(engine, expire_on_commit=False) as db:
        user = User(
            username=f"bench_{jurisdiction}", password_hash="!", role=role,
            jurisdiction_code=jurisdiction,
        )  # fmt: skip
        db.add(user)
        db.flush()
        row, _ = sessions.open_session(
            db, user, kind="api", purpose="full", address=None, cfg=SETTINGS.auth,
            now=sessions.now_utc(),
        )  # fmt: skip
        db.commit()
        token = sessions.access_token(
            user, row, secret=SETTINGS.secret_key or "", minutes=SETTINGS.auth.access_token_minutes
        )
    client = TestClient(create_app(SETTINGS, engine=engine))
    return client, {"Authorization": f"Bearer {token}"}


def measure(engine, factory, name: str, jur: str) -> None:  # type: ignore[no-untyped-def]
    principal = Principal(username="bench", role=Role.DISPATCHER, jurisdiction_code=jur, user_id=1)
    scope = scope_of(principal)

    def service() -> object:
        with with_access(factory, access_for(principal)) as s:
            out = proposals.list_proposals(
                s, scope=scope, state="pending", kind=None, mine=False,
                before_id=None, limit=50, address=None,
            )  # fmt: skip
            s.commit()
            return out

    def anchor() -> object:
        with Session(engine) as s:
            return s.execute(
                text(
                    f"SELECT {proposals.PROPOSAL_COLUMNS} FROM register_proposals "
                    "WHERE state = 'pending' AND grid_code >= :lo AND grid_code < :hi "
                    "ORDER BY id DESC LIMIT 51"
                ),
                {"lo": jur, "hi": jur + "~"},
            ).all()

    client, headers = http_client(engine, "dispatcher", jur)
    with client:
        first = client.get("/api/v1/register/proposals", headers=headers).json()
        assert first["count"] == 50, first
        deep = {"before_id": first["next_before_id"]}
        url = "/api/v1/register/proposals"
        http = timed(lambda: client.get(url, headers=headers))
        http_deep = timed(lambda: client.get(url, params=deep, headers=headers))
        print(
            f"review list, {name} dispatcher: HTTP {http * 1000:6.1f} ms (page 2: "
            f"{http_deep * 1000:6.1f} ms), service {timed(service) * 1000:6.1f} ms, plain SQL "
            f"anchor {timed(anchor) * 1000:6.1f} ms   (median of {ROUNDS}; goal < 300 ms)"
        )
        grid = {"grid": GRID_CODES[0]}
        persons = timed(
            lambda: client.get("/api/v1/register/persons", params=grid, headers=headers)
        )
        print(f"persons list, one grid, 50 rows logged ({name}): HTTP {persons * 1000:6.1f} ms")


def import_csv(count: int) -> bytes:
    out = io.StringIO()
    out.write(",".join(c for _, c in exchange.COLUMNS["person"]) + "\n")
    for i, number in enumerate(numbers(count, offset=PERSONS)):
        grid = GRID_CODES[i % len(GRID_CODES)]
        out.write(
            f"111,{number},导入{i},,,01,registered,合成数据,1380000{i % 10000:04d},,,,,,0,,{grid}\n"
        )
    return out.getvalue().encode()


def main() -> None:
    load = lambda: " ".join(f"{x:.2f}" for x in os.getloadavg())  # noqa: E731
    print(f"load average at start: {load()}")
    with bench_database() as engine:
        county(engine)
        seconds = load_persons(engine)
        print(f"{PERSONS:,} persons written with COPY in {seconds:.0f} s (sealed + hashed)")
        load_proposals(engine)
        print(f"{PROPOSALS:,} proposals ({PENDING:,} pending); load average {load()}")

        factory = access_sessionmaker(engine)
        for name, jur in (("county", "419901"), ("community", COMMUNITY)):
            measure(engine, factory, name, jur)
        print(f"load average after the lists: {load()}")

        data = import_csv(IMPORTED)
        system = scope_of(
            Principal(username="bench", role=Role.COUNTY_ADMIN, jurisdiction_code="", system=True)
        )
        for label, dry in (("dry run", True), ("write", False), ("same file again", False)):
            with Session(engine) as s:
                t0 = time.perf_counter()
                report = exchange.import_rows(
                    s, scope=system, keys=KEYS, kind="person",
                    rows=exchange.read_rows("import.csv", data), dry_run=dry, by="bench",
                )  # fmt: skip
                s.commit()
                took = time.perf_counter() - t0
            print(
                f"import {IMPORTED:,} persons, {label}: {took:5.1f} s ({IMPORTED / took:,.0f} rows/s) "
                f"added {report.added:,} changed {report.changed} unchanged {report.unchanged:,} "
                f"rejected {len(report.rejected)}"
            )
        print(f"load average at the end: {load()}")
        _ = uuid  # (client ids are made by PostgreSQL: gen_random_uuid)


if __name__ == "__main__":
    main()
