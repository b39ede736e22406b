"""Sessions: every token names one (claim ``sess``), and every request checks it (one primary-key
lookup). A session ends when revoked (logout; a change to the account, by the service or by the
trigger on ``users``), after ``session_idle_minutes`` without a request, or ``session_max_hours``
after sign-in. Requests slide the idle clock (``last_seen_at``, written at most once a minute).

API sessions also hold a refresh token ``<session id>.<secret>`` (only its sha256 is stored),
rotated on every use; presenting a spent one revokes the session (it was copied)."""

from __future__ import annotations

import datetime as dt
import hmac
import uuid

from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.orm import Session

from app.auth.config import AuthSettings
from app.auth.models import AuthSession, User
from app.auth.security import create_access_token, digest, new_refresh_secret
from app.errors import Unauthorized

TOUCH_EVERY = dt.timedelta(seconds=60)
KEEP_ENDED = dt.timedelta(days=7)

ENDED = "登录已失效，请重新登录"
IDLE = "长时间未操作，登录已超时，请重新登录"


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def open_session(
    session: Session,
    user: User,
    *,
    kind: str,
    purpose: str,
    address: str | None,
    cfg: AuthSettings,
    now: dt.datetime,
) -> tuple[AuthSession, str | None]:
    """A new session for ``user``; for API sessions also its first refresh token."""
    row = AuthSession(
        id=uuid.uuid4(),
        user_id=user.id,
        kind=kind,
        purpose=purpose,
        created_at=now,
        last_seen_at=now,
        expires_at=now + dt.timedelta(hours=cfg.session_max_hours),
        address=address[:64] if address else None,
    )
    refresh = None
    if kind == "api":
        secret = new_refresh_secret()
        row.refresh_hash = digest(secret)
        refresh = f"{row.id}.{secret}"
    session.add(row)
    # The user's sessions that ended a week ago are of no further use (sign-ins are in the audit
    # trail): removed here, so the table stays the size of the active user base.
    session.execute(
        delete(AuthSession).where(
            AuthSession.user_id == user.id,
            or_(
                AuthSession.expires_at < now - KEEP_ENDED, AuthSession.revoked_at < now - KEEP_ENDED
            ),
        )
    )
    session.flush()
    return row, refresh


def access_token(user: User, row: AuthSession, *, secret: str, minutes: int) -> str:
    return create_access_token(
        subject=user.username,
        secret=secret,
        minutes=minutes,
        claims={
            "uid": user.id,
            "role": user.role,
            "jur": user.jurisdiction_code,
            "staff": user.staff_id,
            "sess": str(row.id),
        },
    )


def token_minutes(row: AuthSession, cfg: AuthSettings, now: dt.datetime) -> int:
    """API tokens are short; a page cookie's token lasts as long as its session may (the session
    row, checked on every request, ends it earlier when idle or revoked)."""
    if row.kind == "api":
        return cfg.access_token_minutes
    return max(1, int((row.expires_at - now).total_seconds() // 60))


def live_session(
    session: Session, session_id: str, *, user_id: int, cfg: AuthSettings, now: dt.datetime
) -> AuthSession:
    """The session a token names, if it may still be used; else 401 saying why."""
    try:
        sid = uuid.UUID(session_id)
    except ValueError as exc:
        raise Unauthorized("登录凭据无效，请重新登录") from exc
    row = session.get(AuthSession, sid)
    if row is None or row.user_id != user_id or row.revoked_at is not None:
        raise Unauthorized(ENDED)
    if row.expires_at <= now:
        raise Unauthorized("登录已过期，请重新登录")
    if row.last_seen_at + dt.timedelta(minutes=cfg.session_idle_minutes) <= now:
        raise Unauthorized(IDLE)
    if now - row.last_seen_at >= TOUCH_EVERY:
        # SKIP LOCKED: if a concurrent request of the same session holds the row, it is touching it.
        session.execute(
            text(
                "UPDATE auth_sessions SET last_seen_at = :now WHERE id = ("
                " SELECT id FROM auth_sessions WHERE id = :id FOR UPDATE SKIP LOCKED)"
            ),
            {"now": now, "id": sid},
        )
    return row


def revoke(session: Session, session_id: uuid.UUID, *, reason: str, now: dt.datetime) -> None:
    session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )


def revoke_user_sessions(session: Session, user_id: int, *, reason: str, now: dt.datetime) -> int:
    """End every session of a user (the trigger on ``users`` does the same for SQL changes)."""
    result = session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def rotate_refresh(
    session: Session, refresh_token: str, *, cfg: AuthSettings, now: dt.datetime
) -> tuple[AuthSession, User, str]:
    """Spend ``refresh_token``: the session, its user and the next refresh token. A spent or forged
    one is refused; a spent one also ends the session (someone else holds a copy)."""
    sid_text, _, secret = refresh_token.partition(".")
    try:
        sid = uuid.UUID(sid_text)
    except ValueError as exc:
        raise Unauthorized("刷新令牌无效，请重新登录") from exc
    row = session.scalar(select(AuthSession).where(AuthSession.id == sid).with_for_update())
    if row is None or row.kind != "api" or not secret:
        raise Unauthorized("刷新令牌无效，请重新登录")
    if row.refresh_hash is None or not hmac.compare_digest(row.refresh_hash, digest(secret)):
        revoke(session, row.id, reason="refresh_reused", now=now)
        raise Unauthorized("刷新令牌已使用过，会话已终止，请重新登录", revoked=True)
    live_session(session, sid_text, user_id=row.user_id, cfg=cfg, now=now)
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise Unauthorized(ENDED)
    new_secret = new_refresh_secret()
    row.refresh_hash = digest(new_secret)
    row.last_seen_at = now
    session.flush()
    return row, user, f"{row.id}.{new_secret}"
