"""Capped exponential back-off with jitter, for loops that must outlive failures (the background
worker while the database is away; ``gridgov run`` restarting a worker that exited).

Retry libraries (tenacity, backoff) wrap one call; here the caller is a long-running loop that
waits on a stop event, logs an outage once and resets when things recover, so it only needs the
delay sequence.
"""

from __future__ import annotations

import random


class Backoff:
    """``next()`` gives base, 2·base, 4·base … capped at ``cap``, each scaled by a random factor in
    [0.5, 1] so that many clients do not retry in step; ``reset()`` after a success."""

    def __init__(self, base: float = 0.5, cap: float = 30.0) -> None:
        self.base = base
        self.cap = cap
        self.failures = 0

    def next(self) -> float:
        delay = min(self.cap, self.base * 2 ** min(self.failures, 32))
        self.failures += 1
        return delay * random.uniform(0.5, 1.0)

    def reset(self) -> None:
        self.failures = 0
