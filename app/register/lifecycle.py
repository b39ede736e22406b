"""A proposal's lifecycle, as one table (docs/register.md#proposals).

A change to the register is filed ``pending`` (the community reviews it), or ``submitted`` when it
is a resident's change that the building leader or unit steward must confirm first. The community
approves it (it becomes current in the same transaction) or returns it with a reason; the proposer
may withdraw it while it waits. Approved, returned and withdrawn are final: a returned change is
filed again as a new proposal.
"""

from __future__ import annotations

from app.auth.policy import Action
from app.errors import Conflict

STATES: dict[str, str] = {
    "submitted": "待楼栋长确认",
    "pending": "待社区审核",
    "approved": "已通过",
    "returned": "已退回",
    "withdrawn": "已撤回",
}
OPEN_STATES = ("submitted", "pending")

# (from state, verb) -> (to state, the policy action the caller needs; None: the proposer only)
TRANSITIONS: dict[tuple[str, str], tuple[str, Action | None]] = {
    ("submitted", "confirm"): ("pending", Action.UPDATE),
    ("pending", "approve"): ("approved", Action.APPROVE),
    ("pending", "return"): ("returned", Action.APPROVE),
    ("submitted", "withdraw"): ("withdrawn", None),
    ("pending", "withdraw"): ("withdrawn", None),
}

VERB_LABELS = {"confirm": "确认", "approve": "通过", "return": "退回", "withdraw": "撤回"}


def step(state: str, verb: str) -> tuple[str, Action | None]:
    """The state after ``verb``, or 409 saying why it cannot be done now."""
    found = TRANSITIONS.get((state, verb))
    if found is None:
        raise Conflict(
            f"该变更当前为「{STATES.get(state, state)}」，不能{VERB_LABELS.get(verb, verb)}",
            state=state,
        )
    return found
