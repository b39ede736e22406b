"""Password policy (GB/T 22239 身份鉴别: 口令复杂度): the one place it is decided.

A new password must be at least ``password_min_length`` long, differ from the username, not be one
of the 30,000 most common passwords (zxcvbn's list, offline), and reach zxcvbn's strength score
``password_min_score``. The demo password is refused too: only the demo loader sets it.
"""

from __future__ import annotations

from functools import lru_cache

from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from app.auth.config import AuthSettings
from app.errors import InvalidInput

DEMO_PASSWORD = "gridgov-demo"
MAX_LENGTH = 128


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, *, username: str, policy: AuthSettings) -> str | None:
    """Why ``password`` may not be used, in words for the user, or None if it may."""
    if len(password) < policy.password_min_length:
        return f"密码至少需要 {policy.password_min_length} 个字符"
    if len(password) > MAX_LENGTH:
        return f"密码不能超过 {MAX_LENGTH} 个字符"
    lowered = password.lower()
    if lowered == username.lower():
        return "密码不能与用户名相同"
    if lowered in _common() or lowered == DEMO_PASSWORD:
        return "该密码是常见密码，容易被猜中，请换一个"
    if zxcvbn(password, user_inputs=[username])["score"] < policy.password_min_score:
        return "密码过于简单（如重复字符、连续字母或数字、常见单词加数字），请换一个更难猜的"
    return None


def check_password(password: str, *, username: str, policy: AuthSettings) -> None:
    """Raise a 422 naming the rule ``password`` breaks."""
    problem = password_problem(password, username=username, policy=policy)
    if problem is not None:
        raise InvalidInput(problem, field="password")
