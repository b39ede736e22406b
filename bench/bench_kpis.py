"""KPI league tables over 1,000,000 incidents (docs/architecture.md#performance-targets: < 1 s).

Builds a county of 5 townships × 6 communities × 20 grids, 20 departments and a unit per grid,
1,000,000 cases over 2026 in every state (5 % on the spot, residents' ratings, stage timeliness)
and their dispatch moves (派遣 for every dispatched case, 改派 and 退回 for some), then times:

- the five league tables (township, community, grid, worker, department) and the total for the
  county and Q2 2026, as the dashboard asks for them (``league_tables``: the two grouped statements,
  rows, score, lights, ranking, names), in a system session and in the app's own session (role
  ``gridgov_app`` with the county as its scope: row-level security on);
- the anchor: the same two statements run as plain SQL (a GROUP BY over grouping sets, rows
  fetched, nothing else), checked to give the same counts.

Prints the load average before and after: the machine is shared.
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

from app.auth.policy import APP_ROLE, system_principal
from app.auth.scope import scope_of
from app.db import SYSTEM, DbAccess, access_sessionmaker, with_access
from app.incidents.calendar import TZ
from app.incidents.config import KpiSettings
from app.incidents.kpis import LEAGUES, league_tables
from app.incidents.kpis import query as kq
from bench._common import bench_database

N = int(os.environ.get("BENCH_N", 1_000_000))  # BENCH_N: a smaller trial run
TOWNSHIPS, COMMUNITIES, GRIDS = 5, 6, 20
START, END = dt.datetime(2026, 4, 1, tzinfo=TZ), dt.datetime(2026, 7, 1, tzinfo=TZ)


def county(engine) -> None:  # type: ignore[no-untyped-def]
    env = "ST_Multi(ST_MakeEnvelope(113.4, 34.4, 113.8, 34.7, 4490))"
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO areas (code, name, level, kind, geom) VALUES "
                          f"('419901', '基准县', 'county', 'county', {env})"))  # fmt: skip
        conn.execute(
            text(
                f"""
                INSERT INTO areas (code, name, level, kind, parent_code, geom)
                SELECT '419901' || lpad(t::text, 3, '0'), '街道' || t, 'township', 'street',
                       '419901', {env}
                  FROM generate_series(1, {TOWNSHIPS}) t
                UNION ALL
                SELECT '419901' || lpad(t::text, 3, '0') || lpad(c::text, 3, '0'),
                       '社区' || t || '-' || c, 'community', 'residents',
                       '419901' || lpad(t::text, 3, '0'), {env}
                  FROM generate_series(1, {TOWNSHIPS}) t, generate_series(1, {COMMUNITIES}) c
                """
            )
        )
        conn.execute(
            text(
                "INSERT INTO units (code, name, kind, area_code) "
                "SELECT 'D' || lpad(d::text, 2, '0'), '职能部门' || d, 'department', '419901' "
                "FROM generate_series(1, 20) d"
            )
        )


# Codes of case g: township 1 + g % 5, community 1 + (g / 5) % 6, grid 1 + (g / 30) % 20.
GRID_OF = (
    "'419901' || lpad((1 + g % 5)::text, 3, '0') || lpad((1 + (g / 5) % 6)::text, 3, '0') "
    "|| lpad((1 + (g / 30) % 20)::text, 3, '0')"
)


def generate(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        conn.execute(text("SELECT setseed(0.5)"))
        conn.execute(
            text(
                f"""
                INSERT INTO units (code, name, kind, area_code)
                SELECT 'G' || code, '网格单位' || code, 'grid', code
                  FROM (SELECT DISTINCT {GRID_OF} AS code FROM generate_series(1, 600) g) s
                """
            )
        )
        conn.execute(
            text(
                f"""
                INSERT INTO incidents (case_no, token, category_code, description, source, location,
                    grid_code, community_code, township_code, locate, state, on_spot, reported_at,
                    deadline, handled_at, closed_at, satisfaction, resident_rating, rework_count,
                    extension_count, register_late, verification_late, assignee, unit_code)
                SELECT 'B' || g, 'B' || g, '0401', 'bench', 'bench',
                       ST_SetSRID(ST_MakePoint(113.5, 34.5), 4490), grid, left(grid, 12),
                       left(grid, 9), '{{}}', state, spot, rep, rep + interval '3 days',
                       CASE WHEN done THEN rep + (r2 * 5) * interval '1 day' END,
                       CASE WHEN closed THEN rep + (r2 * 5 + 0.5) * interval '1 day' END,
                       CASE WHEN state = 'evaluated' THEN (ARRAY['satisfied', 'basically',
                            'unsatisfied'])[1 + g % 3] END,
                       CASE WHEN closed AND r2 < 0.4 THEN (ARRAY['satisfied', 'basically',
                            'unsatisfied'])[1 + g % 3] END,
                       (g % 13 = 0)::int, (g % 17 = 0)::int,
                       CASE WHEN NOT spot AND state <> 'reported' THEN r2 < 0.1 END,
                       CASE WHEN closed AND NOT spot THEN r2 < 0.08 END,
                       'worker_' || (g % 600),
                       CASE WHEN registered THEN
                            CASE WHEN g % 10 < 3 THEN 'D' || lpad((1 + g % 20)::text, 2, '0')
                                 ELSE 'G' || grid END END
                  FROM (SELECT g, r, r2, rep, grid, state, r < 0.05 AS spot,
                               state IN ('evaluated', 'closed', 'handled') AS done,
                               state IN ('evaluated', 'closed') AS closed,
                               r >= 0.05 AND state NOT IN ('reported', 'rejected', 'voided')
                                   AS registered
                          FROM (SELECT g, r, random() AS r2, {GRID_OF} AS grid,
                                       timestamptz '2026-01-01 00:00+08'
                                           + (g::float / :n) * interval '365 days' AS rep,
                                       CASE WHEN r < 0.05 THEN 'closed' WHEN r < 0.08 THEN 'rejected'
                                            WHEN r < 0.10 THEN 'voided' WHEN r < 0.12 THEN 'reported'
                                            WHEN r < 0.60 THEN 'evaluated' WHEN r < 0.75 THEN 'closed'
                                            WHEN r < 0.85 THEN 'handling' WHEN r < 0.92 THEN 'dispatched'
                                            ELSE 'handled' END AS state
                                  FROM (SELECT g, random() AS r FROM generate_series(1, :n) g) a
                               ) b
                       ) c
                """
            ),
            {"n": N},
        )
        # Moves: a 派遣 for every case with a unit; a 改派 (from a department) for 1 in 17, a 退回
        # for 1 in 23.
        conn.execute(
            text(
                """
                INSERT INTO incident_events (incident_id, action, from_state, to_state, actor, role,
                    data, at)
                SELECT id, 'dispatch', 'registered', 'dispatched', 'd', 'dispatcher',
                       jsonb_build_object('unit', unit_code), reported_at + interval '4 hours'
                  FROM incidents WHERE unit_code IS NOT NULL
                UNION ALL
                SELECT id, 'reassign', 'dispatched', 'dispatched', 'd', 'dispatcher',
                       jsonb_build_object('from_unit', 'D' || lpad((1 + id % 20)::text, 2, '0'),
                                          'unit', unit_code), reported_at + interval '6 hours'
                  FROM incidents WHERE unit_code IS NOT NULL AND id % 17 = 0
                UNION ALL
                SELECT id, 'return', 'dispatched', 'returned', 'u', 'unit_handler',
                       jsonb_build_object('unit', unit_code), reported_at + interval '5 hours'
                  FROM incidents WHERE unit_code IS NOT NULL AND id % 23 = 0
                """
            )
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE incidents"))
        conn.execute(text("VACUUM ANALYZE incident_events"))
        conn.execute(text("VACUUM ANALYZE units"))


def anchor_sql(levels: list[str], scope) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The two statements ``league_tables`` runs, as text: the plain GROUP BY a person would write
    for these figures (query.statements renders them for both)."""
    (cases, _), moves = kq.statements(levels, scope)
    assert moves is not None
    return cases, moves[0]


