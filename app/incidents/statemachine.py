"""The lifecycle (docs/domain.md#incident-lifecycle) as one table: action → (from states, to
state, roles, party, what the move needs), and the one function that says which moves a caller may
make on a case now (``moves_for``): the case's detail and list items carry its answer, the pages
draw a button for each and nothing else, and a move outside it is refused with a 409 listing it.

reported → accepted → registered | rejected | voided → dispatched (to a responsible unit) →
handling → handled → [on-site check: checking] → verified → closed → evaluated. A unit may return
(退回) a case it cannot handle (returned, for the dispatcher to reassign 改派); the dispatcher may
reassign while it is dispatched or in handling; a closed case may be reopened (a resident's 不满意);
a grid worker may resolve a reported case on the spot (自行处置). ``escalate`` keeps the state,
raises the tier and hands the case to the next tier's unit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from app.auth.policy import Principal, Role
from app.incidents import deadlines

STATE_LABELS = {
    "reported": "已上报",
    "accepted": "已受理",
    "registered": "已立案",
    "rejected": "不予立案",
    "voided": "已作废",
    "dispatched": "已派遣",
    "returned": "已退回",
    "handling": "处置中",
    "handled": "已处置",
    "checking": "核查中",
    "verified": "已核查",
    "closed": "已结案",
    "evaluated": "已评价",
}
STATES = tuple(STATE_LABELS)
# Open = the handling clock is running; these cases can go overdue and escalate.
OPEN_STATES = ("reported", "accepted", "registered", "dispatched", "returned", "handling")
# Not yet closed (在办): what a dispatcher's console lists; handled/verified cases still await closure.
IN_PROGRESS_STATES = (*OPEN_STATES, "handled", "checking", "verified")
CLOSED_STATES = ("closed", "evaluated")
# No move leads out of these (a closed or evaluated case may still be reopened).
FINAL_STATES = ("rejected", "voided")

DISPATCH = (Role.DISPATCHER,)
# Who handles a case: the staff of the unit it is dispatched to (a grid's unit: its grid workers).
HANDLERS = (Role.GRID_WORKER, Role.UNIT_HANDLER)
FIELD = (Role.GRID_WORKER,)
# Where the handling clock runs: extensions and 挂账 are asked for and decided there.
HANDLING = ("dispatched", "handling")

# Whose move it is, on top of the role and the caller's jurisdiction (checked before):
# "area": anyone of the roles whose jurisdiction holds the case (dispatchers);
# "unit": a member of the unit the case is with now, or the person it is assigned to;
# "grid": a grid worker of the case's grid (on-site check, on-the-spot resolution).
Party = Literal["area", "unit", "grid"]


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: tuple[str, ...]
    target: str | None  # None: the state does not change
    roles: tuple[Role, ...]
    party: Party = "area"
    # Fields the move takes: "x" required, "x?" optional (unit, assignee, note, ...). A required
    # "note" is the reason (退回, 核查不通过, 重新办理).
    needs: tuple[str, ...] = ("note?",)

    def target_from(self, state: str) -> str:
        return self.target or state

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(n for n in self.needs if not n.endswith("?"))


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("accept", "受理", ("reported",), "accepted", DISPATCH),
        Transition("register", "立案", ("accepted",), "registered", DISPATCH),
        Transition("reject", "不予立案", ("accepted",), "rejected", DISPATCH, needs=("note",)),
        Transition("void", "作废", ("reported", "accepted"), "voided", DISPATCH, needs=("note",)),
        Transition(
            "dispatch", "派遣", ("registered",), "dispatched", DISPATCH,
            needs=("unit", "assignee?", "note?"),
        ),
        Transition("start", "开始处置", ("dispatched",), "handling", HANDLERS, "unit"),
        # 延期 and 挂账 (docs/domain.md#deadlines-and-the-calendar): the handling unit asks with a
        # reason, the dispatcher (or the tier above) decides; the dispatcher may also extend on
        # their own authority. Which of these a case allows now is deadlines.refusal's.
        Transition(
            "extend", "延期", HANDLING, None, DISPATCH, needs=("extension_hours", "note"),
        ),
        Transition(
            "request_extension", "申请延期", HANDLING, None, HANDLERS, "unit",
            needs=("extension_hours", "note"),
        ),
        Transition(
            "approve_extension", "批准延期", HANDLING, None, DISPATCH,
            needs=("extension_hours?", "note?"),
        ),
        Transition("refuse_extension", "驳回延期", HANDLING, None, DISPATCH, needs=("note",)),
        Transition(
            "request_suspension", "申请挂账", HANDLING, None, HANDLERS, "unit", needs=("note",)
        ),
        Transition("approve_suspension", "批准挂账", HANDLING, None, DISPATCH),
        Transition("refuse_suspension", "驳回挂账", HANDLING, None, DISPATCH, needs=("note",)),
        Transition("resume", "恢复办理", HANDLING, None, DISPATCH),
        Transition(
            "return", "退回", ("dispatched", "handling"), "returned", HANDLERS, "unit",
            needs=("note",),
        ),
        Transition(
            "reassign", "改派", ("dispatched", "returned", "handling"), "dispatched", DISPATCH,
            needs=("unit", "assignee?", "note?"),
        ),
        Transition("handle", "处置完毕", ("handling",), "handled", HANDLERS, "unit"),
        Transition("verify", "核查通过", ("handled",), "verified", DISPATCH),
        Transition("rework", "返工", ("handled",), "handling", DISPATCH, needs=("note",)),
        Transition("request_check", "现场核查", ("handled",), "checking", DISPATCH),
        Transition("check_pass", "核查属实", ("checking",), "verified", FIELD, "grid"),
        Transition(
            "check_fail", "核查未解决", ("checking",), "handling", FIELD, "grid", needs=("note",)
        ),
        Transition("close", "结案", ("verified",), "closed", DISPATCH),
        Transition(
            "evaluate", "回访评价", ("closed",), "evaluated", DISPATCH,
            needs=("satisfaction", "note?"),
        ),
        Transition(
            "reopen", "重新办理", ("closed", "evaluated"), "dispatched", DISPATCH, needs=("note",)
        ),
        Transition("resolve_on_spot", "自行处置", ("reported",), "closed", FIELD, "grid"),
        Transition("escalate", "升级督办", OPEN_STATES, None, DISPATCH),
    )
}  # fmt: skip
ACTIONS = tuple(TRANSITIONS)
# Events in a case's history that are not moves of the table: intake (app/incidents/intake.py) and
# the re-routing when a boundary plan takes effect (app/plans/approval.py), a resident's rating
# (app/incidents/rating.py).
EVENT_LABELS = {
    "report": "上报",
    "reroute": "改划网格",
    "rate": "居民评价",
    # The phone (app/incidents/intake.py, field.py): a report linked to this case as the same
    # case, and photos of the handling or of the on-site check.
    "same_report": "同一事件上报",
    "add_photos": "上传照片",
}
TOP_TIER = 3  # county: escalation stops there


class CaseView(Protocol):
    """What ``moves_for`` reads of a case (an ``Incident`` row satisfies it)."""

    state: str
    grid_code: str
    unit_code: str | None
    assignee: str | None
    tier: int


@dataclass(frozen=True)
class Standing:
    """The caller's ties to cases: the units they serve today (explicit memberships and the grid
    units of the grids they serve) and the grids they serve (app/units/service.py: standing)."""

    units: frozenset[str] = frozenset()
    grids: frozenset[str] = frozenset()

    def holds(self, principal: Principal, unit_code: str | None, assignee: str | None) -> bool:
        """A case with ``unit_code`` and ``assignee`` is with one of these units now, or assigned
        to ``principal``: what a unit's staff see and act on (in SQL: app/units/service.py
        ``unit_cases_clause``)."""
        mine = unit_code is not None and unit_code in self.units
        return mine or (assignee is not None and assignee == principal.username)


def _party_ok(t: Transition, principal: Principal, case: CaseView, standing: Standing) -> bool:
    if t.party == "unit":
        return standing.holds(principal, case.unit_code, case.assignee)
    if t.party == "grid":
        return case.grid_code in standing.grids
    return True


def moves_for(principal: Principal, case: CaseView, standing: Standing) -> list[Transition]:
    """The moves ``principal`` may make on ``case`` now: its state, the caller's role, their unit
    (or grid) and, for escalation, the tier. The caller's jurisdiction is checked before (a case
    outside it is not found at all)."""
    out = []
    for t in TRANSITIONS.values():
        if case.state not in t.sources or principal.role not in t.roles:
            continue
        if not _party_ok(t, principal, case, standing):
            continue
        if t.action == "escalate" and case.tier >= TOP_TIER:
            continue
        if deadlines.refusal(case, t.action) is not None:  # 挂账, pending requests, limits
            continue
        out.append(t)
    return out


def allowed_actions(state: str) -> list[str]:
    """Every move the table has from ``state``, whoever makes it."""
    return [a for a, t in TRANSITIONS.items() if state in t.sources]


def describe(moves: Iterable[Transition]) -> str:
    names = [f"{t.label}（{t.action}）" for t in moves]
    return "、".join(names) if names else "无"
