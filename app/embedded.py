"""A private PostgreSQL + PostGIS cluster, so a newcomer needs neither Docker nor a DBA.

With no ``GRIDGOV_DATABASE_URL`` the CLI creates a cluster under ``<data_dir>/pgdata`` with the machine's
PostgreSQL server binaries, starts it on 127.0.0.1 and stops it on exit. PostgreSQL refuses to run as
root, so when we are root the cluster belongs to an unprivileged system user (``postgres`` if it exists).
The superuser password is random, kept in ``<data_dir>/embedded.json`` (mode 600); TCP uses SCRAM.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

DB_NAME = "gridgov"
SUPERUSER = "gridgov"


class EmbeddedDatabaseError(RuntimeError):
    pass


def find_pg_bindir() -> Path:
    """The newest installed PostgreSQL server bin directory (Debian layout first, then PATH)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=_version_key)
    if candidates:
        return candidates[-1].parent
    found = shutil.which("postgres")
    if found:
        return Path(found).resolve().parent
    raise EmbeddedDatabaseError(
        "找不到 PostgreSQL 服务器程序：请安装 postgresql-15 与 postgresql-15-postgis-3，"
        "或设置 GRIDGOV_DATABASE_URL 指向已有的 PostGIS 数据库"
    )


def _version_key(p: Path) -> float:
    try:
        return float(p.parent.parent.name)
    except ValueError:
        return 0.0


def _run_as() -> tuple[list[str], int | None, int | None]:
    """Command prefix and uid/gid that own the cluster (an unprivileged user when we are root)."""
    if os.geteuid() != 0:
        return [], None, None
    for name in ("postgres", "gridgov"):
        try:
            pw = pwd.getpwnam(name)
            return ["runuser", "-u", name, "--"], pw.pw_uid, pw.pw_gid
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "gridgov"], check=True)
    pw = pwd.getpwnam("gridgov")
    return ["runuser", "-u", "gridgov", "--"], pw.pw_uid, pw.pw_gid


@dataclass
class EmbeddedCluster:
    data_dir: Path
    port: int
    fast_unsafe: bool = False  # fsync off: only for throwaway test clusters

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def _secret_file(self) -> Path:
        return self.data_dir / "embedded.json"

    def url(self) -> str:
        password = json.loads(self._secret_file.read_text())["password"]
        return f"postgresql+psycopg://{SUPERUSER}:{password}@127.0.0.1:{self.port}/{DB_NAME}"

    def ensure_initialised(self) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            return
        bindir = find_pg_bindir()
        prefix, uid, gid = _run_as()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        password = secrets.token_urlsafe(24)
        self._secret_file.write_text(json.dumps({"password": password}))
        self._secret_file.chmod(0o600)
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        pwfile = self.data_dir / ".initdb-password"
        pwfile.write_text(password)
        pwfile.chmod(0o600)
        if uid is not None and gid is not None:
            os.chown(self.pgdata, uid, gid)
            os.chown(pwfile, uid, gid)
        try:
            _check(
                [
                    *prefix,
                    str(bindir / "initdb"),
                    "-D",
                    str(self.pgdata),
                    "-U",
                    SUPERUSER,
                    "--pwfile",
                    str(pwfile),
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ],
                "initdb",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        conf = self.pgdata / "postgresql.conf"
        extra = [
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.pgdata}'",
            "shared_buffers = 256MB",
            "max_connections = 200",
            "work_mem = 32MB",
            "jit = off",
        ]
        if self.fast_unsafe:
            extra += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        with conf.open("a") as fh:
            fh.write("\n# gridgov embedded cluster\n" + "\n".join(extra) + "\n")

    def start(self) -> None:
        self.ensure_initialised()
        if self.is_running():
            return
        prefix, _, _ = _run_as()
        bindir = find_pg_bindir()
        log = self.pgdata / "server.log"
        _check(
            [
                *prefix,
                str(bindir / "pg_ctl"),
                "-D",
                str(self.pgdata),
                "-l",
                str(log),
                "-w",
                "-t",
                "60",
                "start",
            ],
            "pg_ctl start",
        )
        self._ensure_database(bindir, prefix)

    def _ensure_database(self, bindir: Path, prefix: list[str]) -> None:
        psql = [
            *prefix,
            str(bindir / "psql"),
            "-h",
            str(self.pgdata),
            "-p",
            str(self.port),
            "-U",
            SUPERUSER,
            "-d",
            "postgres",
            "-tAq",
        ]
        for _ in range(50):
            exists = subprocess.run(
                [*psql, "-c", f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'"],
                capture_output=True,
                text=True,
            )
            if exists.returncode == 0:
                break
            time.sleep(0.2)
        if exists.stdout.strip() != "1":
            _check([*psql, "-c", f"CREATE DATABASE {DB_NAME}"], "create database")

    def is_running(self) -> bool:
        pid = self.pgdata / "postmaster.pid"
        if not pid.exists():
            return False
        prefix, _, _ = _run_as()
        result = subprocess.run(
            [*prefix, str(find_pg_bindir() / "pg_ctl"), "-D", str(self.pgdata), "status"],
            capture_output=True,
        )
        return result.returncode == 0

    def stop(self) -> None:
        if not self.is_running():
            return
        prefix, _, _ = _run_as()
        subprocess.run(
            [
                *prefix,
                str(find_pg_bindir() / "pg_ctl"),
                "-D",
                str(self.pgdata),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
            capture_output=True,
        )


def _check(cmd: list[str], what: str) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise EmbeddedDatabaseError(
            f"{what} failed: {result.stderr.strip() or result.stdout.strip()}"
        )
