"""Users, each with one role and one jurisdiction (an area code) that scopes every query; their
sessions (every token names one, checked on every request); and the login throttle."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Uuid,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base

ROLES = (
    "county_admin",
    "planner",
    "dispatcher",
    "grid_worker",
    "auditor",
    "unit_handler",
    "public",
    "building_leader",
    "unit_steward",
)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('county_admin', 'planner', 'dispatcher', 'grid_worker', 'auditor', "
            "'unit_handler', 'public', 'building_leader', 'unit_steward')",
            name="role",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(64), server_default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    # An area code; for a building leader or unit steward, their grid's code (15 digits).
    jurisdiction_code: Mapped[str] = mapped_column(String(15))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default="true")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # Second factor (TOTP): the secret encrypted with a key derived from the signing key
    # (app/auth/totp.py); enabled once a first code confirmed it; the last time step used, so a
    # code is accepted once.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)


class AuthSession(Base):
    """One sign-in. Tokens carry its id (claim ``sess``); a revoked, idle or expired session ends
    every token of it at once. A trigger on ``users`` revokes them when the account changes."""

    __tablename__ = "auth_sessions"
    __table_args__ = (
        CheckConstraint("kind IN ('api', 'page')", name="kind"),
        CheckConstraint("purpose IN ('full', 'enrol')", name="purpose"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    # 'enrol': may only enrol a second factor (production, a role that needs one, none yet).
    purpose: Mapped[str] = mapped_column(String(8), server_default="full")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    # sha256 of the current refresh token (API sessions); rotated on every refresh.
    refresh_hash: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(64))


class LoginThrottle(Base):
    """Failed sign-ins per username and per client address, shared by every web worker."""

    __tablename__ = "login_throttle"
    __table_args__ = (CheckConstraint("scope IN ('user', 'address')", name="scope"),)

    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
