"""Benchmark: the planner's live balance in a community of 20,000 households (target < 200 ms).

Run:  python bench/bench_live_balance.py            (about 1 minute: a throwaway PostGIS cluster)
      python bench/bench_live_balance.py --households 40000 --runs 30

A generated community (one 1.5 km × 1.7 km box, labelled 基准社区) with ~67 Voronoi grids (one per
300 households), 700 buildings and one household row per household, and a draft plan made from its
grids, as the planner page makes it. Timed, each in its own transaction rolled back afterwards:

  preview   POST …/preview's service (app/plans/balance.py): households per grid for a split not
            yet made, while the planner draws (nothing written)
  edit      the saved split (app/plans/edit.py apply_edit: row lock, edit, write, buildings and
            households re-assigned, history recorded)
  response  the plan the edit route answers with (app/plans/view.py: every grid's balance and the
            validation report with gaps, overlaps and the band)
  anchor    plain PostGIS: ONE query counting the households per plan grid with ST_Contains over the
            same rows (what a database alone does for the same numbers; no edit applied)

Prints median, 90th percentile and best of each, and the load average (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import numpy as np
import shapely
from _common import bench_database
from geoalchemy2.shape import to_shape
from shapely.geometry import mapping
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.auth.policy import Role, system_principal
from app.auth.scope import scope_of
from app.plans import balance
from app.plans.create import create_plan
from app.plans.edit import apply_edit, split_edit
from app.plans.models import PlanGrid
from app.plans.rules import PlanRules
from app.plans.view import plan_public

COMMUNITY = "419901001001"
BOX = (113.400, 34.400, 113.4165, 34.4155)  # about 1.5 km x 1.7 km
BAND = (250, 500)
BUILDINGS = 700


def make_community(engine: Engine, households: int, seed: int = 11) -> None:
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = BOX
    with engine.begin() as conn:
        for code, name, level, kind, parent in (
            ("419901", "基准县", "county", "county", None),
            ("419901001", "基准街道", "township", "street", "419901"),
            (COMMUNITY, "基准社区", "community", "residents", "419901001"),
        ):
            conn.execute(
                text(
                    "INSERT INTO areas (code, name, level, kind, parent_code, geom) VALUES "
                    "(:code, :name, :level, :kind, :parent, "
                    "ST_Multi(ST_MakeEnvelope(:a, :b, :c, :d, 4490)))"
                ),
                {"code": code, "name": name, "level": level, "kind": kind, "parent": parent,
                 "a": minx, "b": miny, "c": maxx, "d": maxy},
            )  # fmt: skip
        n_grids = max(1, round(households / 300))
        seeds = shapely.points(rng.uniform(minx, maxx, n_grids), rng.uniform(miny, maxy, n_grids))
        box = shapely.box(*BOX)
        cells = shapely.get_parts(
            shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=box)
        )
        cells = [shapely.set_precision(shapely.intersection(c, box), 1e-9) for c in cells]
        conn.execute(
            text(
                "INSERT INTO grids (code, name, community_code, geom, status, valid_from) VALUES "
                "(:code, :name, :cc, ST_Multi(ST_GeomFromText(:wkt, 4490)), 'active', '2026-01-01')"
            ),
            [
                {"code": f"{COMMUNITY}{i + 1:03d}", "name": f"基准网格{i + 1}", "cc": COMMUNITY,
                 "wkt": c.wkt}
                for i, c in enumerate(cells)
            ],
        )  # fmt: skip
        xs, ys = rng.uniform(minx, maxx, BUILDINGS), rng.uniform(miny, maxy, BUILDINGS)
        per = [
            households // BUILDINGS + (1 if i < households % BUILDINGS else 0)
            for i in range(BUILDINGS)
        ]
        conn.execute(
            text(
                "INSERT INTO buildings (code, name, community_code, household_count, location) "
                "VALUES (:code, :name, :cc, :n, ST_SetSRID(ST_MakePoint(:x, :y), 4490))"
            ),
            [
                {"code": f"BB{i:05d}", "name": f"{i}号楼", "cc": COMMUNITY, "n": per[i],
                 "x": float(xs[i]), "y": float(ys[i])}
                for i in range(BUILDINGS)
            ],
        )  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO households (building_id, unit, room, location) "
                "SELECT b.id, '1', g::text, b.location FROM buildings b, "
                "generate_series(1, b.household_count) g"
            )
        )
        conn.execute(text("ANALYZE"))


def timed(runs: int, fn: Callable[[], object]) -> list[float]:
    fn()  # warm-up: imports, plan caches
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    who = scope_of(system_principal("bench", Role.PLANNER))
    rules = PlanRules(target=300, band=BAND, lock_minutes=15)
    with bench_database() as engine:
        make_community(engine, args.households)
        with Session(engine) as s:
            plan, _ = create_plan(s, community_code=COMMUNITY, scope=who, rules=rules)
            plan_id = plan.id
            s.commit()
            grids = s.query(PlanGrid).where(PlanGrid.plan_id == plan_id).all()
            total = sum(g.households for g in grids)
            big = max(grids, key=lambda g: g.households)
            n_grids, big_id, big_hh = len(grids), big.id, big.households
            c = to_shape(big.geom).centroid
            _, miny, _, maxy = to_shape(big.geom).bounds
        line = mapping(shapely.LineString([(c.x, miny - 0.001), (c.x, maxy + 0.001)]))

        def in_rolled_back(fn: Callable[[Session], object]) -> Callable[[], object]:
            def run() -> object:
                with Session(engine) as s:
                    try:
                        return fn(s)
                    finally:
                        s.rollback()

            return run

        def preview(s: Session) -> object:
            return balance.preview(
                s, plan_id=plan_id, scope=who, edit=split_edit(big_id, line), band=BAND
            )

        def edit(s: Session) -> object:
            return apply_edit(
                s, plan_id=plan_id, version=1, scope=who, edit=split_edit(big_id, line),
                kind="split", lock_minutes=15,
            )  # fmt: skip

        def response(s: Session) -> object:
            plan = apply_edit(
                s, plan_id=plan_id, version=1, scope=who, edit=split_edit(big_id, line),
                kind="split", lock_minutes=15,
            )  # fmt: skip
            return plan_public(s, plan, band=BAND, principal=who.principal)

        def anchor(s: Session) -> object:
            return s.execute(
                text(
                    "SELECT pg.id, count(h.id) FROM plan_grids pg "
                    "LEFT JOIN households h ON ST_Contains(pg.geom, h.location) "
                    "WHERE pg.plan_id = :p GROUP BY pg.id"
                ),
                {"p": plan_id},
            ).all()

        check = in_rolled_back(preview)()
        assert isinstance(check, balance.BalancePublic)
        assert check.households + check.outside == total, "preview lost households"
        results = {
            "preview (while drawing)": timed(args.runs, in_rolled_back(preview)),
            "edit saved (split)": timed(args.runs, in_rolled_back(edit)),
            "edit + response (+validation)": timed(args.runs, in_rolled_back(response)),
            "anchor: one ST_Contains count": timed(args.runs, in_rolled_back(anchor)),
        }
    load = os.getloadavg()
    print(
        f"Live balance: community of {total:,} households, {BUILDINGS} buildings, {n_grids} grids; "
        f"split of the largest grid ({big_hh} households); {args.runs} runs each after a warm-up"
    )
    print(f"{'':32} {'median ms':>10} {'p90 ms':>8} {'best ms':>8}")
    for name, ms in results.items():
        p90 = statistics.quantiles(ms, n=10)[-1] if len(ms) >= 2 else ms[0]
        print(f"{name:32} {statistics.median(ms):10.1f} {p90:8.1f} {min(ms):8.1f}")
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
