"""GET/POST /api/v1/locate: the paths consoles and scripts rely on (kept stable for them)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from app.auth.deps import CurrentPrincipal
from app.errors import InvalidInput, UnsupportedMediaType
from app.locate import service
from app.locate.batch import Batch, BatchRunner, streamed
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


async def _read_body(request: Request) -> tuple[str, bytes, str | None]:
    """The batch's content type, raw bytes and (for a form upload) its crs field; parsing them is
    CPU work and happens in the batch process (app/locate/batch.py)."""
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
    if not raw.strip():  # answered here: nothing to send to the batch process
        raise InvalidInput("请求体为空：请提交点数组 JSON 或带 id、lng、lat 列的 CSV 文件")
    runner.enter()
    try:
        batch = Batch(runner, snapshot)
        crs_in_body = await batch.parse(content_type, raw, crs_in_form, limit)
        del raw
        system = service.coord_system(crs or crs_in_body or DEFAULT_CRS)
        accept = request.headers.get("accept", "")
        wanted = f or (
            "csv" if "text/csv" in accept else "ndjson" if "ndjson" in accept else "json"
        )
        first = await batch.chunk(0, system, wanted)
    except BaseException:
        runner.leave()
        if "batch" in locals():
            await batch.close()
        raise
    if wanted == "json":
        runner.leave()
        await batch.close()
        return Response(first, media_type="application/json")
    return StreamingResponse(
        streamed(batch, system, wanted, first),
        media_type="text/csv; charset=utf-8" if wanted == "csv" else "application/x-ndjson",
    )
