"""GET/POST /api/v1/locate: the paths consoles and scripts rely on (kept stable for them)."""

from __future__ import annotations

import io
import json
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from app.auth.deps import CurrentPrincipal
from app.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from app.locate import service
from app.locate.registry import RegistrySnapshot
from app.locate.schemas import LocatePublic

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
    crs: CrsQuery = "wgs84",
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


async def _read_points(request: Request, limit: int) -> tuple[pd.DataFrame, str | None]:
    """The points of a batch, refused with a 413 as soon as there are more than ``limit`` (a CSV
    stops being parsed at the limit; JSON is counted before a frame is built)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    crs_in_body: str | None = None
    if content_type == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput("请以 file 字段上传 CSV 文件")
        raw = await upload.read()
        frame = _read_csv(raw, limit)
        crs_field = form.get("crs")
        crs_in_body = crs_field if isinstance(crs_field, str) else None
    elif content_type in ("text/csv", "application/csv"):
        frame = _read_csv(await request.body(), limit)
    elif content_type in ("application/json", ""):
        try:
            payload = json.loads(await request.body())
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"JSON 格式错误：第{exc.lineno}行第{exc.colno}列 {exc.msg}") from exc
        if isinstance(payload, dict):
            crs_in_body = payload.get("crs")
            payload = payload.get("points", payload)
        if (
            isinstance(payload, dict) and "lng" in payload
        ):  # columnar {"id": [...], "lng": [...], ...}
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
    else:
        raise UnsupportedMediaType(f"不支持的内容类型 {content_type}；请用 JSON 或 CSV")
    return _normalise_columns(frame), crs_in_body


def _read_csv(raw: bytes, limit: int) -> pd.DataFrame:
    try:
        frame = pd.read_csv(
            io.BytesIO(raw), dtype={"id": str}, encoding="utf-8-sig", nrows=limit + 1
        )
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InvalidInput(f"CSV 无法解析：{exc}") from exc
    if len(frame) > limit:
        raise _too_many(limit)
    return frame


@router.post("/locate")
async def locate_batch(
    request: Request,
    snapshot: SnapshotDep,
    crs: Annotated[str | None, Query()] = None,
    f: Annotated[str | None, Query(pattern="^(json|csv)$")] = None,
) -> Response:
    """Batch locate: a JSON array, a columnar JSON object, or a CSV upload (columns id, lng, lat).

    Answers one row per input row, as JSON records or CSV (``f=csv`` or ``Accept: text/csv``).
    """
    limit = request.app.state.settings.locate_batch_max
    frame, crs_in_body = await _read_points(request, limit)
    result = service.locate_batch(snapshot, frame, crs=crs or crs_in_body or "wgs84")
    wants_csv = f == "csv" or (f is None and "text/csv" in request.headers.get("accept", ""))
    if wants_csv:
        return Response(result.to_csv(index=False), media_type="text/csv; charset=utf-8")
    located = int(result["grid_code"].notna().sum())
    rows = result.to_json(orient="records", force_ascii=False)
    body = f'{{"count":{len(result)},"located":{located},"rows":{rows}}}'
    return Response(body, media_type="application/json")
