"""What a start refuses (app/main.py, `gridgov worker`): no signing key (app/auth/keys.py); and, in
production, any active account that still has the publicly known demo password."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.auth.passwords import DEMO_PASSWORD
from app.auth.security import verify_password


class DemoPasswordsInProduction(RuntimeError):
    pass


def demo_password_users(session: Session) -> list[str]:
    """Active users whose password is the demo password.

    Only the demo loader can set it (the password policy refuses it everywhere else), so the
    accounts it creates are the ones checked — one Argon2 verification each, not one per user."""
    from app.demo import DEMO_USERS

    names = [u[0] for u in DEMO_USERS]
    rows = session.execute(
        select(User.username, User.password_hash).where(
            User.is_active.is_(True), User.username.in_(names)
        )
    ).all()
    return sorted(name for name, hashed in rows if verify_password(DEMO_PASSWORD, hashed))


def refuse_demo_passwords(session: Session) -> None:
    users = demo_password_users(session)
    if users:
        raise DemoPasswordsInProduction(
            f"生产环境拒绝启动：账号 {'、'.join(users)} 仍使用演示密码。请修改其密码"
            "（POST /api/v1/auth/password）或停用这些账号（PATCH /api/v1/auth/users/<用户名>，"
            "is_active=false），或不加载演示数据（gridgov run --no-demo）。"
            f" / production refuses to start: demo password still set for {', '.join(users)}"
        )
