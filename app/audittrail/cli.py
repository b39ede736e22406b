"""``gridgov audit-log verify`` (walk the hash chain, report the first break, exit 1) and
``gridgov audit-log purge`` (apply the retention period, keeping the chain verifiable)."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
from typing import Any
from zoneinfo import ZoneInfo


def add_audit_log_parser(sub: Any) -> None:
    p = sub.add_parser("audit-log", help="the security audit trail: verify the chain, purge")
    actions = p.add_subparsers(dest="audit_log_command", required=True)
    actions.add_parser(
        "verify", help="check the hash chain; exit 1 at the first break"
    ).set_defaults(func=cmd_verify)
    purge = actions.add_parser(
        "purge", help="delete events older than the retention period (GRIDGOV_AUDIT_RETENTION_DAYS)"
    )
    purge.set_defaults(func=cmd_purge)


def cmd_verify(args: argparse.Namespace, settings: Any) -> int:
    from app.audittrail.chain import verify
    from app.cli_support import database
    from app.db import unit_of_work

    with database(settings) as engine, unit_of_work(engine) as session:
        verdict = verify(session)
    print(verdict.message(), file=sys.stdout if verdict.ok else sys.stderr)
    return 0 if verdict.ok else 1


def cmd_purge(args: argparse.Namespace, settings: Any) -> int:
    from app.audittrail.service import purge
    from app.cli_support import database
    from app.db import unit_of_work

    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=settings.audit_retention_days)
    with database(settings) as engine, unit_of_work(engine) as session:
        deleted = purge(session, before=cutoff, purged_by=f"cli:{_os_user()}")
    print(
        f"已清理 {cutoff.astimezone(ZoneInfo('Asia/Shanghai')):%Y-%m-%d %H:%M} 之前的"
        f"审计记录 {deleted} 条（保留期 {settings.audit_retention_days} 天）"
    )
    return 0


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        return "unknown"
