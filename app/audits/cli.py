"""``gridgov audit --area CODE [--format json|geojson|csv|html] [-o FILE]``, or on a Dask cluster
``gridgov audit --engine dask --scheduler ADDRESS --data DIR [-o FILE]`` (app/scale/cli.py)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app.scale.cli import add_engine_options


def add_audit_parser(sub: Any) -> None:
    audit = sub.add_parser(
        "audit", help="coverage audit of an area (stored; compared with last run)"
    )
    audit.add_argument("--area", help="county, township, community or grid code (database engine)")
    add_engine_options(
        audit,
        database_help="one area, stored as a run",
        dask_help="a GeoParquet export on a cluster",
    )
    audit.add_argument("--format", choices=["json", "geojson", "csv", "html"], default="json")
    audit.add_argument("-o", "--output", help="write to this file (default: standard output)")
    audit.set_defaults(func=cmd_audit)


def cmd_audit(args: argparse.Namespace, settings: Any) -> int:
    if args.engine == "dask":
        from app.scale.cli import cmd_audit_dask

        return cmd_audit_dask(args, settings)
    if not args.area:
        print("审计失败：请用 --area 指定区域编码", file=sys.stderr)
        return 2
    from app.audits import export
    from app.audits.service import report_base, run_audit
    from app.auth.policy import system_principal
    from app.auth.scope import scope_of
    from app.cli_support import database
    from app.db import unit_of_work
    from app.errors import GridgovError
    from gis.coverage import CoverageTolerances

    operator = scope_of(system_principal("cli")).narrow(args.area)
    with database(settings) as engine:
        try:
            with unit_of_work(engine) as session:
                audit = run_audit(
                    session,
                    scope=operator,
                    tolerances=CoverageTolerances(
                        band=settings.household_band,
                        micro_band=settings.household_bands["micro_grid"],
                    ),
                    coverage_target=settings.visits.coverage_target,
                )
                if args.format == "html":
                    from app.audits.report import render_html

                    body = render_html(audit, report_base(session, operator, audit.area_code))
        except GridgovError as exc:
            print(f"审计失败：{exc.message}", file=sys.stderr)
            return 2
    if args.format == "geojson":
        body = json.dumps(export.to_geojson(audit), ensure_ascii=False)
    elif args.format == "csv":
        body = export.to_csv(audit)
    elif args.format == "json":
        body = export.to_json(audit)
    if args.output:
        Path(args.output).write_text(body, encoding="utf-8")
        print(
            f"审计 {audit.id}：{audit.area_name}（{audit.area_code}）发现 {len(audit.findings)} 项问题，"
            f"用时 {audit.seconds:.2f} 秒；已写入 {args.output}",
            file=sys.stderr,
        )
    else:
        sys.stdout.write(body)
    return 0
