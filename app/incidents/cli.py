"""``gridgov worker`` and ``gridgov kpis`` (registered in app/commands.py)."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import logging
import sys
from typing import Any

from app.scale.cli import add_engine_options


def cmd_worker(args: argparse.Namespace, settings: Any) -> int:
    from app.auth.keys import signing_key
    from app.cli_support import database
    from app.incidents.worker import run_worker

    signing_key(settings)  # like every start but `gridgov run`: no key, no start
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # Migrating is `gridgov run`'s and `gridgov migrate`'s job: the worker may log in as the service
    # login, which owns nothing and may not change the schema (app/service_login.py).
    with database(settings, migrate=False) as engine:
        run_worker(
            engine, settings.incidents, once=args.once, name=args.name, parent_pid=args.parent
        )
    return 0


def cmd_kpis(args: argparse.Namespace, settings: Any) -> int:
    if args.engine == "dask":
        from app.scale.cli import cmd_kpis_dask

        return cmd_kpis_dask(args, settings)
    from sqlalchemy.orm import Session

    from app.auth.policy import system_principal
    from app.auth.scope import scope_of
    from app.cli_support import database
    from app.incidents.calendar import TZ
    from app.incidents.kpis import COLUMNS, GROUPS, compute_kpis

    if args.group_by not in GROUPS:
        print(f"--group-by {args.group_by} 只用于 --engine dask", file=sys.stderr)
        return 2
    start = dt.date.fromisoformat(args.start)
    end = dt.date.fromisoformat(args.end)
    with database(settings) as engine, Session(engine) as session:
        rows = compute_kpis(
            session,
            start=dt.datetime.combine(start, dt.time(0), TZ),
            end=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), TZ),
            scope=scope_of(system_principal("kpis")).narrow(args.area),
            category=args.category,
            worker=args.worker,
            group_by=args.group_by,
            kpi=settings.incidents.kpi,
        )
    if args.format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    else:
        print(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
    return 0


def add_incident_commands(sub: Any) -> None:
    from app.incidents.kpis.query import LEVELS as GROUPS

    w = sub.add_parser("worker", help="escalate overdue incidents and deliver notifications")
    w.add_argument("--once", action="store_true", help="one sweep and one delivery pass, then exit")
    w.add_argument("--name", default="worker", help="heartbeat name (shown by /healthz)")
    w.add_argument("--parent", type=int, help="stop when this process (the supervisor) is gone")
    w.set_defaults(func=cmd_worker)

    k = sub.add_parser("kpis", help="incident KPIs for an area and period (docs/domain.md#kpis)")
    k.add_argument("--area", default="419901", help="area or grid code (prefix)")
    k.add_argument("--start", required=True, help="first day, YYYY-MM-DD (Asia/Shanghai)")
    k.add_argument("--end", required=True, help="last day, inclusive")
    k.add_argument("--category")
    k.add_argument("--worker")
    k.add_argument(
        "--group-by",
        default="none",
        choices=list(dict.fromkeys([*GROUPS, "province", "county"])),
        help="province and county: dask engine only",
    )
    k.add_argument("--format", default="json", choices=["json", "csv"])
    add_engine_options(
        k,
        database_help="any period, from the live tables",
        dask_help="whole months of a `gridgov export` summed on a cluster (docs/scale.md)",
    )
    k.set_defaults(func=cmd_kpis)
