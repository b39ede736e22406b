"""GET/POST /api/v1/locate: the paths consoles and scripts rely on (kept stable for them)."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from app.auth.deps import CurrentPrincipal
from app.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from app.locate import service
from app.locate.batch import CHUNK_POINTS, BatchRunner, located_chunks, located_text
from app.locate.registry import RegistrySnapshot
from app.locate.schemas import LocatePublic
from gis.crs import DEFAULT_CRS

router = APIRouter(prefix="/api/v1", tags=["locate"])


async def _snapshot(request: Request) -> RegistrySnapshot:
    # The common case costs nothing; a check or reload (a query, an index build) goes to a thread
    # so the event loop keeps serving.
    registry = request.app.state.registry
    return registry.fresh() or await run_in_threadpool(registry.snapshot)


SnapshotDep = Annotated[RegistrySnapshot, Depends(_snapshot)]
CrsQuery = Annotated[
    str, Query(description="wgs84 | cgcs2000 | gcj02 (AMap/Tencent) | bd09 (Baidu)")
]


@router.get("/locate", response_model=LocatePublic)
async def locate(
    snapshot: SnapshotDep,
    principal: CurrentPrincipal,
    lng: Annotated[float, Query(allow_inf_nan=False, ge=-180, le=180, description="longitude")],
    lat: Annotated[float, Query(allow_inf_nan=False, ge=-90, le=90, description="latitude")],
    crs: CrsQuery = DEFAULT_CRS,
) -> Response:
    """The grid containing a point, its leader and workers, community, township and county.

    Outside every grid: the nearest grid and the distance. ``near_edge`` flags points within the
    configured distance of the grid's edge, where a GPS error could mean the neighbouring grid.
    """
    answer = service.locate_point_dict(snapshot, lng=lng, lat=lat, crs=crs, principal=principal)
    # Serialised here rather than re-validated against response_model: this is the hot path.
    return Response(json.dumps(answer, ensure_ascii=False), media_type="application/json")


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


async def _read_body(request: Request) -> tuple[str, bytes, str | None]:
    """The batch's content type, raw bytes and (for a form upload) its crs field; parsing them is
    CPU work and happens in the batch thread (:func:`_parse_points`)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput("请以 file 字段上传 CSV 文件")
        crs_field = form.get("crs")
        return "text/csv", await upload.read(), crs_field if isinstance(crs_field, str) else None
    if content_type in ("text/csv", "application/csv", "application/json", ""):
        return content_type, await request.body(), None
    raise UnsupportedMediaType(f"不支持的内容类型 {content_type}；请用 JSON 或 CSV")


def _parse_points(
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
    # In chunks: one parse of a million rows would hold the interpreter for about a second,
    # and the event loop shares it (app/locate/batch.py).
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


def _batch_runner(request: Request) -> BatchRunner:
    state = request.app.state
    runner: BatchRunner | None = getattr(state, "batch_runner", None)
    if runner is None:
        runner = state.batch_runner = BatchRunner(state.settings.locate_batch_queue)
    return runner


@router.post("/locate")
async def locate_batch(
    request: Request,
    snapshot: SnapshotDep,
    crs: Annotated[str | None, Query()] = None,
    f: Annotated[str | None, Query(pattern="^(json|csv|ndjson)$")] = None,
) -> Response:
    """Batch locate: a JSON array, a columnar JSON object, or a CSV upload (columns id, lng, lat).

    Answers one row per input row, as JSON records, CSV (``f=csv`` or ``Accept: text/csv``) or
    NDJSON (``f=ndjson`` or ``Accept: application/x-ndjson``); CSV and NDJSON are streamed as they
    are computed. The work runs off the event loop, one batch at a time per process; when too many
    wait, 503 with Retry-After.
    """
    limit = request.app.state.settings.locate_batch_max
    runner = _batch_runner(request)
    runner.admit()
    content_type, raw, crs_in_form = await _read_body(request)
    async with runner:
        frame, crs_in_body = await runner.run(_parse_points, content_type, raw, crs_in_form, limit)
        del raw
        system = service.coord_system(crs or crs_in_body or DEFAULT_CRS)
        accept = request.headers.get("accept", "")
        wanted = f or (
            "csv" if "text/csv" in accept else "ndjson" if "ndjson" in accept else "json"
        )
        if wanted == "json":
            parts = [part async for part in located_chunks(runner, snapshot, frame, system)]
            body = await runner.run(_json_body, parts)
            return Response(body, media_type="application/json")
    return StreamingResponse(
        _stream(runner, snapshot, frame, system, wanted),
        media_type="text/csv; charset=utf-8" if wanted == "csv" else "application/x-ndjson",
    )


def _json_body(parts: list[pd.DataFrame]) -> str:
    result = pd.concat(parts, ignore_index=True)
    located = int(result["grid_code"].notna().sum())
    rows = result.to_json(orient="records", force_ascii=False)
    return f'{{"count":{len(result)},"located":{located},"rows":{rows}}}'


async def _stream(
    runner: BatchRunner, snapshot: RegistrySnapshot, frame: pd.DataFrame, crs: str, fmt: str
) -> AsyncIterator[str]:
    async with runner:
        async for text in located_text(runner, snapshot, frame, crs, fmt):
            yield text
