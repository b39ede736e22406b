"""The ``gridgov`` command: run the platform, load data, locate and geocode from a shell."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import threading
from pathlib import Path
from typing import TypeAlias

from sqlalchemy import Engine

from app.cli_support import database
from app.commands import DOMAIN_COMMANDS, AddCommands
from app.settings import Settings, get_settings
from gis.crs import DEFAULT_CRS

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _print(obj: object) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def _provide_secret_key(settings: Settings) -> None:
    """The signing key for the processes `run` starts: GRIDGOV_SECRET_KEY if set, else the key kept
    in the data directory (made on first start); says where it lives."""
    from app.auth.keys import ENV_VAR, ensure_key_file

    if settings.secret_key:
        print(f"签名密钥：来自环境变量 {ENV_VAR}")
        return
    key, path, created = ensure_key_file(settings.data_dir)
    print(f"签名密钥：{path}（{'首次启动，已生成' if created else '沿用'}；权限 0600，请妥善保管）")
    os.environ[ENV_VAR] = key
    get_settings.cache_clear()  # a single web worker builds the app in this process


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from app.db import unit_of_work
    from app.demo import demo_loaded, load_demo
    from app.register.keys import attach_keys, provide_keys

    for line in provide_keys(settings, create=True):  # the register's keys, like the signing key
        print(line)
    with database(settings) as engine:
        if not args.no_demo:
            with unit_of_work(engine) as session:
                if demo_loaded(session):
                    print("示范县数据已存在，跳过导入")
                else:
                    print("正在导入示范县数据……")
                    attach_keys(session, settings)
                    for line in load_demo(session):
                        print(line)
        # Web workers and the background worker are separate processes: hand them the resolved
        # database URL (so none starts a second embedded cluster). They log in as the service
        # login, which owns nothing (app/service_login.py), whenever the owner may create it.
        from app.service_login import service_url

        os.environ["GRIDGOV_DATABASE_URL"] = service_url(
            engine, settings.data_dir.resolve() / "service_login.json"
        )
        _provide_secret_key(settings)
        stop_worker = threading.Event()
        supervisor = None
        if not args.no_worker:
            # Escalation of overdue cases and delivery of notifications (`gridgov worker`), kept
            # alive: restarted with back-off whenever it exits, stopped when we stop.
            from app.supervise import supervise

            worker_cmd = [sys.executable, "-m", "app.cli", "worker", "--parent", str(os.getpid())]
            supervisor = threading.Thread(
                target=supervise, args=(worker_cmd, stop_worker), name="worker-supervisor"
            )
            supervisor.start()
        print(f"gridgov 已启动：http://{args.host}:{args.port}/docs  （Ctrl+C 停止）")
        try:
            uvicorn.run(
                "app.asgi:app",
                host=args.host,
                port=args.port,
                workers=args.workers,
                log_level="warning",
                access_log=False,
                # The same proxies the app believes (app/http): none when the setting is empty.
                forwarded_allow_ips=",".join(settings.trusted_proxies),
            )
        finally:
            stop_worker.set()
            if supervisor is not None:
                supervisor.join()
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    with database(settings):
        print("数据库结构已是最新")
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from app.db import unit_of_work
    from app.demo import load_demo
    from app.register.keys import attach_keys, provide_keys

    provide_keys(settings, create=False)
    with database(settings) as engine, unit_of_work(engine) as session:
        attach_keys(session, settings)
        for line in load_demo(session):
            print(line)
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from app.db import unit_of_work
    from app.errors import GridgovError
    from app.imports.service import run_import

    with database(settings) as engine:
        try:
            with unit_of_work(engine) as session:
                report = run_import(
                    session,
                    kind=args.kind,
                    path=Path(args.path),
                    crs=args.crs,
                    layer=args.layer,
                    encoding=args.encoding,
                    commit=args.commit,
                    mapping=args.map,
                )
        except GridgovError as exc:
            print(f"导入失败：{exc.message}", file=sys.stderr)
            return 2
    print(report.render())
    return 1 if report.rejected and not report.accepted else 0


def _snapshot(engine: Engine, settings: Settings):  # type: ignore[no-untyped-def]
    from sqlalchemy.orm import Session

    from app.locate.registry import load_snapshot

    with Session(engine) as session:
        return load_snapshot(session, edge_distance_m=settings.edge_distance_m)


def cmd_locate(args: argparse.Namespace, settings: Settings) -> int:
    from app.auth.policy import system_principal
    from app.errors import GridgovError
    from app.locate.service import locate_point

    operator = system_principal("cli")
    with database(settings) as engine:
        try:
            answer = locate_point(
                _snapshot(engine, settings),
                lng=args.lng,
                lat=args.lat,
                crs=args.crs,
                principal=operator,
            )
        except GridgovError as exc:
            print(exc.message, file=sys.stderr)
            return 2
    _print(answer.model_dump())
    return 0 if answer.found else 1


def cmd_geocode(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy.orm import Session

    from app.auth.policy import system_principal
    from app.errors import GridgovError
    from app.geocode.service import geocode

    operator = system_principal("cli")
    with database(settings) as engine, Session(engine) as session:
        try:
            answer = geocode(
                _snapshot(engine, settings), session, address=args.address, principal=operator
            )
        except GridgovError as exc:
            print(exc.message, file=sys.stderr)
            if exc.detail.get("candidates"):
                _print(exc.detail["candidates"])
            return 1
    _print(answer.model_dump())
    return 0


def read_new_password(args: argparse.Namespace) -> str:
    """The new user's password: asked twice without echo on a terminal, else one line from stdin
    (``--password-stdin``, or any stdin that is not a terminal: pipes, scripts, CI). Never an
    argument: command lines are visible to every user of the machine."""
    if args.password_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("密码：")
    if getpass.getpass("再次输入密码：") != first:
        raise ValueError("两次输入的密码不一致")
    return first


def cmd_user_add(args: argparse.Namespace, settings: Settings) -> int:
    from pydantic import ValidationError

    from app.auth.passwords import password_problem
    from app.auth.schemas import UserCreate
    from app.auth.service import create_user
    from app.db import unit_of_work
    from app.errors import GridgovError

    try:
        password = read_new_password(args)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if not password:
        print("未读到密码（标准输入为空）", file=sys.stderr)
        return 2
    try:
        data = UserCreate(
            username=args.username,
            password=password,
            role=args.role,
            jurisdiction_code=args.jurisdiction,
            full_name=args.full_name or "",
            staff_code=args.staff_code,
        )
    except ValidationError as exc:
        print(f"输入有误：{exc}", file=sys.stderr)
        return 2
    problem = password_problem(password, username=args.username, policy=settings.auth)
    if problem:  # said before any database is started
        print(problem, file=sys.stderr)
        return 2
    with database(settings) as engine:
        try:
            with unit_of_work(engine) as session:
                create_user(session, data=data, policy=settings.auth)
        except GridgovError as exc:
            print(exc.message, file=sys.stderr)
            return 2
    print(f"已创建用户 {args.username}（{args.role}，辖区 {args.jurisdiction}）")
    return 0


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from app.embedded import EmbeddedCluster

    if settings.database_url:
        print("已设置 GRIDGOV_DATABASE_URL，不使用内置数据库")
        return 0
    cluster = EmbeddedCluster(settings.data_dir.resolve(), settings.embedded_port)
    if args.action == "start":
        cluster.start()
        print(cluster.url())
    elif args.action == "stop":
        cluster.stop()
    elif args.action == "url":
        cluster.ensure_initialised()
        print(cluster.url())
    else:
        print("running" if cluster.is_running() else "stopped")
    return 0


def _add_run(sub: Subparsers) -> None:
    run = sub.add_parser("run", help="start the database, load the demo county, serve the API")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--workers", type=int, default=2)
    run.add_argument("--no-demo", action="store_true", help="do not load the demo county")
    run.add_argument(
        "--no-worker", action="store_true", help="do not start the escalation/notification worker"
    )
    run.set_defaults(func=cmd_run)


def _add_migrate(sub: Subparsers) -> None:
    sub.add_parser("migrate", help="bring the schema up to date").set_defaults(func=cmd_migrate)


def _add_demo(sub: Subparsers) -> None:
    sub.add_parser("demo", help="load the demo county (idempotent)").set_defaults(func=cmd_demo)


def _add_import(sub: Subparsers) -> None:
    imp = sub.add_parser(
        "import",
        help="import areas, grids, buildings, households, staff, barriers, roads or door_numbers",
    )
    imp.add_argument(
        "kind",
        choices=[
            "areas",
            "grids",
            "buildings",
            "households",
            "staff",
            "barriers",
            "roads",
            "door_numbers",
        ],
    )
    imp.add_argument("path")
    imp.add_argument("--crs", help="EPSG code, or gcj02 / bd09 for web-map coordinates")
    imp.add_argument("--layer")
    imp.add_argument("--encoding", help="attribute encoding, e.g. GBK")
    imp.add_argument("--commit", action="store_true", help="write (default: dry run with a report)")
    imp.add_argument(
        "--map",
        action="append",
        metavar="OURS=THEIRS",
        help="the file's field for one of ours, e.g. --map code=XZQDM (repeatable)",
    )
    imp.set_defaults(func=cmd_import)


def _add_locate(sub: Subparsers) -> None:
    loc = sub.add_parser("locate", help="which grid is this point in, and who answers for it")
    loc.add_argument("lng", type=float)
    loc.add_argument("lat", type=float)
    loc.add_argument("--crs", default=DEFAULT_CRS)
    loc.set_defaults(func=cmd_locate)


def _add_geocode(sub: Subparsers) -> None:
    geo = sub.add_parser("geocode", help="match a Chinese address to a building and its grid")
    geo.add_argument("address")
    geo.set_defaults(func=cmd_geocode)


def _add_user(sub: Subparsers) -> None:
    from app.auth.policy import Role

    user = sub.add_parser("user", help="manage users")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="add a user")
    add.add_argument("username")
    add.add_argument(
        "--role",
        required=True,
        choices=[r.value for r in Role],
    )
    add.add_argument("--jurisdiction", required=True, help="area code (6, 9 or 12 digits)")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from one line of stdin (default when stdin is not a terminal; "
        "on a terminal it is asked for twice, not echoed)",
    )
    add.add_argument("--full-name")
    add.add_argument("--staff-code")
    add.set_defaults(func=cmd_user_add)


def _add_db(sub: Subparsers) -> None:
    db = sub.add_parser("db", help="the embedded PostgreSQL cluster")
    db.add_argument("action", choices=["start", "stop", "status", "url"])
    db.set_defaults(func=cmd_db)


# The registry of ``gridgov``'s commands, in the order ``--help`` lists them: (name, the function
# that adds the sub-command(s)). The platform's own first, then each domain's (app/commands.py).
COMMANDS: list[tuple[str, AddCommands]] = [
    ("run", _add_run),
    ("migrate", _add_migrate),
    ("demo", _add_demo),
    ("import", _add_import),
    ("locate", _add_locate),
    ("geocode", _add_geocode),
    ("user", _add_user),
    ("db", _add_db),
    *DOMAIN_COMMANDS,
]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gridgov", description="网格化服务管理平台 gridgov")
    sub = p.add_subparsers(dest="command", required=True)
    for _name, add_commands in COMMANDS:
        add_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args, get_settings()))


if __name__ == "__main__":
    sys.exit(main())
