"""``gridgov export --format geoparquet --out DIR`` and the Dask engine of ``gridgov audit``."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from typing import Any


def add_engine_options(parser: Any, *, database_help: str, dask_help: str) -> None:
    """``--engine database|dask``, ``--scheduler`` and ``--data``: the same three options on every
    command that can run on a Dask cluster over a ``gridgov export`` (docs/scale.md)."""
    parser.add_argument(
        "--engine",
        choices=["database", "dask"],
        default="database",
        help=f"database: {database_help}; dask: {dask_help}",
    )
    parser.add_argument(
        "--scheduler", help="dask engine: the scheduler's address (tcp://host:8786)"
    )
    parser.add_argument("--data", help="dask engine: the directory of `gridgov export`")


def _dask_inputs(args: argparse.Namespace, failed: str) -> tuple[Path, str] | None:
    """The export directory and scheduler address, or ``None`` after saying which is missing."""
    if not args.scheduler or not args.data:
        print(f"{failed}：--engine dask 需要 --scheduler 地址和 --data 导出目录", file=sys.stderr)
        return None
    return Path(args.data), args.scheduler


def add_scale_commands(sub: Any) -> None:
    export = sub.add_parser(
        "export",
        help="GeoParquet export by province and county (for a national platform or a Dask cluster)",
    )
    export.add_argument("--format", choices=["geoparquet"], default="geoparquet")
    export.add_argument("--out", required=True, help="directory to write (must be new or empty)")
    export.add_argument("--area", help="only counties under this code (province, city or county)")
    export.add_argument("--overwrite", action="store_true", help="replace an existing export")
    export.set_defaults(func=cmd_export)

    province = sub.add_parser(
        "generate-province",
        help="load a SYNTHETIC province (nested Voronoi grids, households) for scale benchmarks",
    )
    province.add_argument("--counties", type=int, required=True)
    province.add_argument("--grids-per-county", type=int, default=1500)
    province.add_argument("--households-per-grid", type=int, default=300)
    province.add_argument("--seed", type=int, default=20261201)
    province.set_defaults(func=cmd_generate_province)


def cmd_export(args: argparse.Namespace, settings: Any) -> int:
    from app.cli_support import database
    from app.db import unit_of_work
    from app.errors import GridgovError
    from app.scale.export import export_geoparquet

    with database(settings) as engine:
        try:
            with unit_of_work(engine) as session:
                report = export_geoparquet(
                    session,
                    Path(args.out),
                    area_code=args.area,
                    overwrite=args.overwrite,
                    progress=lambda county: print(f"已导出县 {county}", file=sys.stderr),
                )
        except GridgovError as exc:
            print(f"导出失败：{exc.message}", file=sys.stderr)
            return 2
    rows = "，".join(f"{table} {n:,} 行" for table, n in report.rows.items())
    print(
        f"导出完成：{len(report.counties)} 个县，{report.files} 个文件，"
        f"{report.bytes / 1e6:.1f} MB；{rows}",
        file=sys.stderr,
    )
    return 0


def cmd_generate_province(args: argparse.Namespace, settings: Any) -> int:
    from app.cli_support import database
    from app.errors import GridgovError
    from app.scale.province import check_disk, estimated_bytes, load_province

    try:
        # Refused before the database is even started when the disk cannot hold it.
        check_disk(
            settings.data_dir.resolve(),
            estimated_bytes(args.counties, args.grids_per_county, args.households_per_grid),
        )
        with database(settings) as engine:
            report = load_province(
                engine,
                counties=args.counties,
                grids_per_county=args.grids_per_county,
                households_per_grid=args.households_per_grid,
                seed=args.seed,
                progress=lambda line: print(line, file=sys.stderr),
            )
    except GridgovError as exc:
        print(f"生成失败：{exc.message}", file=sys.stderr)
        return 2
    print(
        f"合成省（合成数据）：{report.counties} 个县，{report.grids:,} 个网格，"
        f"{report.buildings:,} 栋楼，{report.households:,} 户",
        file=sys.stderr,
    )
    return 0


def cmd_kpis_dask(args: argparse.Namespace, settings: Any) -> int:
    """``gridgov kpis --engine dask --scheduler ADDRESS --data DIR --start --end [--group-by]``:
    whole months, summed on the cluster (app/scale/kpis.py)."""
    import csv
    import datetime as dt
    import json

    from app.errors import GridgovError
    from app.incidents.kpis import COLUMNS
    from app.scale.kpis import kpis_on_cluster

    inputs = _dask_inputs(args, "统计失败")
    if inputs is None:
        return 2
    data, scheduler = inputs
    first, last = dt.date.fromisoformat(args.start), dt.date.fromisoformat(args.end)
    try:
        rows = kpis_on_cluster(
            data,
            scheduler,
            first=first,
            last=last,
            group_by=args.group_by,
            kpi=settings.incidents.kpi,
        )
    except GridgovError as exc:
        print(f"统计失败：{exc.message}", file=sys.stderr)
        return 2
    print(f"按整月汇总：{first:%Y-%m} 至 {last:%Y-%m}", file=sys.stderr)
    if args.format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    else:
        print(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
    return 0


def cmd_audit_dask(args: argparse.Namespace, settings: Any) -> int:
    """``gridgov audit --engine dask --scheduler ADDRESS --data DIR [-o FILE]``."""
    from app.errors import GridgovError
    from app.scale.dask_audit import audit_on_cluster
    from gis.coverage import CoverageTolerances

    inputs = _dask_inputs(args, "审计失败")
    if inputs is None:
        return 2
    data, scheduler = inputs
    try:
        found = audit_on_cluster(
            data, scheduler, tolerances=CoverageTolerances(band=settings.household_band)
        )
    except GridgovError as exc:
        print(f"审计失败：{exc.message}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"审计失败：{exc}", file=sys.stderr)
        return 2
    counts = Counter(found["kind"])
    summary = "，".join(f"{kind} {n}" for kind, n in counts.items()) or "无"
    if args.output:
        out = Path(args.output)
        if out.suffix == ".parquet":
            found.assign(objects=found["objects"].map(list)).to_parquet(out)
        elif out.suffix == ".csv":
            found.drop(columns="geometry").assign(
                objects=found["objects"].map(lambda o: ";".join(map(str, o)))
            ).to_csv(out, index=False)
        else:
            out.write_text(found.to_json(ensure_ascii=False), encoding="utf-8")
        print(f"分布式审计：{len(found)} 项问题（{summary}）；已写入 {out}", file=sys.stderr)
    else:
        sys.stdout.write(found.to_json(ensure_ascii=False))
        print(f"\n分布式审计：{len(found)} 项问题（{summary}）", file=sys.stderr)
    return 0
