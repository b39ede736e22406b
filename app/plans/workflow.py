"""What can be done to a plan in each state, and by whom: one table read by the services (which
refuse anything else with a 409 naming the state) and by the plan's public view (``actions``: the
page shows a control only for what the caller may do now).

    draft ──submit──▶ submitted ──approve──▶ approved            (effective today or earlier)
      ▲ edit/undo/redo     │          └──approve──▶ scheduled ──(effective date reached)──▶ approved
      │                    └──return (退回, with a reason)──▶ rejected ──edit/submit──▶ …
"""

from __future__ import annotations

from app.auth.policy import Action, Principal, Resource
from app.errors import Conflict
from app.plans.models import PLAN_STATUS_LABELS, Plan

EDITABLE = ("draft", "rejected")

# action -> (the states it may be taken in, what the caller needs, the verb messages use)
ACTIONS: dict[str, tuple[tuple[str, ...], Action, str]] = {
    "edit": (EDITABLE, Action.UPDATE, "编辑"),
    "undo": (EDITABLE, Action.UPDATE, "撤销"),
    "redo": (EDITABLE, Action.UPDATE, "重做"),
    "submit": (EDITABLE, Action.UPDATE, "提交"),
    "return": (("submitted",), Action.APPROVE, "退回"),
    "approve": (("submitted",), Action.APPROVE, "批准"),
}


def require_state(plan: Plan, action: str) -> None:
    """409 unless ``plan``'s state allows ``action``, naming the state and what it allows."""
    states, _, verb = ACTIONS[action]
    if plan.status not in states:
        now = PLAN_STATUS_LABELS.get(plan.status, plan.status)
        allowed = "、".join(PLAN_STATUS_LABELS[s] for s in states)
        raise Conflict(
            f"方案「{plan.name}」当前为{now}，不能{verb}（只有{allowed}的方案可以{verb}）",
            status=plan.status,
        )


def actions_for(plan: Plan, principal: Principal) -> list[str]:
    """The actions ``principal`` may take on ``plan`` now (its role and the plan's state)."""
    return [
        name
        for name, (states, need, _) in ACTIONS.items()
        if plan.status in states and principal.may(Resource.PLAN, need)
    ]
