"""``gridgov partition --community CODE [--target 300] [--band 250-500]``: write a draft plan."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.settings import Settings


def _band(raw: str) -> tuple[int, int]:
    try:
        low, high = (int(v) for v in raw.split("-", 1))
    except ValueError as exc:
        raise argparse.ArgumentTypeError("区间格式应为 低-高，如 250-500") from exc
    return low, high


def cmd_partition(args: argparse.Namespace, settings: Settings) -> int:
    from app.auth.policy import Role, system_principal
    from app.auth.scope import scope_of
    from app.cli_support import database
    from app.db import unit_of_work
    from app.errors import GridgovError
    from app.plans.create import create_plan
    from app.plans.rules import PlanRules
    from app.plans.view import plan_public

    # The command line acts as the county's planner for this community.
    who = scope_of(system_principal("cli", Role.PLANNER)).narrow(args.community)
    rules = PlanRules.of(settings).override(target=args.target, band=args.band)
    with database(settings) as engine:
        try:
            with unit_of_work(engine) as session:
                plan, notes = create_plan(
                    session,
                    community_code=args.community,
                    scope=who,
                    source="partition",
                    name=args.name,
                    rules=rules,
                )
                public = plan_public(
                    session, plan, band=rules.band, principal=who.principal, notes=notes
                )
        except GridgovError as exc:
            print(f"划分失败：{exc.message}", file=sys.stderr)
            return 2
    low, high = public.validation.band
    print(f"草稿方案 {public.id}：社区 {public.community_code}，{len(public.grids)} 个网格")
    for g in public.grids:
        flag = "" if g.in_band in (True, None) else f"  ← 不在 {low}–{high} 户区间"
        print(f"  {g.name}（{g.type}）：{g.households} 户，{g.buildings} 栋{flag}")
    for note in public.notes:
        print(f"  说明：{note}")
    v = public.validation
    print(f"  校验：错误 {len(v.errors)}，警告 {len(v.warnings)}")
    return 0 if v.ok else 1


def cmd_apply_plans(args: argparse.Namespace, settings: Settings) -> int:
    import datetime as dt

    from app.cli_support import database
    from app.plans.schedule import apply_due

    at = dt.datetime.fromisoformat(args.at) if args.at else None
    if at is not None and at.tzinfo is None:
        print("--at 需要带时区，如 2026-12-08T00:00+08:00", file=sys.stderr)
        return 2
    with database(settings) as engine:
        done = apply_due(engine, at=at)
    print(f"生效方案 {len(done)} 个" + (f"：{'、'.join(map(str, done))}" if done else ""))
    return 0


def add_plan_commands(sub: Any) -> None:
    p = sub.add_parser("partition", help="auto-partition a community into a draft plan")
    p.add_argument("--community", required=True, help="12-digit community/village code")
    p.add_argument("--target", type=int, help="households per grid (default: the setting, 300)")
    p.add_argument(
        "--band", type=_band, help="acceptable range, e.g. 250-500 (default: the setting)"
    )
    p.add_argument("--name", help="plan name")
    p.set_defaults(func=cmd_partition)
    a = sub.add_parser(
        "apply-plans",
        help="put approved plans whose effective date has come into effect (the worker does this)",
    )
    a.add_argument("--at", help="the moment to act as of (ISO 8601 with a zone; default now)")
    a.set_defaults(func=cmd_apply_plans)
