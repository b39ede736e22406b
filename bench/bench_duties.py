"""Benchmark: the duty audit (app/duties, docs/duties.md) across a county at scale.

Builds, in a throwaway embedded PostGIS cluster, bench_audit's county (3,000 grids, 60,000
buildings, 1,000,000 households, 5,000,000 visits; a household stands for the 2–3 persons of the
register, so the duty checks read a county of well over 1,000,000 persons through their
households), then adds the workforce the duties judge:

- a worker on every grid (its visits' worker), a tenth part-time, 30 grids with no worker;
- 300 township cadres each linked to 10 grids (all 3,000), linked since 2024, and 300,000 visits
  by them spread over the year;
- 30,000 cases of the trigger classes (disputes, deaths, weddings) over the last 90 days, half
  answered by an arrival.

Then it times, on the same data in the same run: the whole duty audit (``duty_findings``) cold
(nothing cached in this process) and warm, each check on its own, and two anchors: the plain
PostGIS join that places the 1,000,000 households in their grids (what the cadre check needs)
and a plain GROUP BY of field days per worker and month.

Run: python bench/bench_duties.py   (about 8 minutes on 2 cores; prints figures, asserts nothing)
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import bench_database
from bench_audit import COLS, ROWS, SETUP, timed

from app.auth.policy import system_principal
from app.auth.scope import scope_of
from app.duties import service
from app.duties.rules import load_book
from app.visits import rollup

NOW = dt.datetime(2026, 1, 1, 2, 0, tzinfo=dt.UTC)  # 10:00 on 1 January in Beijing
GRIDS = COLS * ROWS

DUTY_SETUP = [
    # The visits' worker of each grid works it (the leader rows of bench_audit stay).
    """INSERT INTO staff_assignments (staff_id, grid_code, role, start_date)
      SELECT s.id, cl.code, 'worker', '2024-06-01' FROM cells cl JOIN staff s ON s.code = 'S' || cl.i
      WHERE cl.i <> 1234 AND cl.i % 100 <> 3""",
    "UPDATE staff SET employment = 'part_time' WHERE code ~ '^S[0-9]+$' AND substr(code, 2)::int % 10 = 1",
    """INSERT INTO staff (code, name, employment)
      SELECT 'K' || i, '联系干部' || i, 'full_time' FROM generate_series(0, 299) i""",
    """INSERT INTO staff_assignments (staff_id, grid_code, role, start_date)
      SELECT k.id, cl.code, 'cadre', '2024-01-01' FROM cells cl
      JOIN staff k ON k.code = 'K' || (cl.i % 300) WHERE cl.i <> 1234""",
    # 300,000 cadre visits: household k is visited by the cadre of its grid.
    f"""INSERT INTO visits (worker_id, household_id, grid_code, visited_at, kind, recorded_by)
      SELECT k.id, hid, cl.code,
        timestamptz '2025-01-01 09:00+08' + ((v * 7919) % 360) * interval '1 day', 'routine', 'bench'
      FROM (SELECT v, (v * 104729) % 1000000 AS n FROM generate_series(0::bigint, 299999) v) s
      CROSS JOIN LATERAL (SELECT (SELECT min(id) FROM households) + s.n AS hid,
                                 (s.n % {GRIDS * 20}) / 20 AS g) x
      JOIN cells cl ON cl.i = x.g JOIN staff k ON k.code = 'K' || (x.g % 300)""",
    # 30,000 trigger cases over the last 90 days (disputes, deaths, weddings), at their grid.
    f"""INSERT INTO incidents (case_no, token, category_code, description, location, grid_code,
        community_code, locate, reported_at, deadline, state)
      SELECT 'DB' || n, 'tok-duty-' || n,
        (ARRAY['0101', '0102', '0103', '0901', '0902'])[1 + n % 5], '基准案件',
        ST_Centroid(cl.geom), cl.code, cl.community_code, '{{}}',
        timestamptz '2026-01-01 10:00+08' - ((n * 37) % (90 * 24)) * interval '1 hour',
        timestamptz '2026-01-10 10:00+08', 'accepted'
      FROM generate_series(0, 29999) n JOIN cells cl ON cl.i = (n * 7) % {GRIDS}
      WHERE cl.i <> 1234""",
    """INSERT INTO duty_arrivals (incident_id, grid_code, arrived_at, recorded_by)
      SELECT id, grid_code, reported_at + interval '6 hours', 'bench' FROM incidents
      WHERE case_no LIKE 'DB%' AND id % 2 = 0""",
]


def main() -> None:
    with bench_database() as engine:
        print(
            f"building the bench county ({GRIDS:,} grids, 1,000,000 households, 5,300,000 visits)"
        )
        t0 = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text("SET maintenance_work_mem = '256MB'"))
            for statement in [*SETUP, *DUTY_SETUP]:
                conn.execute(text(statement))
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        print(f"  data generated in {time.perf_counter() - t0:.0f} s")
        county = scope_of(system_principal("bench")).narrow("419901")
        book = load_book()
        today = NOW.date()
        print("measured (load average {:.2f} {:.2f} {:.2f}):".format(*os.getloadavg()))
        with Session(engine) as session:
            rollup.clear_caches()
            rows, cold = timed(
                "duty audit of the county, cold (households placed in grids)",
                lambda: service.duty_findings(session, county, NOW, book),
            )
            _, warm = timed(
                "duty audit of the county, warm",
                lambda: service.duty_findings(session, county, NOW, book),
            )
            timed(
                "  arrivals (四必到)", lambda: service.arrivals_overdue(session, county, book, NOW)
            )
            timed(
                "  field days per worker",
                lambda: service.field_days_short(session, county, book, today),
            )
            timed(
                "  grids without a full-time worker",
                lambda: service.grids_without_full_time_worker(session, county, book, today),
            )
            timed(
                "  cadres' visits (warm)",
                lambda: service.cadre_visits_missing(session, county, book, today),
            )
            print("anchors (same data, same run):")
            timed(
                "PostGIS join placing 1,000,000 households in 3,000 grids",
                lambda: session.execute(
                    text(
                        "SELECT g.code, count(*) FROM grids g JOIN households h "
                        "ON ST_Intersects(g.geom, h.location) WHERE g.status = 'active' GROUP BY 1"
                    )
                ).all(),
            )
            timed(
                "GROUP BY field days per worker, December",
                lambda: session.execute(
                    text(
                        "SELECT worker_id, count(DISTINCT day) FROM worker_visit_days "
                        "WHERE day >= '2025-12-01' AND day < '2026-01-01' GROUP BY 1"
                    )
                ).all(),
            )
        counts: dict[str, int] = {}
        for r in rows:
            counts[r["kind"]] = counts.get(r["kind"], 0) + 1
        print(f"duty findings: {counts}")
        print(f"target: duty audit < 10 s -> cold {cold:.2f} s, warm {warm:.2f} s")
        print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
