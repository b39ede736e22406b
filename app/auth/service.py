"""User accounts: create and authenticate."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.areas.models import Area
from app.auth.models import ROLES, User
from app.auth.policy import ROLE_LABELS
from app.auth.schemas import UserCreate
from app.auth.security import create_access_token, hash_password, verify_password
from app.errors import Conflict, InvalidInput, NotFound, Unauthorized
from app.settings import Settings
from app.staff.models import Staff


def create_user(session: Session, *, data: UserCreate) -> User:
    if data.role not in ROLES:
        raise InvalidInput(
            f"未知角色 {data.role}；可选：{'、'.join(f'{r}（{ROLE_LABELS[r]}）' for r in ROLES)}"
        )
    if session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise Conflict(f"用户名 {data.username} 已存在")
    area = session.scalar(
        select(Area.id).where(Area.code == data.jurisdiction_code, Area.valid_to.is_(None))
    )
    if area is None:
        raise NotFound(f"辖区编码 {data.jurisdiction_code} 不存在，请先导入区划")
    staff_id = None
    if data.staff_code:
        staff_id = session.scalar(select(Staff.id).where(Staff.code == data.staff_code))
        if staff_id is None:
            raise NotFound(f"人员编号 {data.staff_code} 不存在")
    user = User(
        username=data.username,
        full_name=data.full_name,
        password_hash=hash_password(data.password),
        role=data.role,
        jurisdiction_code=data.jurisdiction_code,
        staff_id=staff_id,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, *, username: str, password: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    # Verify even for unknown users would equalise timing; Argon2 dominates either way.
    if user is None or not user.is_active or not verify_password(password, user.password_hash):
        raise Unauthorized("用户名或密码错误")
    return user


def issue_token(user: User, settings: Settings) -> str:
    """The bearer token for a logged-in user (API clients and the pages' cookie alike)."""
    return create_access_token(
        subject=user.username,
        secret=settings.secret_key,
        minutes=settings.access_token_minutes,
        claims={
            "role": user.role,
            "jur": user.jurisdiction_code,
            "uid": user.id,
            "sid": user.staff_id,
        },
    )
