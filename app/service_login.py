"""The login the platform's processes use: it owns nothing and has no rights of its own
(docs/security.md#row-level-security).

``gridgov_service`` is a NOINHERIT member of the three named roles of migration 0012, so a
connection made with it can read or write nothing until a transaction says whom it works for
(``SET LOCAL ROLE``, app/db.py), and then only what that role's row-level security lets it reach.
The owner (the embedded cluster's superuser, or the role that runs migrations on a server of your
own) is used only by migrations and the command line.

``gridgov run`` sets this up on the embedded cluster by itself. On a server of your own, create the
same login once as a DBA (docs/operations.md#database-roles) and point ``GRIDGOV_DATABASE_URL`` at it.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

SERVICE_LOGIN = "gridgov_service"
_ROLES = "gridgov_app, gridgov_intake, gridgov_system"


def _password(secret_file: Path) -> str:
    if secret_file.exists():
        return str(json.loads(secret_file.read_text())["password"])
    password = secrets.token_urlsafe(24)  # [A-Za-z0-9_-] only: safe inside a quoted literal
    secret_file.touch(mode=0o600)
    secret_file.write_text(json.dumps({"user": SERVICE_LOGIN, "password": password}))
    return password


def ensure_service_login(owner: Engine, secret_file: Path) -> str:
    """Create (or refresh) the service login with the owner's engine; its database URL."""
    password = _password(secret_file)
    with owner.begin() as conn:
        conn.execute(
            text(
                f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = "
                f"'{SERVICE_LOGIN}') THEN CREATE ROLE {SERVICE_LOGIN} LOGIN NOINHERIT; END IF; END $$"
            )
        )
        conn.execute(text(f"ALTER ROLE {SERVICE_LOGIN} LOGIN NOINHERIT PASSWORD '{password}'"))
        conn.execute(text(f"GRANT {_ROLES} TO {SERVICE_LOGIN}"))
    return owner.url.set(username=SERVICE_LOGIN, password=password).render_as_string(
        hide_password=False
    )


def service_url(owner: Engine, secret_file: Path) -> str:
    """The URL the platform's processes should use: the service login when the owner may create
    it (the embedded cluster; a server where the owner has CREATEROLE), else the owner's own URL,
    said out loud (row-level security still binds every transaction's named role)."""
    try:
        return ensure_service_login(owner, secret_file)
    except DBAPIError as exc:
        print(
            f"提示：无法创建服务登录角色 {SERVICE_LOGIN}（{exc.orig}）；Web 与后台进程将使用 "
            "GRIDGOV_DATABASE_URL 的账号。建议由数据库管理员按 docs/operations.md#database-roles 创建。"
        )
        return owner.url.render_as_string(hide_password=False)
