"""Incident rules that are local practice, hence settings: a section of the one Settings object
(``settings.incidents``; environment ``GRIDGOV_INCIDENTS__<NAME>``, e.g.
``GRIDGOV_INCIDENTS__WEBHOOK_URL``). The section's shape lives here, beside the domain it tunes.
"""

from __future__ import annotations

from pydantic import BaseModel, field_validator, model_validator

# The rates of the league tables that may carry a weight or a light (docs/domain.md#kpis); the
# lower-is-better ones enter the composite score as 1 − rate.
SCORED_RATES = (
    "registration_rate", "on_time_acceptance_rate", "closure_rate", "on_time_handling_rate",
    "on_time_closure_rate", "on_time_verification_rate", "dispatch_accuracy", "satisfaction_rate",
    "overdue_rate", "rework_rate", "return_rate", "extension_rate",
)  # fmt: skip
LOWER_IS_BETTER = frozenset({"overdue_rate", "rework_rate", "return_rate", "extension_rate"})


class KpiSettings(BaseModel):
    """The composite score's weights and the league tables' red/amber/green lights
    (``GRIDGOV_INCIDENTS__KPI__WEIGHTS='{"closure_rate": 1}'`` …; docs/domain.md#kpis)."""

    weights: dict[str, float] = {
        "on_time_closure_rate": 0.30,
        "closure_rate": 0.15,
        "satisfaction_rate": 0.20,
        "on_time_acceptance_rate": 0.05,
        "on_time_verification_rate": 0.10,
        "dispatch_accuracy": 0.10,
        "return_rate": 0.05,
        "rework_rate": 0.05,
    }
    # Lights of the composite score (0–100): green at or above the first, amber at or above the
    # second, red below.
    score_lights: tuple[float, float] = (90.0, 80.0)
    # Lights of single rates (0–1): (green, amber) at or above; for a lower-is-better rate, at or
    # below. A rate not listed has no light.
    rate_lights: dict[str, tuple[float, float]] = {
        "closure_rate": (0.95, 0.85),
        "on_time_closure_rate": (0.90, 0.80),
        "on_time_handling_rate": (0.90, 0.80),
        "on_time_acceptance_rate": (0.95, 0.85),
        "on_time_verification_rate": (0.95, 0.85),
        "dispatch_accuracy": (0.95, 0.90),
        "satisfaction_rate": (0.90, 0.80),
        "overdue_rate": (0.05, 0.15),
        "rework_rate": (0.05, 0.10),
        "return_rate": (0.05, 0.10),
    }

    @field_validator("weights")
    @classmethod
    def _weights(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(SCORED_RATES))
        if unknown:
            raise ValueError(f"unknown KPI in weights: {unknown}; known: {list(SCORED_RATES)}")
        if any(w < 0 for w in value.values()) or not any(w > 0 for w in value.values()):
            raise ValueError("weights must be >= 0 and at least one > 0")
        return value

    @model_validator(mode="after")
    def _lights(self) -> KpiSettings:
        unknown = sorted(set(self.rate_lights) - set(SCORED_RATES))
        if unknown:
            raise ValueError(f"unknown KPI in rate_lights: {unknown}; known: {list(SCORED_RATES)}")
        for name, (green, amber) in {"score": self.score_lights, **self.rate_lights}.items():
            if name in LOWER_IS_BETTER and green > amber:
                raise ValueError(f"rate_lights.{name}: green {green} must be <= amber {amber}")
            if name not in LOWER_IS_BETTER and green < amber:
                raise ValueError(f"lights of {name}: green {green} must be >= amber {amber}")
        return self


class IncidentSettings(BaseModel):
    # Duplicate suggestion: an open case of the same category this close, reported this recently.
    duplicate_distance_m: float = 100.0
    duplicate_window_hours: float = 72.0
    # Escalate when this share of the working-time limit has passed (1.0 = at the deadline).
    escalation_share: float = 1.0
    sweep_batch: int = 5000
    # Connections claiming sweep batches at once. bench_incidents, 100,000 overdue cases over
    # 1,000,000, two shared cores: 1 -> 4.8-5.0 s, 2 -> 3.8 s. More only pays with idle cores.
    sweep_workers: int = 2
    worker_interval_seconds: float = 10.0
    # While the database is unreachable the worker retries with capped exponential back-off + jitter.
    worker_retry_max_seconds: float = 30.0
    # /healthz calls the worker stale (status "degraded") when its last heartbeat is older than this.
    worker_stale_seconds: float = 120.0
    photo_max_bytes: int = 10 * 1024 * 1024
    photo_max_count: int = 9
    # Channels: a channel is registered only when configured.
    webhook_url: str | None = None
    wecom_webhook_url: str | None = None
    notify_timeout_seconds: float = 5.0
    outbox_max_attempts: int = 8
    # A resident's 不满意 reopens a case at most this many times (0: never); per county code
    # (6 digits) in ``reopen_on_unsatisfied_by_county``, the default elsewhere
    # (docs/domain.md#residents-ratings).
    reopen_on_unsatisfied: int = 1
    reopen_on_unsatisfied_by_county: dict[str, int] = {}
    kpi: KpiSettings = KpiSettings()

    def reopen_limit(self, grid_code: str) -> int:
        return self.reopen_on_unsatisfied_by_county.get(grid_code[:6], self.reopen_on_unsatisfied)
