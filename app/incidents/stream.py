"""Live case events for the console: Server-Sent Events fed by PostgreSQL LISTEN/NOTIFY
(docs/architecture.md#live-case-stream).

- **Source.** Every move of a case writes an ``incident_events`` row; a statement trigger
  (migration 0020) announces each statement's range of new event ids on the channel
  ``incident_events``, at commit.
- **One listener per process.** ``CaseStream`` holds one LISTEN connection for the whole process
  (started with its first subscriber), reads the announced events with their case's grid code (one
  query per notification, as the system role) and hands each to the subscribers whose area covers
  the case (``AreaScope.covers`` with the jurisdiction filter always on: no database stands behind
  this filter, so the test switch that turns application filters off does not apply here). When
  its connection drops it reconnects with back-off and catches up from the last event it saw.
- **One subscriber per console.** ``GET /api/v1/incident-events`` (``text/event-stream``): events
  of the caller's area (or the ``area`` they name inside it) as ``event: case`` with the event id as
  the SSE id. A reconnecting browser sends ``Last-Event-ID``; the events it missed are read again
  through the caller's own access (their scope, row-level security), up to ``REPLAY_LIMIT``; beyond
  that, or when a slow client's queue overflows, an ``event: reset`` tells the page to reload its
  list. A stream ends after ``timeout`` seconds (default five minutes) and the browser reconnects
  at once: the caller's session and jurisdiction are checked again at each connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Annotated, Any

import anyio
import psycopg
from fastapi import APIRouter, Depends, Header, Query, Request
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from sse_starlette import EventSourceResponse, ServerSentEvent

from app.auth.policy import Resource
from app.auth.scope import AreaScope, access
from app.backoff import Backoff
from app.db import SYSTEM, access_for, request_unit, unit_of_work
from app.errors import InvalidInput
from app.incidents.models import Incident, IncidentEvent
from app.incidents.service import case_filters, standing_of
from app.incidents.statemachine import Standing

logger = logging.getLogger(__name__)

CHANNEL = "incident_events"  # migration 0020
REPLAY_LIMIT = 500  # events replayed to one reconnecting console before it is told to reload
CATCH_UP_LIMIT = 20_000  # events the listener reads after its own reconnection
QUEUE_SIZE = 2_000  # events waiting for one slow console before it is told to reload
RETRY_MS = 2_000  # how soon a browser reconnects after a stream ends (SSE ``retry``)
PING_SECONDS = 15  # a comment line keeps proxies from closing an idle stream


@dataclass(frozen=True)
class CaseEvent:
    """One history row as the console hears of it: which case, what happened, nothing personal
    (no note, no reporter): the console reads the case itself if it wants more."""

    id: int
    incident_id: int
    case_no: str
    grid_code: str
    unit_code: str | None
    category_code: str
    urgent: bool
    action: str
    from_state: str | None
    to_state: str
    actor: str
    at: str
    # Who may hear of it besides the case's area (a unit's staff: app/incidents/statemachine.py
    # Standing.holds); not sent.
    assignee: str | None = field(default=None, repr=False)

    def message(self) -> ServerSentEvent:
        body = asdict(self)
        del body["assignee"]
        return ServerSentEvent(
            data=json.dumps(body, ensure_ascii=False), event="case", id=str(self.id)
        )


def read_events(
    session: Session,
    *,
    after: int,
    upto: int | None = None,
    scope: AreaScope | None = None,
    limit: int,
) -> list[CaseEvent]:
    """Events with ``after < id <= upto``, oldest first, at most ``limit``; of the cases ``scope``
    lists when given (``service.case_filters``: its area, a unit's own cases for a unit's staff;
    the caller's own session then adds row-level security)."""
    stmt = (
        select(
            IncidentEvent.id,
            IncidentEvent.incident_id,
            Incident.case_no,
            Incident.grid_code,
            Incident.unit_code,
            Incident.assignee,
            Incident.category_code,
            Incident.urgent,
            IncidentEvent.action,
            IncidentEvent.from_state,
            IncidentEvent.to_state,
            IncidentEvent.actor,
            IncidentEvent.at,
        )
        .join(Incident, Incident.id == IncidentEvent.incident_id)
        .where(IncidentEvent.id > after)
        .order_by(IncidentEvent.id)
        .limit(limit)
    )
    if upto is not None:
        stmt = stmt.where(IncidentEvent.id <= upto)
    if scope is not None:
        stmt = stmt.where(*case_filters(scope))
    return [
        CaseEvent(**{**r._mapping, "at": r.at.astimezone(dt.UTC).isoformat()})
        for r in session.execute(stmt)
    ]


def last_event_id(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(IncidentEvent.id), 0))) or 0)


