"""Batch locate off the event loop: one batch at a time per process, a short queue, chunked work.

A batch of a million points is seconds of CPU. Run on the event loop it stalls every other request
of the process (a single ``GET /locate`` waited seconds behind it), so batches run in a worker
thread, one at a time (more would only share the same cores), in chunks so that the pieces of
work the GIL interleaves with other requests stay short. Batches beyond the queue are refused
with a 503 and a Retry-After rather than piling up memory (docs/architecture.md#batch-locate).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TypeVar

import anyio
import pandas as pd

from app.errors import ServiceUnavailable
from app.locate import service
from app.locate.registry import RegistrySnapshot

T = TypeVar("T")

# Points per chunk: large enough that numpy's per-call overhead vanishes, small enough that one
# chunk is a few tens of milliseconds of work.
CHUNK_POINTS = 20_000


class BatchRunner:
    """The per-process gate for batch work (created on first use, inside the event loop)."""

    def __init__(self, max_waiting: int) -> None:
        self._limiter = anyio.CapacityLimiter(1)
        self._max_waiting = max_waiting
        self._waiting = 0

    def admit(self) -> None:
        """Refuse now, before the body is read, when the queue is full."""
        if self._waiting >= self._max_waiting:
            raise ServiceUnavailable(f"批量定位任务繁忙（{self._waiting} 个在排队），请稍后重试")

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        return await anyio.to_thread.run_sync(fn, *args, limiter=self._limiter)

    async def __aenter__(self) -> BatchRunner:
        self._waiting += 1
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._waiting -= 1


def chunks(frame: pd.DataFrame) -> list[pd.DataFrame]:
    return [frame.iloc[i : i + CHUNK_POINTS] for i in range(0, max(len(frame), 1), CHUNK_POINTS)]


async def located_chunks(
    runner: BatchRunner, snapshot: RegistrySnapshot, frame: pd.DataFrame, crs: str
) -> AsyncIterator[pd.DataFrame]:
    """The batch's answer, chunk by chunk, each computed in the worker thread."""
    for part in chunks(frame):
        yield await runner.run(_locate_chunk, snapshot, part, crs)


async def located_text(
    runner: BatchRunner, snapshot: RegistrySnapshot, frame: pd.DataFrame, crs: str, fmt: str
) -> AsyncIterator[str]:
    """The answer as CSV (one header) or NDJSON text, chunk by chunk; serialising happens in the
    worker thread too (tens of milliseconds a chunk)."""
    for n, part in enumerate(chunks(frame)):
        yield await runner.run(_chunk_text, snapshot, part, crs, fmt, n == 0)


def _chunk_text(
    snapshot: RegistrySnapshot, part: pd.DataFrame, crs: str, fmt: str, first: bool
) -> str:
    located = service.locate_batch(snapshot, part, crs=crs)
    if fmt == "csv":
        return str(located.to_csv(index=False, header=first))
    return str(located.to_json(orient="records", lines=True, force_ascii=False))


def _locate_chunk(snapshot: RegistrySnapshot, part: pd.DataFrame, crs: str) -> pd.DataFrame:
    return service.locate_batch(snapshot, part, crs=crs)
