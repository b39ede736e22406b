"""Incident rules that are local practice, hence settings: a section of the one Settings object
(``settings.incidents``; environment ``GRIDGOV_INCIDENTS__<NAME>``, e.g.
``GRIDGOV_INCIDENTS__WEBHOOK_URL``). The section's shape lives here, beside the domain it tunes.
"""

from __future__ import annotations

from pydantic import BaseModel


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
