"""Batch locate in its own process: a pool of one, a short queue, chunked and streamed answers.

A batch of a million points is seconds of CPU. In a thread of the web process it still shares the
interpreter lock with every request (a single ``GET /locate`` waited hundreds of milliseconds
behind it), so batches run in a separate process, one at a time (more would only share the same
cores). The process maps the same locate index as the web workers (app/locate/shared.py), so it
costs no copy of it; it receives the request body, parses it, and sends the answer back chunk by
chunk, which the web process streams as CSV or NDJSON. Batches beyond the queue are refused with a
503 and a Retry-After rather than piling up memory. If the process dies, the batches it held end
with a clear error and the next batch starts a new one (docs/architecture.md#batch-locate).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import multiprocessing
import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from app.errors import InvalidInput, PayloadTooLarge, ServiceUnavailable
from app.locate import service
from app.locate.registry import RegistrySnapshot
from gis.pointindex import PolygonIndex

T = TypeVar("T")

# Points per chunk: large enough that numpy's per-call overhead vanishes, small enough that one
# chunk of the answer is a megabyte or so on its way back.
CHUNK_POINTS = 20_000

# How much lower the batch process's CPU priority is than the web worker's (see _lower_priority).
BATCH_NICENESS = 10

PROCESS_DIED = "批量定位进程意外退出，本批未能完成，请重新提交"

# ----------------------------------------------------------------------------- the web process side
_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _get_pool() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # spawn, not fork: the web process has threads (a forked copy could inherit a held lock).
            _pool = ProcessPoolExecutor(
                1, mp_context=multiprocessing.get_context("spawn"), initializer=_lower_priority
            )
        return _pool


def _discard_pool(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def batch_process_pid() -> int | None:
    """The batch process's id, if it runs (for tests and operators)."""
    pool = _pool
    processes = getattr(pool, "_processes", None) or {}
    return next(iter(processes), None)


class BatchRunner:
    """The per-process gate for batch work (created on first use, inside the event loop)."""

    def __init__(self, max_waiting: int) -> None:
        self._max_waiting = max_waiting
        self._waiting = 0

    def admit(self) -> None:
        """Refuse now, before the body is read, when the queue is full."""
        if self._waiting >= self._max_waiting:
            raise ServiceUnavailable(f"批量定位任务繁忙（{self._waiting} 个在排队），请稍后重试")

    async def call(self, fn: Callable[..., T], *args: Any, retry: bool = False) -> T:
        """``fn(*args)`` in the batch process; a dead process is a 503 that says so. With
        ``retry`` (a call that holds nothing yet, such as a batch's first), a process found dead
        is replaced and the call made once more."""
        for attempt in (1, 2):
            pool = _get_pool()
            try:
                return await asyncio.wrap_future(pool.submit(fn, *args))
            except BrokenProcessPool as exc:
                _discard_pool(pool)
                if not retry or attempt == 2:
                    raise ServiceUnavailable(PROCESS_DIED) from exc
        raise AssertionError("unreachable")

    def enter(self) -> None:
        self._waiting += 1

    def leave(self) -> None:
        self._waiting -= 1

    async def __aenter__(self) -> BatchRunner:
        self.enter()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.leave()


