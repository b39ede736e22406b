"""``gridgov units derive --county CODE`` (registered in app/commands.py): create the tier units
(county, townships, communities, grids) a county's registry has and the units table lacks."""

from __future__ import annotations

import argparse
from typing import Any


def cmd_units_derive(args: argparse.Namespace, settings: Any) -> int:
    from app.cli_support import database
    from app.db import unit_of_work
    from app.units.derive import derive_tier_units
    from gis.codes import BadAreaCode, level_of

    try:
        if level_of(args.county) != "county":
            print(f"--county 需要 6 位县级编码，收到 {args.county}")
            return 2
    except BadAreaCode as exc:
        print(str(exc))
        return 2
    with database(settings) as engine, unit_of_work(engine) as session:
        created = derive_tier_units(session, args.county)
    print(f"承办单位：为 {args.county} 新建 {created} 个层级单位（已有的保持不变）")
    return 0


def add_units_commands(sub: Any) -> None:
    u = sub.add_parser("units", help="responsible units (docs/domain.md#responsible-units)")
    verbs = u.add_subparsers(dest="units_command", required=True)
    d = verbs.add_parser("derive", help="create the missing tier units from the registry")
    d.add_argument("--county", required=True, help="the county's 6-digit code")
    d.set_defaults(func=cmd_units_derive)
