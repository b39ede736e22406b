"""Approved plans whose effective date has come: the swap of the live grids, done once.

An approval with a future effective date leaves the plan ``scheduled`` (已批准，待生效) and the live
grids untouched. ``apply_due`` swaps each scheduled plan whose moment (``Plan.effective_at``: the
effective date's first instant, Asia/Shanghai) is at or before ``at``, one transaction per plan,
claiming it with FOR UPDATE SKIP LOCKED: two workers never swap the same plan, and a plan already
swapped is ``approved`` and no longer looked at, so running it again changes nothing. The worker
runs it every loop (app/incidents/worker.py); ``gridgov plans apply-due`` runs it once. The grid
writes land in the registry change feed like any other, so locate, the history and every web
process see the new grids from then on.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.auth.policy import system_principal
from app.db import CONNECTION_ERRORS, unit_of_work
from app.errors import GridgovError
from app.plans.approval import swap_in
from app.plans.load import now
from app.plans.models import Plan

log = logging.getLogger("gridgov.plans")


def _claim(session: Session, at: dt.datetime, skip: set[int]) -> Plan | None:
    stmt = (
        select(Plan)
        .where(Plan.status == "scheduled", Plan.effective_at <= at)
        .order_by(Plan.effective_at, Plan.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if skip:
        stmt = stmt.where(Plan.id.not_in(skip))
    return session.scalar(stmt)


def apply_due_in(session: Session, *, at: dt.datetime) -> list[int]:
    """Swap, in ``session``'s transaction, every scheduled plan due at ``at``; their ids."""
    done: list[int] = []
    while (plan := _claim(session, at, set(done))) is not None:
        swap_in(session, plan, system_principal("plans-scheduler"), at=at)
        done.append(plan.id)
    return done


def apply_due(engine: Engine, *, at: dt.datetime | None = None) -> list[int]:
    """Swap every scheduled plan due at ``at`` (default now), each in its own transaction; the ids
    swapped. A plan the swap refuses (the live grids changed under it) is logged and left
    scheduled for a person to look at; the others go ahead."""
    moment = at or now()
    done: list[int] = []
    failed: set[int] = set()
    while True:
        plan_id: int | None = None
        try:
            with unit_of_work(engine) as session:
                plan = _claim(session, moment, failed | set(done))
                if plan is None:
                    return done
                plan_id = plan.id
                swap_in(session, plan, system_principal("plans-scheduler"), at=moment)
        except CONNECTION_ERRORS:
            raise  # the worker's loop backs off and retries
        except (GridgovError, DBAPIError) as exc:  # e.g. the overlap trigger: a person must look
            if plan_id is None:
                raise
            log.error("plan %s could not take effect: %s", plan_id, getattr(exc, "message", exc))
            failed.add(plan_id)
            continue
        log.info("plan %s took effect (%s)", plan_id, moment.isoformat())
        done.append(plan_id)