class Batch:
    """One batch held by the batch process: its points are parsed and kept there."""

    def __init__(self, runner: BatchRunner, snapshot: RegistrySnapshot) -> None:
        self.runner = runner
        self.id = uuid.uuid4().hex
        index = snapshot.index
        self.index_path = str(index.path) if index is not None and index.path else None
        if index is not None and index.path is None:
            raise RuntimeError("batch locate needs an index mapped from the store")
        self.columns = service.batch_columns(snapshot)
        self.rows = 0

    async def parse(
        self, content_type: str, raw: bytes, crs_in_form: str | None, limit: int
    ) -> str | None:
        """Send the body to the batch process, which parses it (4xx errors come back as such);
        the crs named in the body, if any."""
        self.rows, crs_in_body = await self.runner.call(
            _start, self.id, content_type, raw, crs_in_form, limit, retry=True
        )
        return crs_in_body

    def _chunk_args(self, k: int, crs: str, fmt: str, columns: bool) -> tuple[Any, ...]:
        return (self.id, k, CHUNK_POINTS, self.index_path,
                self.columns if columns else self.columns.token, crs, fmt)  # fmt: skip

    async def chunk(self, k: int, crs: str, fmt: str) -> str:
        """Chunk ``k`` of the answer as CSV (header on the first) or NDJSON text, or (fmt json)
        the whole answer as one JSON document."""
        text = await self.runner.call(_chunk, *self._chunk_args(k, crs, fmt, False))
        if text is None:  # the process has not seen this snapshot's columns yet
            text = await self.runner.call(_chunk, *self._chunk_args(k, crs, fmt, True))
        assert text is not None
        return text

    def chunk_count(self) -> int:
        return max(1, -(-self.rows // CHUNK_POINTS))

    async def close(self) -> None:
        with contextlib.suppress(ServiceUnavailable):  # if the process is gone, so is the batch
            await self.runner.call(_finish, self.id)


async def streamed(batch: Batch, crs: str, fmt: str, first: str) -> AsyncIterator[str]:
    """The answer after its first chunk (already computed, so that an early failure is still an
    error status); the batch's place in the queue is given back at the end. Asks for chunk k + 1 while chunk k is sent. If the batch process dies midway
    the answer ends with a line that says so: an NDJSON object with ``error``, or a CSV row with
    only the ``error`` column."""
    try:
        yield first
        pending: asyncio.Future[str] | None = None
        count = batch.chunk_count()
        for k in range(1, count):
            current = pending or asyncio.ensure_future(batch.chunk(k, crs, fmt))
            pending = asyncio.ensure_future(batch.chunk(k + 1, crs, fmt)) if k + 1 < count else None
            try:
                yield await current
            except ServiceUnavailable as exc:
                if pending is not None:
                    pending.cancel()
                yield _error_line(fmt, exc.message)
                return
    finally:
        batch.runner.leave()
        await batch.close()


def _error_line(fmt: str, message: str) -> str:
    if fmt == "csv":
        return "," * (len(service.BATCH_COLUMNS) - 1) + message + "\n"
    return json.dumps({"error": message}, ensure_ascii=False) + "\n"


# ----------------------------------------------------------------------------- the batch process side
def _lower_priority() -> None:
    """Single lookups come first: on a busy machine the scheduler gives the web worker the core
    before the batch (a batch is minutes of work; a lookup has a 25 ms budget)."""
    os.nice(BATCH_NICENESS)


# Batches being answered, and the indexes and column sets of the last snapshots seen.
_batches: dict[str, pd.DataFrame] = {}
_indexes: OrderedDict[str, PolygonIndex] = OrderedDict()
_columns: OrderedDict[str, service.BatchColumns] = OrderedDict()
_KEEP = 2


def _start(
    batch_id: str, content_type: str, raw: bytes, crs_in_form: str | None, limit: int
) -> tuple[int, str | None]:
    frame, crs_in_body = parse_points(content_type, raw, crs_in_form, limit)
    _batches[batch_id] = frame
    return len(frame), crs_in_body


def _chunk(
    batch_id: str,
    k: int,
    size: int,
    index_path: str | None,
    columns: service.BatchColumns | str,
    crs: str,
    fmt: str,
) -> str | None:
    if isinstance(columns, str):
        if columns not in _columns:
            return None
        columns = _columns[columns]
    else:
        _remember(_columns, columns.token, columns)
    index = None
    if index_path is not None:
        index = _indexes.get(index_path) or _remember(
            _indexes, index_path, PolygonIndex.open(Path(index_path))
        )
    frame = _batches[batch_id]
    if fmt == "json":
        located = service.locate_frame(index, columns, frame, crs=crs)
        found = int(located["grid_code"].notna().sum())
        rows = located.to_json(orient="records", force_ascii=False)
        return f'{{"count":{len(located)},"located":{found},"rows":{rows}}}'
    part = frame.iloc[k * size : (k + 1) * size]
    located = service.locate_frame(index, columns, part, crs=crs)
    if fmt == "csv":
        return str(located.to_csv(index=False, header=k == 0))
    return str(located.to_json(orient="records", lines=True, force_ascii=False))


def _finish(batch_id: str) -> None:
    _batches.pop(batch_id, None)


def _remember(cache: OrderedDict[str, Any], key: str, value: T) -> T:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > _KEEP:
        cache.popitem(last=False)
    return value


# ----------------------------------------------------------------------------- parsing the body
_LNG_NAMES = ("lng", "lon", "longitude", "x", "经度")
_LAT_NAMES = ("lat", "latitude", "y", "纬度")


def _normalise_columns(frame: pd.DataFrame) -> pd.DataFrame:
    lower = {str(c).strip().lower(): c for c in frame.columns}
    lng = next((lower[n] for n in _LNG_NAMES if n in lower), None)
    lat = next((lower[n] for n in _LAT_NAMES if n in lower), None)
    if lng is None or lat is None:
        raise InvalidInput(
            f"找不到经纬度列：需要 lng/lat（或 lon、longitude、x / latitude、y）；实际列为 {list(frame.columns)}"
        )
    renamed = frame.rename(columns={lng: "lng", lat: "lat"})
    if "id" not in renamed.columns:
        renamed.insert(0, "id", range(1, len(renamed) + 1))
    return renamed


def _too_many(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"一次最多定位 {limit} 个点，本次超过此数；请分批提交")


def parse_points(
    content_type: str, raw: bytes, crs_in_form: str | None, limit: int
) -> tuple[pd.DataFrame, str | None]:
    """The points of a batch, refused with a 413 as soon as there are more than ``limit`` (a CSV
    stops being parsed at the limit; JSON is counted before a frame is built)."""
    if content_type not in ("application/json", ""):
        return _normalise_columns(_read_csv(raw, limit)), crs_in_form
    try:
        payload = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"JSON 格式错误：第{exc.lineno}行第{exc.colno}列 {exc.msg}") from exc
    crs_in_body = None
    if isinstance(payload, dict):
        crs_in_body = payload.get("crs")
        payload = payload.get("points", payload)
    if isinstance(payload, dict) and "lng" in payload:  # columnar {"id": [...], "lng": [...], ...}
        column = payload["lng"]
        if isinstance(column, list) and len(column) > limit:
            raise _too_many(limit)
        frame = pd.DataFrame(payload)
    elif isinstance(payload, list):
        if len(payload) > limit:
            raise _too_many(limit)
        frame = pd.DataFrame.from_records(payload)
    else:
        raise InvalidInput('请提交点数组 [{"id":..,"lng":..,"lat":..}] 或 {"points": [...]}')
    return _normalise_columns(frame), crs_in_body


def _read_csv(raw: bytes, limit: int) -> pd.DataFrame:
    try:
        parts = []
        rows = 0
        for part in pd.read_csv(
            io.BytesIO(raw),
            dtype={"id": str},
            encoding="utf-8-sig",
            nrows=limit + 1,
            chunksize=CHUNK_POINTS,
        ):
            parts.append(part)
            rows += len(part)
            if rows > limit:
                raise _too_many(limit)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InvalidInput(f"CSV 无法解析：{exc}") from exc
    return pd.concat(parts, ignore_index=True)
