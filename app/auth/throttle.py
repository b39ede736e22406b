"""Login failure handling (GB/T 22239 身份鉴别: 登录失败处理), kept in the database so every web
worker agrees.

Two counters. Per username (known or not, so a lock says nothing about whether an account exists):
``max_failures`` failures in a row within ``lockout_minutes`` lock it for ``lockout_minutes`` —
answered **423 Locked**. Per client address: ``address_max_failures`` failures within
``address_window_minutes`` refuse every further attempt from it until the window ends — answered
**429 Too Many Requests**. Both carry ``Retry-After`` and say in the message when to try again. A
successful sign-in clears the username's counter (not the address's).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select, text, tuple_
from sqlalchemy.orm import Session

from app.auth.config import AuthSettings
from app.auth.models import LoginThrottle

BEIJING = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str
    retry_after: int  # seconds


def _key(scope: str, value: str) -> tuple[str, str]:
    return scope, (value.lower() if scope == "user" else value)[:128]


def _when(until: dt.datetime, now: dt.datetime) -> tuple[str, int]:
    seconds = max(1, int((until - now).total_seconds() + 0.999))
    minutes = max(1, (seconds + 59) // 60)
    return f"{until.astimezone(BEIJING):%H:%M}（约 {minutes} 分钟后）", seconds


def refusal(
    session: Session, *, username: str, address: str | None, cfg: AuthSettings, now: dt.datetime
) -> Refusal | None:
    """Why an attempt is refused before its password is even checked, or None."""
    if not cfg.throttle_enabled:
        return None
    keys = [_key("user", username)] + ([_key("address", address)] if address else [])
    rows = session.execute(
        select(LoginThrottle.scope, LoginThrottle.locked_until).where(
            tuple_(LoginThrottle.scope, LoginThrottle.key).in_(keys),
            LoginThrottle.locked_until > now,
        )
    ).all()
    locks = {scope: until for scope, until in rows if until is not None}
    if "address" in locks:
        when, seconds = _when(locks["address"], now)
        return Refusal(429, f"本机登录失败次数过多，请于 {when}再试", seconds)
    if "user" in locks:
        when, seconds = _when(locks["user"], now)
        return Refusal(
            423,
            f"该账号连续登录失败 {cfg.max_failures} 次，已锁定，请于 {when}再试",
            seconds,
        )
    return None


_FAIL = text(
    """
    INSERT INTO login_throttle AS t (scope, key, failures, window_start, locked_until)
    VALUES (:scope, :key, 1, :now, CASE WHEN :max <= 1 THEN CAST(:lock_until AS timestamptz) END)
    ON CONFLICT (scope, key) DO UPDATE SET
        failures = CASE WHEN t.window_start < :floor OR t.locked_until <= :now
                        THEN 1 ELSE t.failures + 1 END,
        window_start = CASE WHEN t.window_start < :floor OR t.locked_until <= :now
                            THEN :now ELSE t.window_start END,
        locked_until = CASE WHEN (CASE WHEN t.window_start < :floor OR t.locked_until <= :now
                                       THEN 1 ELSE t.failures + 1 END) >= :max
                            THEN CAST(:lock_until AS timestamptz) END
    RETURNING failures
    """
)


def record_failure(
    session: Session, *, username: str, address: str | None, cfg: AuthSettings, now: dt.datetime
) -> int:
    """Count a failed attempt; returns how many more the username may fail before it locks."""
    if not cfg.throttle_enabled:
        return cfg.max_failures
    failures = 0
    counters = [("user", username, cfg.max_failures, cfg.lockout_minutes)]
    if address:
        counters.append(("address", address, cfg.address_max_failures, cfg.address_window_minutes))
    for scope, value, limit, minutes in counters:
        scope, key = _key(scope, value)
        window = dt.timedelta(minutes=minutes)
        n = session.execute(
            _FAIL,
            {
                "scope": scope,
                "key": key,
                "now": now,
                "floor": now - window,
                "max": limit,
                "lock_until": now + window,
            },
        ).scalar_one()
        if scope == "user":
            failures = n
    # Counters whose window and lock are long over say nothing any more: keep the table small.
    session.execute(
        text(
            "DELETE FROM login_throttle WHERE window_start < :old "
            "AND (locked_until IS NULL OR locked_until < :now)"
        ),
        {"old": now - dt.timedelta(days=1), "now": now},
    )
    return max(0, cfg.max_failures - failures)


def clear_user(session: Session, *, username: str) -> None:
    scope, key = _key("user", username)
    session.execute(
        text("DELETE FROM login_throttle WHERE scope = :s AND key = :k"), {"s": scope, "k": key}
    )
