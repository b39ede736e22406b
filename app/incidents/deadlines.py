"""A case's deadlines: the stage it is in, when that stage is due, its light, extensions and 挂账
(docs/domain.md#deadlines-and-the-calendar). The one place these are decided: the case output, the
console, the phone, the dashboard, the 督办 queue and the escalation worker all read what this
module computes and the service stores (``stage_started_at``, ``stage_due_at``, ``amber_at``,
``paused_since``, ``paused_minutes``, ``pending_request``, ``deadline``).

Stages: 受理立案 ``register`` (from the report), 派遣 ``dispatch`` (from 立案, or from 退回),
处置 ``handling`` (from 派遣/改派, the category's own limit) and 核查 ``verification`` (from 处置完毕).
Each stage's clock starts when the case enters it. A case on calendar time (its category's unit is
calendar hours or days) counts every stage on the clock; one on working time counts every stage in
working time. The limits other than handling are county policy, data in ``data/deadlines.json``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import case as sa_case

from app.errors import Conflict, InvalidInput
from app.incidents.calendar import CALENDAR_UNITS, UNIT_LABELS, UNITS, WorkingCalendar

POLICY_FILE = Path(__file__).with_name("data") / "deadlines.json"
STAGE_LABELS = {
    "register": "受理立案",
    "dispatch": "派遣",
    "handling": "处置",
    "verification": "核查",
}
# The stage whose clock runs in each state; a state not listed has none (closed, final, verified).
STAGE_OF_STATE = {
    "reported": "register",
    "accepted": "register",
    "registered": "dispatch",
    "returned": "dispatch",
    "dispatched": "handling",
    "handling": "handling",
    "handled": "verification",
    "checking": "verification",
}
LIGHTS = ("green", "amber", "red", "paused")
LIGHT_LABELS = {"green": "正常", "amber": "临期", "red": "超期", "paused": "挂账"}
# Moves that start the handling clock again although the stage stays: the new unit gets its time.
RESTARTS = frozenset({"reassign"})
REQUEST_KINDS = {"extension": "延期", "suspension": "挂账"}
TOP_TIER = 3


@dataclass(frozen=True)
class Limit:
    value: float
    unit: str

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unknown time-limit unit {self.unit!r}; known: {list(UNITS)}")
        if not self.value > 0:
            raise ValueError(f"a time limit must be positive, got {self.value}")

    @property
    def basis(self) -> str:
        return "calendar" if self.unit in CALENDAR_UNITS else "working"

    @property
    def label(self) -> str:
        return f"{self.value:g} {UNIT_LABELS[self.unit]}"

    def minutes(self, calendar: WorkingCalendar) -> float:
        """The limit in minutes of its own kind of time (clock or working minutes)."""
        per = {"calendar_hours": 60, "calendar_days": 1440, "working_hours": 60}
        return self.value * per.get(self.unit, calendar.minutes_per_day)


@dataclass(frozen=True)
class Policy:
    """The county's deadline policy (``data/deadlines.json``)."""

    stage_limits: dict[str, dict[str, Limit]]  # basis → stage → limit (not handling)
    categories: dict[str, dict[str, Limit]]  # category code → stage → limit, overrides
    max_extensions: int = 1
    amber_share: float = 0.2

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Policy:
        def limits(d: dict[str, Any], where: str) -> dict[str, Limit]:
            out = {}
            for stage, (value, unit) in d.items():
                if stage not in STAGE_LABELS or stage == "handling":
                    raise ValueError(
                        f"{where}: unknown stage {stage!r} (handling is the category's)"
                    )
                out[stage] = Limit(float(value), unit)
            return out

        stages = {b: limits(data["stage_limits"][b], b) for b in ("calendar", "working")}
        for basis, found in stages.items():
            missing = sorted(set(STAGE_LABELS) - {"handling"} - set(found))
            if missing:
                raise ValueError(f"deadlines.json: stage_limits.{basis} lacks {missing}")
        policy = cls(
            stage_limits=stages,
            categories={c: limits(d, c) for c, d in data.get("categories", {}).items()},
            max_extensions=int(data.get("max_extensions", 1)),
            amber_share=float(data.get("amber_share", 0.2)),
        )
        if policy.max_extensions < 0 or not 0 <= policy.amber_share < 1:
            raise ValueError("deadlines.json: max_extensions >= 0 and 0 <= amber_share < 1")
        return policy


@lru_cache
def default_policy(path: Path = POLICY_FILE) -> Policy:
    return Policy.from_dict(json.loads(path.read_text(encoding="utf-8")))