@dataclass(eq=False)
class Subscriber:
    """One connected console: the area it may hear of (and, for a unit's staff, their units) and
    its queue of events."""

    scope: AreaScope
    # For a caller who sees only their units' cases (Principal.unit_bound): their units today.
    standing: Standing | None = None
    queue: asyncio.Queue[CaseEvent | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_SIZE)
    )
    overflowed: bool = False

    def offer(self, event: CaseEvent) -> None:
        if self.overflowed or not self.scope.covers(event.grid_code):
            return
        if self.standing is not None and not self.standing.holds(
            self.scope.principal, event.unit_code, event.assignee
        ):
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            # The console is told to reload instead of being fed a stream with a hole in it.
            self.overflowed = True
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            self.queue.put_nowait(None)


class CaseStream:
    """The process's one LISTEN connection and the consoles connected to this process."""

    def __init__(self, engine: Engine, *, conninfo: str | None = None) -> None:
        self._engine = engine
        self._conninfo = conninfo or engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self._subscribers: set[Subscriber] = set()
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self.last_id: int | None = None
        self._recent: deque[int] = deque(
            maxlen=10_000
        )  # ids already handed out (overlapping ranges)
        self._recent_set: set[int] = set()

    # ---- subscribers
    async def subscribe(
        self, scope: AreaScope, standing: Standing | None = None, *, wait: float = 5.0
    ) -> Subscriber:
        """A new subscriber for ``scope``, once the listener is listening (so no event committed
        after this returns is missed), or after ``wait`` seconds at most."""
        sub = Subscriber(scope, standing)
        if self.last_id is None:
            # Where the listener starts: every event committed after this point reaches ``sub``
            # (live, or from the listener's catch-up once its LISTEN is in place).
            self.last_id = await anyio.to_thread.run_sync(lambda: self._system(last_event_id))
        self._subscribers.add(sub)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="case-stream")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), wait)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self._subscribers.discard(sub)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, events: list[CaseEvent]) -> None:
        for event in events:
            if event.id in self._recent_set:
                continue
            if len(self._recent) == self._recent.maxlen:
                self._recent_set.discard(self._recent[0])
            self._recent.append(event.id)
            self._recent_set.add(event.id)
            self.last_id = max(self.last_id or 0, event.id)
            for sub in list(self._subscribers):
                sub.offer(event)

    def reset_all(self) -> None:
        """Every console reloads (the listener lost more events than it can catch up)."""
        for sub in list(self._subscribers):
            sub.overflowed = True
            with contextlib.suppress(asyncio.QueueFull):
                sub.queue.put_nowait(None)

    # ---- the listener
    def _system(self, work: Callable[[Session], Any]) -> Any:
        with unit_of_work(self._engine, SYSTEM) as session:
            return work(session)

    async def _read(self, **kwargs: Any) -> list[CaseEvent]:
        return list(
            await anyio.to_thread.run_sync(lambda: self._system(lambda s: read_events(s, **kwargs)))
        )

    async def _catch_up(self) -> None:
        if self.last_id is None:
            self.last_id = await anyio.to_thread.run_sync(lambda: self._system(last_event_id))
            return
        events = await self._read(after=self.last_id, limit=CATCH_UP_LIMIT + 1)
        if len(events) > CATCH_UP_LIMIT:
            self.reset_all()
            self.last_id = events[-1].id
            return
        self.publish(events)

    async def _run(self) -> None:
        backoff = Backoff(base=0.5, cap=30.0)
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    await self._catch_up()
                    self._listening.set()
                    backoff.reset()
                    async for note in conn.notifies():
                        await self._on_notify(note.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database away, a dropped connection: try again
                self._listening.clear()
                delay = backoff.next()
                logger.warning("case stream: listener lost (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)

    async def _on_notify(self, payload: str) -> None:
        try:
            span = json.loads(payload)
            lo, hi = int(span["lo"]), int(span["hi"])
        except (ValueError, KeyError, TypeError):
            logger.warning("case stream: unreadable notification %r", payload)
            return
        if not self._subscribers:  # nobody to tell: no query (intake runs hundreds a second)
            self.last_id = max(self.last_id or 0, hi)
            return
        self.publish(await self._read(after=lo - 1, upto=hi, limit=hi - lo + 1))

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._listening.clear()
        self.reset_all()


def case_stream(request: Request) -> CaseStream | None:
    """This process's stream, made on first use; None for an app without an engine of its own to
    listen on (tests bound to one rolled-back connection)."""
    app = request.app
    stream: CaseStream | None = getattr(app.state, "case_stream", None)
    if stream is None:
        engine = getattr(app.state, "engine", None)
        if engine is None:
            return None
        stream = app.state.case_stream = CaseStream(engine)
    return stream


async def close_case_stream(app: Any) -> None:
    """At shutdown (app/main.py's lifespan): stop the listener."""
    stream: CaseStream | None = getattr(app.state, "case_stream", None)
    if stream is not None:
        await stream.close()
        app.state.case_stream = None


router = APIRouter(prefix="/api/v1", tags=["incidents"])
Cases = Annotated[AreaScope, Depends(access(Resource.INCIDENT))]


def _position(header: str | None, after: int | None) -> int | None:
    if header is None or header == "":
        return after
    try:
        value = int(header)
    except ValueError:
        value = -1
    if value < 0:
        raise InvalidInput(
            f"Last-Event-ID 应为事件编号（非负整数），收到 {header[:40]!r}", field="Last-Event-ID"
        )
    return value


@router.get(
    "/incident-events",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "the live stream"}},
)
async def incident_events(
    request: Request,
    scope: Cases,
    after: Annotated[
        int | None,
        Query(ge=0, le=2**63 - 1, description="replay the events after this id first"),
    ] = None,
    timeout: Annotated[
        float, Query(ge=0, le=600, description="seconds before the stream ends (reconnect)")
    ] = 300,
    last_event_id: Annotated[str | None, Header(max_length=40)] = None,
) -> EventSourceResponse:
    """Events of the cases in the caller's area, live (Server-Sent Events): ``event: case`` per
    history row (id = event id), ``event: ready`` once listening, ``event: reset`` when the page
    should reload its list. Send ``Last-Event-ID`` (browsers do on reconnection) or ``after`` to
    get the events missed since."""
    start = _position(last_event_id, after)
    # The live filter always applies the jurisdiction: no database check stands behind it.
    live_scope = replace(scope, app_filters=True)
    stream = case_stream(request)
    principal = scope.principal

    async def events() -> AsyncIterator[ServerSentEvent]:
        sub = None
        if stream is not None:
            standing = None
            if principal.unit_bound:

                def units() -> Standing:
                    with request_unit(request, access_for(principal)) as session:
                        return standing_of(session, principal)

                standing = await anyio.to_thread.run_sync(units)
            sub = await stream.subscribe(live_scope, standing)
        try:
            replayed: set[int] = set()
            if start is not None:

                def replay() -> list[CaseEvent]:
                    with request_unit(request, access_for(principal)) as session:
                        return read_events(
                            session, after=start, scope=scope, limit=REPLAY_LIMIT + 1
                        )

                missed = await anyio.to_thread.run_sync(replay)
                if len(missed) > REPLAY_LIMIT:
                    yield ServerSentEvent(data='{"reason": "too_many"}', event="reset")
                    missed = []
                for event in missed:
                    replayed.add(event.id)
                    yield event.message()
            ready = {"live": sub is not None}
            yield ServerSentEvent(data=json.dumps(ready), event="ready", retry=RETRY_MS)
            if sub is None:
                return
            ends = asyncio.get_running_loop().time() + timeout
            while (left := ends - asyncio.get_running_loop().time()) > 0:
                try:
                    item = await asyncio.wait_for(sub.queue.get(), left)
                except TimeoutError:
                    return
                if item is None:
                    yield ServerSentEvent(data='{"reason": "overflow"}', event="reset")
                    return
                if item.id not in replayed:
                    yield item.message()
        finally:
            if sub is not None and stream is not None:
                stream.unsubscribe(sub)

    return EventSourceResponse(events(), ping=PING_SECONDS, headers={"Cache-Control": "no-store"})
