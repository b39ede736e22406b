"""User accounts: create, change, sign in (password, lockout, second factor), sign out.

Every function that changes who a user is or how they prove it ends the user's sessions (and the
trigger on ``users`` does the same for changes made in SQL). Every sign-in, successful or not, is
written to the security audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.areas.models import Area
from app.audittrail import record_event
from app.auth import sessions, throttle, totp
from app.auth.config import AuthSettings
from app.auth.keys import signing_key
from app.auth.models import ROLES, AuthSession, User
from app.auth.passwords import check_password
from app.auth.policy import ROLE_LABELS
from app.auth.schemas import UserCreate, UserUpdate
from app.auth.security import burn_verify, hash_password, verify_password
from app.errors import Conflict, GridgovError, InvalidInput, NotFound, Unauthorized
from app.settings import Settings
from app.staff.models import Staff

BAD_CREDENTIALS = "用户名或密码错误"


class LoginRefused(GridgovError):
    """A refused sign-in: 401 (wrong credentials or code), 423 (account locked) or 429 (too many
    failures from this address). Routes answer it without rolling back, so the failure counts."""

    def __init__(
        self, message: str, *, status: int = 401, retry_after: int | None = None, **detail
    ):  # type: ignore[no-untyped-def]
        super().__init__(message, **detail)
        self.status_code = status
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        if self.retry_after is not None:
            return {"Retry-After": str(self.retry_after)}
        return {"WWW-Authenticate": "Bearer"} if self.status_code == 401 else {}


def _role_known(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(
            f"未知角色 {role}；可选：{'、'.join(f'{r}（{ROLE_LABELS[r]}）' for r in ROLES)}"
        )


def _area_exists(session: Session, code: str) -> None:
    area = session.scalar(select(Area.id).where(Area.code == code, Area.valid_to.is_(None)))
    if area is None:
        raise NotFound(f"辖区编码 {code} 不存在，请先导入区划")


def _staff_id(session: Session, staff_code: str | None) -> int | None:
    if not staff_code:
        return None
    staff_id = session.scalar(select(Staff.id).where(Staff.code == staff_code))
    if staff_id is None:
        raise NotFound(f"人员编号 {staff_code} 不存在")
    return staff_id


def create_user(
    session: Session,
    *,
    data: UserCreate,
    policy: AuthSettings | None = None,
    demo_password: bool = False,
) -> User:
    """A new user; the password must pass the policy (``demo_password``: the demo loader only)."""
    _role_known(data.role)
    if not demo_password:
        check_password(data.password, username=data.username, policy=policy or AuthSettings())
    if session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise Conflict(f"用户名 {data.username} 已存在")
    _area_exists(session, data.jurisdiction_code)
    user = User(
        username=data.username,
        full_name=data.full_name,
        password_hash=hash_password(data.password),
        role=data.role,
        jurisdiction_code=data.jurisdiction_code,
        staff_id=_staff_id(session, data.staff_code),
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户 {username} 不存在")
    return user


def update_user(session: Session, user: User, *, data: UserUpdate) -> User:
    """Change role, jurisdiction, staff link, name or active flag; any change to what the user may
    do (all but the name) ends their sessions."""
    changed = False
    if data.role is not None and data.role != user.role:
        _role_known(data.role)
        user.role, changed = data.role, True
    if data.jurisdiction_code is not None and data.jurisdiction_code != user.jurisdiction_code:
        _area_exists(session, data.jurisdiction_code)
        user.jurisdiction_code, changed = data.jurisdiction_code, True
    if data.staff_code is not None:
        staff_id = _staff_id(session, data.staff_code or None)
        if staff_id != user.staff_id:
            user.staff_id, changed = staff_id, True
    if data.is_active is not None and data.is_active != user.is_active:
        user.is_active, changed = data.is_active, True
    if data.full_name is not None:
        user.full_name = data.full_name
    if changed:
        reason = "deactivated" if data.is_active is False else "account_changed"
        sessions.revoke_user_sessions(session, user.id, reason=reason, now=sessions.now_utc())
    session.flush()
    return user


def set_password(session: Session, user: User, new_password: str, *, policy: AuthSettings) -> None:
    """Set a new password (policy checked) and end every session of the user."""
    check_password(new_password, username=user.username, policy=policy)
    sessions.revoke_user_sessions(
        session, user.id, reason="password_changed", now=sessions.now_utc()
    )
    user.password_hash = hash_password(new_password)
    session.flush()


def change_own_password(
    session: Session, user: User, *, current: str, new: str, policy: AuthSettings
) -> None:
    if not verify_password(current, user.password_hash):
        raise InvalidInput("当前密码不正确", field="current_password")
    if new == current:
        raise InvalidInput("新密码不能与当前密码相同", field="new_password")
    set_password(session, user, new, policy=policy)


# ---- signing in -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedIn:
    user: User
    session: AuthSession
    access_token: str
    expires_in: int  # seconds
    refresh_token: str | None


def needs_totp(user: User, cfg: AuthSettings) -> bool:
    return user.role in cfg.totp_roles


def sign_in(
    session: Session,
    *,
    username: str,
    password: str,
    code: str | None,
    address: str | None,
    kind: str,
    settings: Settings,
) -> SignedIn:
    """Check a sign-in and open a session, or raise ``LoginRefused`` — having recorded the failure
    in ``session``, which the caller must commit (answer the refusal, do not re-raise it)."""
    cfg = settings.auth
    now = sessions.now_utc()

    def audit(outcome: str, reason: str | None = None) -> None:
        record_event(
            session,
            actor=username[:64],
            address=address,
            action="auth.login",
            object=f"user:{username[:64]}",
            outcome=outcome,
            detail={"channel": kind, **({"reason": reason} if reason else {})},
        )

    refused = throttle.refusal(session, username=username, address=address, cfg=cfg, now=now)
    if refused is not None:
        audit("refused", "locked" if refused.status == 423 else "address_limited")
        raise LoginRefused(refused.message, status=refused.status, retry_after=refused.retry_after)

    def fail(message: str, reason: str, **detail) -> LoginRefused:  # type: ignore[no-untyped-def]
        left = throttle.record_failure(
            session, username=username, address=address, cfg=cfg, now=now
        )
        audit("failure", reason)
        if cfg.throttle_enabled and left == 0:
            message += f"；连续失败 {cfg.max_failures} 次，账号已锁定 {cfg.lockout_minutes} 分钟"
        elif cfg.throttle_enabled and left <= 2:
            message += f"（再失败 {left} 次账号将锁定 {cfg.lockout_minutes} 分钟）"
        return LoginRefused(message, **detail)

    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        burn_verify(password)  # as long as a real check: timing says nothing about the name
        raise fail(BAD_CREDENTIALS, "unknown_user" if user is None else "inactive")
    if not verify_password(password, user.password_hash):
        raise fail(BAD_CREDENTIALS, "bad_password")

    purpose = "full"
    if user.totp_enabled_at is not None:
        secret = totp.unseal(user.totp_secret or "", signing_key(settings))
        if not code:
            # Not a failure: the password was right, the form asks for the code next.
            audit("refused", "totp_required")
            raise LoginRefused("请输入动态口令（手机验证器上的 6 位数字）", totp_required=True)
        step = (
            totp.matching_step(secret, code, last_step=user.totp_last_step, now=now)
            if secret
            else None
        )
        if step is None:
            raise fail(
                "动态口令错误或已使用，请输入验证器上当前的 6 位数字",
                "bad_totp",
                totp_required=True,
            )
        user.totp_last_step = step
    elif needs_totp(user, cfg) and settings.environment == "production":
        purpose = "enrol"  # may only enrol the second factor it is required to have

    throttle.clear_user(session, username=username)
    row, refresh = sessions.open_session(
        session, user, kind=kind, purpose=purpose, address=address, cfg=cfg, now=now
    )
    minutes = sessions.token_minutes(row, cfg, now)
    token = sessions.access_token(user, row, secret=signing_key(settings), minutes=minutes)
    audit("success", None if purpose == "full" else "totp_enrolment_only")
    return SignedIn(user, row, token, minutes * 60, refresh)


def refresh(session: Session, *, refresh_token: str, settings: Settings) -> SignedIn:
    cfg = settings.auth
    now = sessions.now_utc()
    row, user, new_refresh = sessions.rotate_refresh(session, refresh_token, cfg=cfg, now=now)
    token = sessions.access_token(
        user, row, secret=signing_key(settings), minutes=cfg.access_token_minutes
    )
    return SignedIn(user, row, token, cfg.access_token_minutes * 60, new_refresh)


def sign_out(
    session: Session, *, session_id: str | None, username: str, address: str | None
) -> None:
    if session_id:
        import uuid

        sessions.revoke(session, uuid.UUID(session_id), reason="logout", now=sessions.now_utc())
    record_event(
        session,
        actor=username,
        address=address,
        action="auth.logout",
        object=f"user:{username}",
        outcome="success",
    )


# ---- second factor --------------------------------------------------------------------------


def start_totp_enrolment(session: Session, user: User, *, settings: Settings) -> tuple[str, str]:
    """A new secret for ``user`` (replacing an unconfirmed one): (secret, otpauth URI)."""
    if user.totp_enabled_at is not None:
        raise Conflict("已绑定动态口令；如需更换请联系管理员重置")
    secret = totp.new_secret()
    user.totp_secret = totp.seal(secret, signing_key(settings))
    session.flush()
    uri = totp.provisioning_uri(secret, username=user.username, issuer=settings.auth.totp_issuer)
    return secret, uri


def confirm_totp_enrolment(
    session: Session, user: User, *, code: str, settings: Settings, address: str | None
) -> None:
    """Enable the second factor once a first code proves the phone has the secret; the sessions
    opened before (an enrolment-only one included) end: sign in again with the code."""
    if user.totp_enabled_at is not None:
        raise Conflict("已绑定动态口令")
    secret = (
        totp.unseal(user.totp_secret or "", signing_key(settings)) if user.totp_secret else None
    )
    if secret is None:
        raise InvalidInput("请先获取动态口令密钥（POST /api/v1/auth/totp/enrol）")
    now = sessions.now_utc()
    step = totp.matching_step(secret, code, last_step=None, now=now)
    if step is None:
        raise InvalidInput("动态口令错误，请输入验证器上当前的 6 位数字", field="code")
    user.totp_enabled_at = now
    user.totp_last_step = step
    sessions.revoke_user_sessions(session, user.id, reason="totp_enrolled", now=now)
    record_event(
        session,
        actor=user.username,
        address=address,
        action="auth.totp_enrol",
        object=f"user:{user.username}",
        outcome="success",
    )
    session.flush()


def user_by_id(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise Unauthorized("登录已失效，请重新登录")
    return user
