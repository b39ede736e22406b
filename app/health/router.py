"""``GET /healthz`` for load balancers and monitoring: anonymous, counts and ages only.

- ``database``: reachable within a short timeout; if not, the answer is 503 with ``Retry-After``
  (take this process out of rotation) and the other parts are unknown (null).
- ``worker``: age of the newest background-worker heartbeat (``gridgov worker`` writes one each
  loop); older than ``incidents.worker_stale_seconds``, or none at all, makes the status
  ``degraded`` (still 200: the web process itself can serve; overdue cases are not escalated and
  notifications do not leave until a worker runs again).
- ``outbox``: notifications not yet delivered, and the age of the oldest.

The figures come from the database function ``ops_health`` (migration 0011), which runs with its
owner's rights: row-level security hides every case from an anonymous caller, yet the counts stay
true, and nothing but counts and ages leaves it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.errors import RETRY_AFTER_SECONDS

router = APIRouter(tags=["meta"])

DATABASE_TIMEOUT_SECONDS = 2.0


class DatabaseHealth(BaseModel):
    reachable: bool
    latency_ms: float | None = Field(description="round trip of the health query")


class WorkerHealth(BaseModel):
    status: Literal["ok", "stale", "missing", "unknown"]
    heartbeat_age_seconds: float | None = Field(description="age of the newest heartbeat")
    live_workers: int | None = Field(description="workers whose heartbeat is fresh")
    stale_after_seconds: float


class OutboxHealth(BaseModel):
    undelivered: int | None = Field(description="notifications waiting to be delivered")
    oldest_undelivered_age_seconds: float | None


class HealthReport(BaseModel):
    status: Literal["ok", "degraded", "down"] = Field(
        description="ok; degraded (the background worker is stale or missing); down (503)"
    )
    database: DatabaseHealth
    worker: WorkerHealth
    outbox: OutboxHealth


def _query(sessionmaker: Any, stale_after: float) -> Any:
    session = sessionmaker()
    try:
        session.execute(
            text("SELECT set_config('statement_timeout', :t, true)"),
            {"t": f"{int(DATABASE_TIMEOUT_SECONDS * 1000)}ms"},
        )
        row = session.execute(
            text("SELECT * FROM ops_health(:stale)"), {"stale": stale_after}
        ).one()
        session.rollback()
        return row
    finally:
        session.close()


@router.get(
    "/healthz",
    response_model=HealthReport,
    responses={503: {"model": HealthReport, "description": "the database cannot be reached"}},
)
async def healthz(request: Request, response: Response) -> HealthReport:
    """Database, background worker and notification backlog, for load balancers (no login)."""
    stale_after = float(request.app.state.settings.incidents.worker_stale_seconds)
    started = time.monotonic()
    try:
        row = await asyncio.wait_for(
            run_in_threadpool(_query, request.app.state.sessionmaker, stale_after),
            timeout=DATABASE_TIMEOUT_SECONDS + 1,
        )
    except (SQLAlchemyError, TimeoutError, OSError):
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return HealthReport(
            status="down",
            database=DatabaseHealth(reachable=False, latency_ms=None),
            worker=WorkerHealth(
                status="unknown",
                heartbeat_age_seconds=None,
                live_workers=None,
                stale_after_seconds=stale_after,
            ),
            outbox=OutboxHealth(undelivered=None, oldest_undelivered_age_seconds=None),
        )
    latency = round((time.monotonic() - started) * 1000, 1)
    if row.last_beat_age_s is None:
        worker_status: Literal["ok", "stale", "missing"] = "missing"
    elif row.live_workers:
        worker_status = "ok"
    else:
        worker_status = "stale"
    return HealthReport(
        status="ok" if worker_status == "ok" else "degraded",
        database=DatabaseHealth(reachable=True, latency_ms=latency),
        worker=WorkerHealth(
            status=worker_status,
            heartbeat_age_seconds=_round(row.last_beat_age_s),
            live_workers=int(row.live_workers),
            stale_after_seconds=stale_after,
        ),
        outbox=OutboxHealth(
            undelivered=int(row.undelivered),
            oldest_undelivered_age_seconds=_round(row.oldest_undelivered_age_s),
        ),
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(max(value, 0.0), 1)
