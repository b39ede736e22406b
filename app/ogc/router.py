"""OGC API – Features Part 1 (core + GeoJSON), read only, at /ogc (tipg's layout).

Enough for QGIS and GDAL's OAPIF driver: landing page, conformance, collections with extents,
items with bbox / limit / offset / datetime and absolute next/prev links, single items.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from app.auth.deps import SessionDep
from app.auth.policy import Resource
from app.auth.scope import AreaScope, access_whole
from app.errors import InvalidInput, NotFound
from app.ogc import collections as cols
from app.params import BigId, Offset, max_id

router = APIRouter(prefix="/ogc", tags=["ogc"])

# Anyone may read the outline map; which other collections a caller sees, and which of their
# features, follows from their role and area (app/ogc/collections.py).
MapScope = Annotated[AreaScope, Depends(access_whole(Resource.PUBLIC_MAP))]

JSON = "application/json"
GEOJSON = "application/geo+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
MAX_LIMIT = 10_000


def _url(request: Request, path: str, **params: Any) -> str:
    base = str(request.base_url).rstrip("/") + "/ogc" + path
    query = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
    return base + ("?" + query if query else "")


def _link(href: str, rel: str, type_: str, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


@router.get("")
@router.get("/")
def landing(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "title": "gridgov OGC API – Features",
            "description": "网格、区划、楼栋、规划方案与未结事件（只读）",
            "links": [
                _link(_url(request, "/"), "self", JSON, "本页"),
                # QGIS's OAPIF provider gives up on a landing page without the API definition.
                _link(
                    str(request.base_url).rstrip("/") + "/openapi.json",
                    "service-desc",
                    "application/vnd.oai.openapi+json;version=3.0",
                    "接口定义（OpenAPI）",
                ),
                _link(
                    str(request.base_url).rstrip("/") + "/docs",
                    "service-doc",
                    "text/html",
                    "接口文档",
                ),
                _link(_url(request, "/conformance"), "conformance", JSON, "符合的标准"),
                _link(_url(request, "/collections"), "data", JSON, "数据集合"),
            ],
        }
    )


@router.get("/conformance")
def conformance() -> JSONResponse:
    return JSONResponse({"conformsTo": CONFORMANCE})


def _describe(request: Request, session: SessionDep, c: cols.Collection) -> dict[str, Any]:
    box = cols.extent(session, c)
    out: dict[str, Any] = {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "crs": [CRS84],
        "links": [
            _link(_url(request, f"/collections/{c.id}"), "self", JSON),
            _link(_url(request, f"/collections/{c.id}/items"), "items", GEOJSON, "要素"),
        ],
    }
    if box is not None:
        out["extent"] = {"spatial": {"bbox": [box], "crs": CRS84}}
        if c.valid is not None:
            out["extent"]["temporal"] = {"interval": [[None, None]]}
    return out


@router.get("/collections")
def collections(request: Request, session: SessionDep, scope: MapScope) -> JSONResponse:
    found = cols.available(session, scope)
    return JSONResponse(
        {
            "collections": [_describe(request, session, c) for c in found],
            "links": [_link(_url(request, "/collections"), "self", JSON)],
        }
    )


def _collection(session: SessionDep, scope: AreaScope, collection_id: str) -> cols.Collection:
    c = cols.find(session, scope, collection_id)
    if c is None:
        raise NotFound(f"没有名为 {collection_id} 的数据集合（或无权查看）")
    return c


@router.get("/collections/{collection_id}")
def collection(
    request: Request, session: SessionDep, scope: MapScope, collection_id: str
) -> JSONResponse:
    return JSONResponse(_describe(request, session, _collection(session, scope, collection_id)))


def parse_bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    if raw is None:
        return None
    try:
        parts = [float(v) for v in raw.split(",")]
    except ValueError as exc:
        raise InvalidInput("bbox 应为 4 个数字：minx,miny,maxx,maxy") from exc
    if len(parts) == 6:  # 3D bbox: drop the heights
        parts = [parts[0], parts[1], parts[3], parts[4]]
    if len(parts) != 4 or parts[0] > parts[2] or parts[1] > parts[3]:
        raise InvalidInput("bbox 应为 4 个数字：minx,miny,maxx,maxy（min 不大于 max）")
    return parts[0], parts[1], parts[2], parts[3]


def _instant(raw: str) -> dt.date | None:
    if raw in ("..", ""):
        return None
    try:
        if len(raw) == 10:
            return dt.date.fromisoformat(raw)
        return dt.datetime.fromisoformat(raw.replace("Z", "+00:00")).date()
    except ValueError as exc:
        raise InvalidInput(
            f"datetime 格式有误：{raw}（应为 RFC 3339，如 2026-03-01 或区间 a/b）"
        ) from exc


def parse_datetime(raw: str | None) -> cols.Interval | None:
    """An instant is the interval [t, t]; 'a/b' with '..' for an open end."""
    if raw is None:
        return None
    if "/" in raw:
        start, end = raw.split("/", 1)
        return _instant(start), _instant(end)
    day = _instant(raw)
    return day, day


@router.get("/collections/{collection_id}/items")
def items(
    request: Request,
    session: SessionDep,
    scope: MapScope,
    collection_id: str,
    bbox: str | None = None,
    datetime: str | None = None,
    limit: Annotated[
        int, Query(ge=1, description=f"page size; more than {MAX_LIMIT} is served as {MAX_LIMIT}")
    ] = 10,
    offset: Offset = 0,
) -> JSONResponse:
    # OGC API – Features: a limit above the server's maximum is capped, not refused (GDAL asks
    # for large pages, e.g. ogr2ogr -oo PAGE_SIZE=20000); next/prev links carry the capped size.
    limit = min(limit, MAX_LIMIT)
    c = _collection(session, scope, collection_id)
    features, matched = cols.items(
        session,
        c,
        bbox=parse_bbox(bbox),
        when=parse_datetime(datetime),
        limit=limit,
        offset=offset,
    )
    path = f"/collections/{c.id}/items"
    keep = {"bbox": bbox, "datetime": datetime, "limit": limit}
    links = [
        _link(_url(request, path, **keep, offset=offset), "self", GEOJSON),
        _link(_url(request, f"/collections/{c.id}"), "collection", JSON),
    ]
    if offset + len(features) < matched:
        links.append(_link(_url(request, path, **keep, offset=offset + limit), "next", GEOJSON))
    if offset > 0:
        links.append(
            _link(_url(request, path, **keep, offset=max(0, offset - limit)), "prev", GEOJSON)
        )
    body = {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": matched,
        "numberReturned": len(features),
        "timeStamp": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        "links": links,
    }
    return JSONResponse(body, media_type=GEOJSON)


@router.get("/collections/{collection_id}/items/{feature_id}")
def item(
    request: Request,
    session: SessionDep,
    scope: MapScope,
    collection_id: str,
    feature_id: BigId,
) -> JSONResponse:
    c = _collection(session, scope, collection_id)
    # A single feature is found by id whatever its validity (history stays addressable).
    c_any = cols.Collection(
        id=c.id, title=c.title, description=c.description, id_col=c.id_col, geom=c.geom,
        props=c.props, where=c.where,
    )  # fmt: skip
    features: list[dict[str, Any]] = []
    if feature_id <= max_id(c.id_col):  # a larger id cannot be in this table
        features, _ = cols.items(
            session, c_any, bbox=None, when=None, limit=1, offset=0, feature_id=feature_id
        )
    if not features:
        raise NotFound(f"集合 {c.id} 中没有要素 {feature_id}")
    feature = features[0]
    feature["links"] = [
        _link(_url(request, f"/collections/{c.id}/items/{feature_id}"), "self", GEOJSON),
        _link(_url(request, f"/collections/{c.id}"), "collection", JSON),
    ]
    return JSONResponse(feature, media_type=GEOJSON)
