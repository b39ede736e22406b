"""``gridgov register import|export`` (registered in app/commands.py): the register's exchange
files from the command line (docs/register.md#exchange)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def _keys(settings: Any) -> Any:
    from app.register.keys import MissingRegisterKey, provide_keys, register_keys

    provide_keys(settings, create=False)
    try:
        return register_keys(settings)
    except MissingRegisterKey as exc:
        print(exc.message)
        return None


def cmd_register_import(args: argparse.Namespace, settings: Any) -> int:
    from app.auth.policy import system_principal
    from app.auth.scope import scope_of
    from app.cli_support import database
    from app.db import unit_of_work
    from app.errors import GridgovError
    from app.register import exchange

    keys = _keys(settings)
    if keys is None and args.kind == "person":
        return 2
    path = Path(args.file)
    if not path.is_file():
        print(f"文件不存在：{path}")
        return 2
    scope = scope_of(system_principal("register-import")).narrow(args.area)
    try:
        with database(settings) as engine, unit_of_work(engine) as session:
            report = exchange.import_rows(
                session,
                scope=scope,
                keys=keys,
                kind=args.kind,
                rows=exchange.read_rows(path.name, path.read_bytes()),
                dry_run=args.dry_run,
                by="cli:register-import",
            )
    except GridgovError as exc:
        print(exc.message)
        return 2
    print(report.render())
    return 0


def cmd_register_export(args: argparse.Namespace, settings: Any) -> int:
    from app.auth.policy import system_principal
    from app.auth.scope import scope_of
    from app.cli_support import database
    from app.db import unit_of_work
    from app.register import codes, exchange

    keys = _keys(settings)
    if keys is None and args.kind == "person":
        return 2
    scope = scope_of(system_principal("register-export")).narrow(args.area)
    out = Path(args.output)
    with database(settings) as engine, unit_of_work(engine) as session:
        rows = exchange.export_rows(session, scope=scope, keys=keys, kind=args.kind)
        if out.suffix.lower() == ".xlsx":
            out.write_bytes(exchange.to_xlsx(rows, codes.KINDS[args.kind]))
        else:
            with out.open("w", encoding="utf-8", newline="") as f:
                for chunk in exchange.to_csv(rows):
                    f.write(chunk)
    print(f"已导出 {codes.KINDS[args.kind]}：{out}")
    return 0


def add_register_commands(sub: Any) -> None:
    r = sub.add_parser("register", help="the register's exchange files (docs/register.md)")
    verbs = r.add_subparsers(dest="register_command", required=True)
    i = verbs.add_parser("import", help="import a GB/T 31000-shaped CSV or .xlsx")
    i.add_argument("file")
    i.add_argument("--kind", choices=("person", "house", "organisation"), default="person")
    i.add_argument("--area", default=None, help="limit to this area code (default: all)")
    i.add_argument("--dry-run", action="store_true", help="report only, write nothing")
    i.set_defaults(func=cmd_register_import)
    e = verbs.add_parser("export", help="export the register as CSV or .xlsx")
    e.add_argument("--kind", choices=("person", "house", "organisation"), default="person")
    e.add_argument("--area", default=None, help="area code (default: all)")
    e.add_argument("-o", "--output", required=True, help="file to write (.csv or .xlsx)")
    e.set_defaults(func=cmd_register_export)