class Case(Protocol):
    """What this module reads and sets on a case (an ``Incident`` row satisfies it)."""

    state: str
    category_code: str
    tier: int
    limit_value: float | None
    limit_unit: str | None
    deadline: dt.datetime
    escalate_at: dt.datetime | None
    stage_started_at: dt.datetime | None
    stage_due_at: dt.datetime | None
    amber_at: dt.datetime | None
    paused_since: dt.datetime | None
    paused_minutes: int
    pending_request: dict[str, Any] | None
    extension_count: int


class CategoryLimits(Protocol):
    @property
    def limit_value(self) -> float | None: ...
    @property
    def limit_unit(self) -> str | None: ...
    @property
    def urgent_limit_value(self) -> float | None: ...
    @property
    def urgent_limit_unit(self) -> str | None: ...


def handling_limit(cat: CategoryLimits, *, urgent: bool) -> Limit:
    """The category's handling limit: the urgent one when the report is urgent and it has one."""
    if urgent and cat.urgent_limit_value and cat.urgent_limit_unit:
        return Limit(cat.urgent_limit_value, cat.urgent_limit_unit)
    assert cat.limit_value is not None and cat.limit_unit is not None
    return Limit(cat.limit_value, cat.limit_unit)


def stage_of(case: Case) -> str | None:
    return STAGE_OF_STATE.get(case.state)


def _handling(case: Case) -> Limit:
    assert case.limit_value is not None and case.limit_unit is not None
    return Limit(case.limit_value, case.limit_unit)


def stage_limit(case: Case, stage: str, policy: Policy) -> Limit:
    handling = _handling(case)
    if stage == "handling":
        return handling
    override = policy.categories.get(case.category_code, {}).get(stage)
    return override or policy.stage_limits[handling.basis][stage]


def amber_from(
    at: dt.datetime,
    due: dt.datetime,
    limit: Limit,
    calendar: WorkingCalendar,
    policy: Policy,
    *,
    left: float | None = None,
) -> dt.datetime:
    """When the light turns amber (stored as ``amber_at``, so SQL lists show the same light): the
    moment no more than ``amber_share`` of the stage's limit is left, counted in the limit's own
    kind of time from ``at`` (the clock's start, an extension, 恢复)."""
    if due <= at:
        return due
    warn = policy.amber_share * limit.minutes(calendar)
    if left is None:  # minutes of the limit's kind from ``at`` to ``due``
        left = calendar.minutes_between(at, due, limit.unit)
    if left <= warn:
        return at
    return calendar.add_basis_minutes(at, left - warn, limit.unit)


def _escalation(
    at: dt.datetime, due: dt.datetime, limit: Limit, calendar: WorkingCalendar, share: float
) -> dt.datetime:
    """When the worker escalates: ``share`` of the stage's limit after its start."""
    return due if share == 1.0 else calendar.add(at, limit.value * share, limit.unit)


def start_clock(
    case: Case,
    at: dt.datetime,
    calendar: WorkingCalendar,
    policy: Policy,
    *,
    escalation_share: float = 1.0,
) -> None:
    """Start the clock of the stage the case is in now (none: the clock is cleared)."""
    stage = stage_of(case)
    if stage is None:
        case.stage_started_at = case.stage_due_at = case.amber_at = case.escalate_at = None
        return
    limit = stage_limit(case, stage, policy)
    case.stage_started_at = at
    case.stage_due_at = calendar.add(at, limit.value, limit.unit)
    case.amber_at = amber_from(
        at, case.stage_due_at, limit, calendar, policy, left=limit.minutes(calendar)
    )
    if stage == "handling":
        case.deadline = case.stage_due_at
    case.escalate_at = (
        _escalation(at, case.stage_due_at, limit, calendar, escalation_share)
        if case.tier < TOP_TIER
        else None
    )


def intake_clock(
    reported_at: dt.datetime,
    category_code: str,
    limit: Limit,
    calendar: WorkingCalendar,
    policy: Policy,
    *,
    tier: int,
    escalation_share: float = 1.0,
) -> dict[str, Any]:
    """The deadline columns of a new case: the 受理立案 clock from the report, and ``deadline``,
    the handling due time as it would be if the case were dispatched at once (set again at 派遣)."""
    stage = policy.categories.get(category_code, {}).get("register")
    first = stage or policy.stage_limits[limit.basis]["register"]
    due = calendar.add(reported_at, first.value, first.unit)
    return {
        "limit_value": limit.value,
        "limit_unit": limit.unit,
        "deadline": calendar.add(reported_at, limit.value, limit.unit),
        "stage_started_at": reported_at,
        "stage_due_at": due,
        "amber_at": amber_from(
            reported_at, due, first, calendar, policy, left=first.minutes(calendar)
        ),
        "escalate_at": _escalation(reported_at, due, first, calendar, escalation_share)
        if tier < TOP_TIER
        else None,
    }


