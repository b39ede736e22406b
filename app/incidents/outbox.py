"""Deliver outbox messages to the configured channels (at-least-once, with back-off).

Rows are claimed with FOR UPDATE SKIP LOCKED, so several workers share the queue without sending a
message twice in the normal case; a crash between sending and committing can resend (at-least-once:
receivers should dedupe on the message id, which every payload carries).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, text

from app.db import unit_of_work
from app.incidents.notify import Channel

_CLAIM = text(
    """
    SELECT id, kind, payload, attempts FROM incident_outbox
     WHERE delivered_at IS NULL AND failed = false AND next_attempt_at <= now()
     ORDER BY id LIMIT :n FOR UPDATE SKIP LOCKED
    """
)


def deliver_outbox(
    engine: Engine, channels: list[Channel], *, batch: int = 100, max_attempts: int = 8
) -> tuple[int, int]:
    """One pass; returns (delivered, failed attempts). Without channels, nothing is claimed."""
    if not channels:
        return 0, 0
    delivered = errors = 0
    with unit_of_work(engine) as session:
        for row in session.execute(_CLAIM, {"n": batch}).all():
            try:
                for channel in channels:
                    channel.send(row.kind, {"message_id": row.id, **row.payload})
            except Exception as exc:  # any channel failure: retry later with back-off
                errors += 1
                attempts = row.attempts + 1
                session.execute(
                    text(
                        "UPDATE incident_outbox SET attempts = :a, last_error = :e, "
                        "next_attempt_at = now() + make_interval(secs => :delay), failed = :failed "
                        "WHERE id = :id"
                    ),
                    {
                        "a": attempts,
                        "e": f"{type(exc).__name__}: {exc}"[:1000],
                        "delay": float(min(2**attempts, 3600)),
                        "failed": attempts >= max_attempts,
                        "id": row.id,
                    },
                )
                continue
            delivered += 1
            session.execute(
                text(
                    "UPDATE incident_outbox SET delivered_at = :t, attempts = attempts + 1 WHERE id = :id"
                ),
                {"t": dt.datetime.now(dt.UTC), "id": row.id},
            )
    return delivered, errors
