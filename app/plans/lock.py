"""Who may change a plan right now: the expiring edit lock (one planner at a time) and the plan's
version (a change made against an older version is refused).
"""

from __future__ import annotations

import datetime as dt

from app.auth.policy import Principal
from app.errors import Conflict
from app.plans.load import now
from app.plans.models import Plan
from app.plans.schemas import LockPublic


def _lock_holder(plan: Plan, at: dt.datetime) -> str | None:
    if plan.locked_by and plan.locked_until and plan.locked_until > at:
        return plan.locked_by
    return None


def acquire_lock(plan: Plan, principal: Principal, *, minutes: int) -> None:
    """Take (or renew) the edit lock for ``minutes`` (the setting ``plan_lock_minutes``); 409
    naming the holder if someone else has it."""
    t = now()
    holder = _lock_holder(plan, t)
    if holder is not None and holder != principal.username:
        assert plan.locked_until is not None
        raise Conflict(
            f"方案正由 {holder} 编辑，锁定至 {plan.locked_until.astimezone():%Y-%m-%d %H:%M}",
            locked_by=holder,
            locked_until=plan.locked_until.isoformat(),
        )
    plan.locked_by, plan.locked_until = (
        principal.username,
        t + dt.timedelta(minutes=minutes),
    )


def release_lock(plan: Plan, principal: Principal, *, force: bool = False) -> None:
    holder = _lock_holder(plan, now())
    if holder is not None and holder != principal.username and not force:
        raise Conflict(f"锁由 {holder} 持有，只有其本人或县级管理员可以解除", locked_by=holder)
    plan.locked_by, plan.locked_until = None, None


def lock_public(plan: Plan) -> LockPublic:
    """Who holds the edit lock, and until when; nobody once it has lapsed."""
    live = plan.locked_until is not None and plan.locked_until > now()
    return LockPublic(
        locked_by=plan.locked_by if live else None, locked_until=plan.locked_until if live else None
    )


def check_version(plan: Plan, version: int) -> None:
    """Optimistic concurrency: a change names the plan version it was made against; 409 if the
    plan has moved on since."""
    if version != plan.version:
        raise Conflict(
            f"方案已被他人修改（您的版本 {version}，当前版本 {plan.version}），请刷新后重试",
            current_version=plan.version,
        )