def after_move(
    case: Case,
    action: str,
    before: str,
    at: dt.datetime,
    calendar: WorkingCalendar,
    policy: Policy,
    *,
    escalation_share: float = 1.0,
) -> None:
    """After a move of the lifecycle: a case that enters another stage (or is reassigned to a new
    unit) starts that stage's clock; a case that leaves every stage has no clock. A request still
    waiting was about the old clock and lapses."""
    if stage_of(case) != STAGE_OF_STATE.get(before) or action in RESTARTS:
        case.paused_since = None
        case.pending_request = None
        start_clock(case, at, calendar, policy, escalation_share=escalation_share)


# -- extensions and 挂账 ---------------------------------------------------------------------------

# The deadline moves of the lifecycle table (statemachine.TRANSITIONS) and what each one settles.
REQUESTS = {"request_extension": "extension", "request_suspension": "suspension"}
DECISIONS = {
    "approve_extension": ("extension", True),
    "refuse_extension": ("extension", False),
    "approve_suspension": ("suspension", True),
    "refuse_suspension": ("suspension", False),
}
MOVES = frozenset({*REQUESTS, *DECISIONS, "extend", "resume"})


def refusal(case: Any, action: str, policy: Policy | None = None) -> str | None:
    """Why ``action`` may not be made on ``case`` now as far as its clock goes (None: it may).
    Read by statemachine.moves_for, so a page only shows what the service accepts."""
    policy = policy or default_policy()
    paused = getattr(case, "paused_since", None) is not None
    pending = getattr(case, "pending_request", None) or {}
    if paused and action != "resume":
        return "事件已挂账，恢复（resume）后才能继续办理"
    if action == "resume" and not paused:
        return "事件没有挂账，无需恢复"
    if action in REQUESTS and pending:
        return f"已有待审批的{REQUEST_KINDS[pending['kind']]}申请，请等待调度员处理"
    if action in DECISIONS and pending.get("kind") != DECISIONS[action][0]:
        return f"没有待审批的{REQUEST_KINDS[DECISIONS[action][0]]}申请"
    if action in ("request_extension", "approve_extension", "extend"):
        used = int(getattr(case, "extension_count", 0) or 0)
        if used >= policy.max_extensions:
            return f"延期次数已达上限（{policy.max_extensions} 次），不能再延期"
    return None


def _reason(note: str, what: str) -> str:
    reason = (note or "").strip()
    if not reason:
        raise InvalidInput(f"note: {what}需要填写理由", field="note")
    return reason


def _extend(
    case: Case, hours: float, at: dt.datetime, calendar: WorkingCalendar, policy: Policy
) -> dict[str, Any]:
    stage = stage_of(case)
    assert case.stage_due_at is not None and stage is not None
    unit = "calendar_hours" if _handling(case).basis == "calendar" else "working_hours"
    old = case.stage_due_at
    case.stage_due_at = calendar.add(old, hours, unit)
    case.amber_at = amber_from(
        at, case.stage_due_at, stage_limit(case, stage, policy), calendar, policy
    )
    if stage == "handling":
        case.deadline = case.stage_due_at
    case.escalate_at = case.stage_due_at if case.tier < TOP_TIER else None
    case.extension_count += 1
    return {
        "hours": hours,
        "unit": unit,
        "old_due_at": old.isoformat(),
        "new_due_at": case.stage_due_at.isoformat(),
    }


