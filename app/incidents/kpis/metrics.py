"""The KPIs as data: each count the query makes and each rate built from two of them. The formulas,
their populations and their source are written once, in docs/domain.md#kpis; this table is the
code's one copy of them."""

from __future__ import annotations

from dataclasses import dataclass

from app.incidents.config import LOWER_IS_BETTER, SCORED_RATES

# Counts, in the order of the CSV's columns (docs/domain.md#kpis: populations).
CASE_COUNTS = (
    # reported in the period
    "reports", "on_spot", "to_register", "registered", "acceptance_ended", "accepted_on_time",
    # registered cases due in the period (应结案)
    "due", "closed", "handled_on_time", "closed_on_time", "overdue", "reworked", "extended",
    "reopened", "verified", "verified_on_time", "rated", "satisfied", "callbacks",
    "callback_satisfied",
)  # fmt: skip
# dispatch moves made in the period
MOVE_COUNTS = ("sent", "reassigned", "returned")
COUNTS = (*CASE_COUNTS, *MOVE_COUNTS)


@dataclass(frozen=True)
class Rate:
    key: str
    label: str
    numerator: str
    denominator: str
    complement: bool = False  # 1 − numerator / denominator

    @property
    def lower_is_better(self) -> bool:
        return self.key in LOWER_IS_BETTER

    def of(self, row: dict[str, int]) -> float | None:
        """The rate of a row of counts; None (not 0) when there is nothing to count."""
        den = row[self.denominator]
        if not den:
            return None
        value = row[self.numerator] / den
        return round(1 - value if self.complement else value, 4)


RATES = (
    Rate("registration_rate", "立案率", "registered", "to_register"),
    Rate("on_time_acceptance_rate", "按时受理率", "accepted_on_time", "acceptance_ended"),
    Rate("closure_rate", "结案率", "closed", "due"),
    Rate("on_time_handling_rate", "按期处置率", "handled_on_time", "due"),
    Rate("on_time_closure_rate", "按期结案率", "closed_on_time", "due"),
    Rate("overdue_rate", "超期率", "overdue", "due"),
    Rate("rework_rate", "返工率", "reworked", "due"),
    Rate("extension_rate", "延期率", "extended", "due"),
    Rate("on_time_verification_rate", "按时核查率", "verified_on_time", "verified"),
    Rate("satisfaction_rate", "满意率", "satisfied", "rated"),
    Rate("callback_satisfaction_rate", "回访满意率", "callback_satisfied", "callbacks"),
    Rate("dispatch_accuracy", "派遣准确率", "reassigned", "sent", complement=True),
    Rate("return_rate", "退回率", "returned", "sent"),
)
RATE_KEYS = tuple(r.key for r in RATES)
COUNT_LABELS = {
    "reports": "上报数", "on_spot": "自行处置数", "to_register": "应立案数", "registered": "立案数",
    "acceptance_ended": "已受理数", "accepted_on_time": "按时受理数", "due": "应结案数",
    "closed": "结案数", "handled_on_time": "按期处置数", "closed_on_time": "按期结案数",
    "overdue": "超期数", "reworked": "返工数", "extended": "延期数", "reopened": "重办数",
    "verified": "核查数", "verified_on_time": "按时核查数", "rated": "居民评价数",
    "satisfied": "满意数", "callbacks": "回访数", "callback_satisfied": "回访满意数",
    "sent": "派遣数", "reassigned": "改派数", "returned": "退回数",
}  # fmt: skip
HOURS = ("mean_hours_to_close", "p90_hours_to_close")
HOUR_LABELS = {
    "mean_hours_to_close": "平均结案时长(小时)",
    "p90_hours_to_close": "90分位结案时长(小时)",
}
assert set(SCORED_RATES) <= set(RATE_KEYS), "every scored rate is a rate of the table"
assert set(COUNT_LABELS) == set(COUNTS)
