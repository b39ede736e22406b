"""``gridgov worker``: the escalation sweep and outbox delivery, safe with several workers at once.

All state is in the database (escalate_at, tier, outbox rows), so a restarted worker simply carries
on, and a database outage only pauses it (``run_worker``). Each sweep batch claims due cases with
FOR UPDATE SKIP LOCKED and, in the same statement, raises their tier, sets the supervision flag
(督办), pushes escalate_at one limit-span further (or clears it at county level) and writes history
and outbox rows: a case is escalated by exactly one worker per due moment. Each loop iteration
also writes the worker's heartbeat (``worker_heartbeats``), which ``/healthz`` reads.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, text

from app.audittrail.chain import chain_head
from app.backoff import Backoff
from app.db import CONNECTION_ERRORS, unit_of_work
from app.health.models import beat
from app.incidents.calendar import check_today, default_calendar
from app.incidents.config import IncidentSettings
from app.incidents.notify import Channel, configured_channels
from app.incidents.outbox import deliver_outbox
from app.plans.schedule import apply_due as apply_due_plans

log = logging.getLogger("gridgov.worker")

_SWEEP = text(
    """
    WITH up AS (
        UPDATE incidents i
           SET tier = LEAST(i.tier + 1, 3),
               supervised = true,
               escalation_count = i.escalation_count + 1,
               -- The next tier's unit answers from now on (docs/domain.md#escalation).
               (unit_code, assignee) = (
                   SELECT COALESCE(u.code, i.unit_code), CASE WHEN u.code IS NULL THEN i.assignee END
                     FROM (SELECT 1) one
                     LEFT JOIN units u
                       ON u.active
                      AND u.kind = (ARRAY['grid','community','township','county'])[LEAST(i.tier + 1, 3) + 1]
                      AND u.area_code = left(i.grid_code, (ARRAY[15, 12, 9, 6])[LEAST(i.tier + 1, 3) + 1])),
               version = i.version + 1,
               updated_at = :now,
               -- Next escalation one span of the current stage's limit later (a 挂账 case has
               -- no escalate_at: app/incidents/deadlines.py).
               escalate_at = CASE WHEN i.tier + 1 >= 3 THEN NULL
                                  ELSE i.escalate_at + GREATEST(
                                      COALESCE(i.stage_due_at - i.stage_started_at,
                                               i.deadline - i.reported_at),
                                      interval '1 hour')
                             END
         -- = ANY(ARRAY(...)) rather than a join with the claimed ids: the planner then probes the
         -- primary key once per id; with a join it estimated a hash join over a scan of the whole
         -- table (0.8 s per batch at 1,000,000 cases).
         WHERE i.id = ANY(ARRAY(
                   SELECT id FROM incidents
                    WHERE escalate_at IS NOT NULL AND escalate_at <= :now
                      AND state IN ('reported', 'accepted', 'registered', 'dispatched',
                                    'returned', 'handling')
                    ORDER BY escalate_at
                    LIMIT :batch
                    FOR UPDATE SKIP LOCKED))
        RETURNING i.id, i.case_no, i.state, i.tier, i.grid_code, i.deadline, i.unit_code
    ), ev AS (
        INSERT INTO incident_events (incident_id, action, from_state, to_state, actor, role, note, data, at)
        SELECT id, 'escalate', state, state, 'worker', 'system', '逾期自动升级督办',
               jsonb_build_object('to_tier', (ARRAY['grid','community','township','county'])[tier + 1],
                                  'unit', unit_code),
               :now
          FROM up
    ), ob AS (
        INSERT INTO incident_outbox (incident_id, kind, payload)
        SELECT id, 'incident.escalate',
               jsonb_build_object('case_no', case_no, 'action', 'escalate', 'state', state,
                                  'grid_code', grid_code, 'supervised', true,
                                  'tier', (ARRAY['grid','community','township','county'])[tier + 1],
                                  'deadline', deadline, 'unit_code', unit_code)
          FROM up
    )
    SELECT count(*) FROM up
    """
)


def sweep_once(
    engine: Engine, *, batch: int = 5000, now: dt.datetime | None = None, workers: int = 1
) -> int:
    """Escalate due cases, one committed batch at a time; returns how many were escalated.

    ``workers`` > 1 claims batches on that many connections at once: SKIP LOCKED keeps them
    disjoint, exactly as with several worker processes. A loop stops at its first short batch,
    which took every due case nobody else holds; ``now`` is fixed, so nothing becomes due again.
    """
    moment = now or dt.datetime.now(dt.UTC)
    if workers <= 1:
        return _sweep_loop(engine, batch, moment)
    with ThreadPoolExecutor(workers) as pool:
        return sum(pool.map(lambda _: _sweep_loop(engine, batch, moment), range(workers)))


def _sweep_loop(engine: Engine, batch: int, moment: dt.datetime) -> int:
    total = 0
    while True:
        with unit_of_work(engine) as session:
            n = int(session.execute(_SWEEP, {"now": moment, "batch": batch}).scalar_one())
        total += n
        if n < batch:
            return total


AUDIT_HEAD_EVERY_SECONDS = 3600.0


def work_once(
    engine: Engine,
    settings: IncidentSettings,
    channels: list[Channel],
    *,
    name: str,
    started_at: dt.datetime,
    log_audit_head: bool = False,
) -> tuple[int, int, int]:
    """One loop iteration: heartbeat, escalation sweep, outbox delivery (and, when asked, the
    audit trail's chain head to the log)."""
    with unit_of_work(engine) as session:
        beat(session, name, started_at)
        if log_audit_head:
            head = chain_head(session)
            if head is not None:
                log.info("audit trail head: id %d, hash %s", *head)
    escalated = sweep_once(engine, batch=settings.sweep_batch, workers=settings.sweep_workers)
    delivered, failed = deliver_outbox(engine, channels, max_attempts=settings.outbox_max_attempts)
    apply_due_plans(engine)  # approved boundary plans whose effective date has come
    return escalated, delivered, failed


def run_worker(
    engine: Engine,
    settings: IncidentSettings,
    *,
    once: bool = False,
    stop: threading.Event | None = None,
    name: str = "worker",
    parent_pid: int | None = None,
) -> None:
    """Loop until ``stop`` is set (SIGTERM/SIGINT set it when run as the main thread).

    A database outage does not end the loop: the first failed iteration logs one error, the next
    ones are retried quietly with capped exponential back-off plus jitter (the pool's pre-ping
    reconnects), and the first good iteration logs the recovery. ``parent_pid``: stop when that
    process (``gridgov run``'s supervisor) is gone, so a killed supervisor leaves no orphan.
    """
    # No working calendar for today, no start (docs/domain.md#deadlines-and-the-calendar).
    for warning in check_today(default_calendar()):
        log.warning(warning)
    stop = stop or threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    try:
        _loop(engine, settings, once=once, stop=stop, name=name, parent_pid=parent_pid)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _loop(
    engine: Engine,
    settings: IncidentSettings,
    *,
    once: bool,
    stop: threading.Event,
    name: str,
    parent_pid: int | None,
) -> None:
    channels = configured_channels(settings)
    log.info("worker started; channels: %s", [c.name for c in channels] or "none configured")
    started_at = dt.datetime.now(dt.UTC)
    backoff = Backoff(cap=settings.worker_retry_max_seconds)
    outage_since: float | None = None
    next_head_log = time.monotonic()
    while not stop.is_set():
        if parent_pid is not None and os.getppid() != parent_pid:
            log.warning("supervisor %d is gone; worker stopping", parent_pid)
            return
        try:
            head_due = time.monotonic() >= next_head_log
            escalated, delivered, failed = work_once(
                engine,
                settings,
                channels,
                name=name,
                started_at=started_at,
                log_audit_head=head_due,
            )
            if head_due:
                next_head_log = time.monotonic() + AUDIT_HEAD_EVERY_SECONDS
        except CONNECTION_ERRORS as exc:  # other errors are bugs: exit, `gridgov run` restarts
            if once:  # one pass was asked for (e.g. from cron): fail now, exit non-zero
                raise
            if outage_since is None:
                outage_since = time.monotonic()
                log.error(
                    "database unreachable, retrying with back-off (up to %.0f s): %s",
                    backoff.cap,
                    str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                )
            stop.wait(backoff.next())
            continue
        if outage_since is not None:
            log.warning(
                "database reachable again after %.1f s (%d retries)",
                time.monotonic() - outage_since,
                backoff.failures,
            )
            outage_since = None
        backoff.reset()
        if escalated or delivered or failed:
            log.info("escalated %d, delivered %d, failed %d", escalated, delivered, failed)
        if once:
            return
        stop.wait(settings.worker_interval_seconds)