def _resume(
    case: Case, at: dt.datetime, calendar: WorkingCalendar, policy: Policy
) -> dict[str, Any]:
    """The stopped clock runs on: the time left when it stopped is counted again from now."""
    stage = stage_of(case)
    assert case.paused_since is not None and case.stage_due_at is not None and stage is not None
    since, due = case.paused_since, case.stage_due_at
    limit = stage_limit(case, stage, policy)
    unit = limit.unit
    if due > since:
        left = calendar.minutes_between(since, due, unit)
        new_due = calendar.add_basis_minutes(at, left, unit)
    else:  # stopped when already overdue: stays overdue by as much
        new_due = due + (at - since)
    case.stage_due_at = new_due
    case.amber_at = amber_from(at, new_due, limit, calendar, policy)
    if stage == "handling":
        case.deadline = new_due
    case.escalate_at = new_due if case.tier < TOP_TIER else None
    case.paused_minutes += int((at - since).total_seconds() // 60)
    case.paused_since = None
    return {
        "paused_since": since.isoformat(),
        "old_due_at": due.isoformat(),
        "new_due_at": new_due.isoformat(),
    }


def apply_move(
    case: Case,
    action: str,
    *,
    actor: str,
    note: str,
    hours: float | None,
    at: dt.datetime,
    calendar: WorkingCalendar,
    policy: Policy | None = None,
) -> dict[str, Any]:
    """One deadline move (``MOVES``) on ``case``; returns the history row's data. Refused: without
    a reason (422), or when ``refusal`` says no (409)."""
    policy = policy or default_policy()
    why = refusal(case, action, policy)
    if why is not None:
        raise Conflict(why, action=action)
    if action == "resume":
        return _resume(case, at, calendar, policy)
    if action == "extend":  # the dispatcher extends on their own authority
        if hours is None:
            raise InvalidInput("extension_hours: 延期需要填写延长的小时数", field="extension_hours")
        reason = _reason(note, "延期")
        return {"reason": reason, **_extend(case, hours, at, calendar, policy)}
    if action in REQUESTS:
        kind = REQUESTS[action]
        if kind == "extension" and hours is None:
            raise InvalidInput(
                "extension_hours: 申请延期需要填写延长的小时数", field="extension_hours"
            )
        reason = _reason(note, f"申请{REQUEST_KINDS[kind]}")
        case.pending_request = {
            "kind": kind,
            "reason": reason,
            "hours": hours if kind == "extension" else None,
            "by": actor,
            "at": at.isoformat(),
        }
        return {"kind": kind, "reason": reason, "hours": case.pending_request["hours"]}
    kind, approved = DECISIONS[action]
    request = dict(case.pending_request or {})
    reason = _reason(note, "驳回") if not approved else (note or "").strip()
    if approved and kind == "extension" and hours is not None and hours > float(request["hours"]):
        raise InvalidInput(
            f"extension_hours: 批准的延期不能超过申请的 {float(request['hours']):g} 小时",
            field="extension_hours",
        )
    case.pending_request = None
    data: dict[str, Any] = {"kind": kind, "requested_by": request.get("by"), "reason": reason}
    if not approved:
        return data
    if kind == "extension":
        granted = hours if hours is not None else float(request["hours"])
        return {**data, **_extend(case, granted, at, calendar, policy)}
    case.paused_since = at
    case.escalate_at = None
    return {**data, "paused_since": at.isoformat()}


# -- the view ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineView:
    stage: str
    stage_label: str
    due_at: dt.datetime
    light: str
    light_label: str
    # Seconds until due_at (negative once overdue); while paused, the time of the case's basis
    # that was left when the clock stopped (it does not count down).
    remaining_seconds: int
    basis: str  # the stage limit's unit: calendar_hours, calendar_days, working_hours, working_days
    limit: str  # e.g. "2 小时（自然时间）"
    started_at: dt.datetime
    paused_since: dt.datetime | None
    extension_count: int
    extensions_left: int
    pending_request: dict[str, Any] | None


def light_sql(model: Any, now: Any) -> Any:
    """``light``'s colour as a SQL expression over the same stored times (``stage_due_at``,
    ``amber_at``, ``paused_since``), for lists and maps built in SQL; NULL without a clock."""
    return sa_case(
        (model.stage_due_at.is_(None), None),
        (model.paused_since.is_not(None), "paused"),
        (model.stage_due_at <= now, "red"),
        (model.amber_at <= now, "amber"),
        else_="green",
    )


def light(
    case: Case, at: dt.datetime, calendar: WorkingCalendar, policy: Policy | None = None
) -> DeadlineView | None:
    """The case's deadline as pages show it at ``at``; None when no stage clock runs (closed,
    verified, rejected, voided)."""
    policy = policy or default_policy()
    stage = stage_of(case)
    if stage is None or case.stage_due_at is None or case.stage_started_at is None:
        return None
    limit = stage_limit(case, stage, policy)
    due = case.stage_due_at
    if case.paused_since is not None:
        colour = "paused"
        left = calendar.minutes_between(case.paused_since, due, limit.unit) * 60
        remaining = (
            int(left)
            if due > case.paused_since
            else -int((case.paused_since - due).total_seconds())
        )
    else:
        remaining = int((due - at).total_seconds())
        if at >= due:
            colour = "red"
        elif case.amber_at is not None and at >= case.amber_at:
            colour = "amber"
        else:
            colour = "green"
    return DeadlineView(
        stage=stage,
        stage_label=STAGE_LABELS[stage],
        due_at=due.astimezone(calendar.tz),
        light=colour,
        light_label=LIGHT_LABELS[colour],
        remaining_seconds=remaining,
        basis=limit.unit,
        limit=limit.label,
        started_at=case.stage_started_at.astimezone(calendar.tz),
        paused_since=case.paused_since,
        extension_count=case.extension_count,
        extensions_left=max(0, policy.max_extensions - case.extension_count),
        pending_request=case.pending_request,
    )
