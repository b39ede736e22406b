"""The lifecycle (docs/domain.md#incident-lifecycle) as one table: action → (from states, to
state, roles).

reported → accepted → registered | rejected | voided → dispatched → handling [extend, return]
→ handled → verified (rework sends it back to handling) → closed → evaluated; a grid worker may
resolve a reported case on the spot (自行处置). ``escalate`` keeps the state and raises the tier.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.auth.policy import Role

STATE_LABELS = {
    "reported": "已上报",
    "accepted": "已受理",
    "registered": "已立案",
    "rejected": "不予立案",
    "voided": "已作废",
    "dispatched": "已派遣",
    "handling": "处置中",
    "handled": "已处置",
    "verified": "已核查",
    "closed": "已结案",
    "evaluated": "已评价",
}
STATES = tuple(STATE_LABELS)
# Open = the handling clock is running; these cases can go overdue and escalate.
OPEN_STATES = ("reported", "accepted", "registered", "dispatched", "handling")
# Not yet closed (在办): what a dispatcher's console lists; handled/verified cases still await closure.
IN_PROGRESS_STATES = (*OPEN_STATES, "handled", "verified")
CLOSED_STATES = ("closed", "evaluated")
FINAL_STATES = ("rejected", "voided", "evaluated")

DISPATCH = (Role.DISPATCHER,)
FIELD = (Role.GRID_WORKER,)


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: tuple[str, ...]
    target: str | None  # None: the state does not change
    roles: tuple[Role, ...]

    def target_from(self, state: str) -> str:
        return self.target or state


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("accept", "受理", ("reported",), "accepted", DISPATCH),
        Transition("register", "立案", ("accepted",), "registered", DISPATCH),
        Transition("reject", "不予立案", ("accepted",), "rejected", DISPATCH),
        Transition("void", "作废", ("reported", "accepted"), "voided", DISPATCH),
        Transition("dispatch", "派遣", ("registered",), "dispatched", DISPATCH),
        Transition("start", "开始处置", ("dispatched",), "handling", FIELD),
        Transition("extend", "延期", ("handling",), "handling", DISPATCH),
        Transition("return", "回退", ("dispatched", "handling"), "registered", (*FIELD, *DISPATCH)),
        Transition("handle", "处置完毕", ("handling",), "handled", FIELD),
        Transition("verify", "核查通过", ("handled",), "verified", DISPATCH),
        Transition("rework", "返工", ("handled",), "handling", DISPATCH),
        Transition("close", "结案", ("verified",), "closed", DISPATCH),
        Transition("evaluate", "回访评价", ("closed",), "evaluated", DISPATCH),
        Transition("resolve_on_spot", "自行处置", ("reported",), "closed", FIELD),
        Transition("escalate", "升级督办", OPEN_STATES, None, DISPATCH),
        Transition("reassign", "改派", ("dispatched", "handling"), "dispatched", DISPATCH),
    )
}
ACTIONS = tuple(TRANSITIONS)
# Events in a case's history that are not moves of the table: intake (app/incidents/intake.py) and
# the re-routing when a boundary plan takes effect (app/plans/approval.py).
EVENT_LABELS = {"report": "上报", "reroute": "改划网格"}


def allowed_actions(state: str) -> list[str]:
    return [a for a, t in TRANSITIONS.items() if state in t.sources]


def describe_allowed(state: str) -> str:
    names = [f"{TRANSITIONS[a].label}（{a}）" for a in allowed_actions(state)]
    return "、".join(names) if names else "无（流程已结束）"
