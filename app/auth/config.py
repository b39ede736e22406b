"""Sign-in rules that are local practice, hence settings: a section of the one Settings object
(``settings.auth``; environment ``GRIDGOV_AUTH__<NAME>``, e.g. ``GRIDGOV_AUTH__SESSION_IDLE_MINUTES``).

The signing key itself is ``GRIDGOV_SECRET_KEY`` (top level; see ``app/auth/keys.py``).
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class AuthSettings(BaseModel):
    # Bearer tokens from POST /api/v1/auth/token live this long; a refresh token renews them.
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # A session (API or pages) with no request for this long ends: log in again.
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # No session outlives this, however busy.
    session_max_hours: int = Field(default=12, ge=1, le=7 * 24)

    # Login failure handling (GB/T 22239 身份鉴别): per username, this many failures in a row lock
    # the account for lockout_minutes; per client address, this many failures within
    # address_window_minutes refuse further attempts from it until the window ends.
    throttle_enabled: bool = True
    max_failures: int = Field(default=5, ge=1)
    lockout_minutes: int = Field(default=15, ge=1)
    address_max_failures: int = Field(default=20, ge=1)
    address_window_minutes: int = Field(default=15, ge=1)

    password_min_length: int = Field(default=10, ge=8, le=128)
    # zxcvbn score (0-4) a new password must reach besides not being a listed common password.
    password_min_score: int = Field(default=2, ge=0, le=4)

    # Roles that must use a second factor (TOTP). In production they can only log in to enrol.
    totp_roles: tuple[str, ...] = ("county_admin", "planner")
    totp_issuer: str = "gridgov"