def timed(fn, runs: int = 3) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), times[0], out


def main() -> None:
    print(f"load average at start: {os.getloadavg()}")
    with bench_database() as engine:
        county(engine)
        t0 = time.perf_counter()
        generate(engine)
        with engine.connect() as conn:
            n_cases = conn.execute(text("SELECT count(*) FROM incidents")).scalar_one()
            n_moves = conn.execute(
                text("SELECT count(*) FROM incident_events WHERE action <> 'report'")
            ).scalar_one()
        print(f"generated {n_cases:,} cases and {n_moves:,} dispatch moves in "
              f"{time.perf_counter() - t0:.0f} s")  # fmt: skip
        factory = access_sessionmaker(engine)
        kpi = KpiSettings()
        scope = scope_of(system_principal("bench")).narrow("419901")
        now = dt.datetime(2026, 12, 31, tzinfo=TZ)

        def tables(access: DbAccess):  # type: ignore[no-untyped-def]
            def run():  # type: ignore[no-untyped-def]
                with with_access(factory, access) as session:
                    return league_tables(session, start=START, end=END, scope=scope, kpi=kpi,
                                         levels=LEAGUES, at=now)  # fmt: skip

            return run

        levels = ["none", "township", "community", "grid", "worker", "unit"]
        cases_sql, moves_sql = anchor_sql(levels, scope)
        params = {"start": START, "end": END, "now": now, **scope.params()}

        def anchor():  # type: ignore[no-untyped-def]
            with Session(engine) as session:
                a = session.execute(text(cases_sql), params).all()
                b = session.execute(text(moves_sql), params).all()
            return a, b

        best_a, first_a, (case_rows, move_rows) = timed(anchor)  # type: ignore[misc]
        best_s, first_s, result = timed(tables(SYSTEM))
        best_r, first_r, _ = timed(tables(DbAccess(APP_ROLE, scope="419901", user="bench")))
        total = result["total"]  # type: ignore[index]
        plain_total = next(r for r in case_rows if r.gmask == 31)
        assert plain_total.due == total["due"] and plain_total.reports == total["reports"]
        assert sum(r.sent for r in move_rows if r.gmask == 31) == total["sent"]
        sizes = {lv: len(rows) for lv, rows in result["tables"].items()}  # type: ignore[index]
        print(f"county × Q2 2026: {total['reports']:,} reported, {total['due']:,} registered and due, "
              f"{total['sent']:,} sent; rows per table {sizes}")  # fmt: skip
        print(f"  anchor, the same GROUP BY as plain SQL (2 statements, rows fetched):  best {best_a:.3f} s, first {first_a:.3f} s")  # fmt: skip
        print(f"  league_tables, 5 tables + total, system session:                    best {best_s:.3f} s, first {first_s:.3f} s   (target < 1 s)")  # fmt: skip
        print(f"  league_tables, the app's session (row-level security, county scope): best {best_r:.3f} s, first {first_r:.3f} s")  # fmt: skip
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
