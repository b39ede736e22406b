"""OGC API – Features (read only) at /ogc, for QGIS, GDAL and people with a browser.

Part 1 (core, GeoJSON, HTML, OpenAPI 3.0), Part 2 (``crs``, ``bbox-crs``, ``Content-Crs``) and the
basics of Part 3 (queryables, CQL2-text ``filter``): see docs/ogc.md for what is conformed to and
how. Parameters are read strictly (``app.ogc.params``): an unknown or malformed one is a 400 with
an OGC exception body; ``limit`` above the maximum is served at the maximum.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from app.auth.deps import SessionDep
from app.auth.policy import Resource
from app.auth.scope import AreaScope, access_whole
from app.errors import NotFound
from app.ogc import collections as cols
from app.ogc import crs as crsmod
from app.ogc.cql import FilterError, to_sql
from app.ogc.params import (
    MAX_LIMIT,
    BadParameter,
    bbox_polygon,
    check_known,
    parse_bbox,
    parse_datetime,
    parse_limit,
    parse_offset,
)
from app.params import BigId, max_id
from app.web.templating import templates

router = APIRouter(prefix="/ogc", tags=["ogc"])

# Anyone may read the outline map; which other collections a caller sees, and which of their
# features, follows from their role and area (app/ogc/collections.py).
MapScope = Annotated[AreaScope, Depends(access_whole(Resource.PUBLIC_MAP))]

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
SCHEMA = "application/schema+json"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
]
FILTER_LANGS = ("cql2-text",)


def _answers(media: str) -> dict[int | str, dict[str, Any]]:
    """What an /ogc page answers, for the OpenAPI: ``media`` or an HTML page; 400 for a parameter
    it cannot serve, 404 for what does not exist (both the OGC exception, app/errors.py)."""
    return {
        200: {"content": {media: {}, HTML: {}}, "description": "成功（f=html 时为网页）"},
        400: {"description": "参数有误：未知、重复或无法解析的查询参数"},
        404: {"description": "集合或要素不存在（或无权查看）"},
    }


# The query parameters each kind of page takes (anything else is a 400 naming it).
F = Query(None, description="json（默认）或 html")
_PLAIN = ("f",)
_ITEMS = (
    "f",
    "bbox",
    "bbox-crs",
    "crs",
    "datetime",
    "limit",
    "offset",
    "filter",
    "filter-lang",
    "filter-crs",
)
_ITEM = ("f", "crs")


def _fmt(request: Request, f: str | None, allowed: tuple[str, ...]) -> str:
    """'json' or 'html': the ``f`` parameter, else a browser's Accept header, else JSON."""
    query = check_known(request.query_params.multi_items(), allowed)
    if f is None:
        f = query.get("f")
    if f is not None:
        if f not in ("json", "html"):
            raise BadParameter(f"f 应为 json 或 html，而不是 {f!r}")
        return f
    accept = request.headers.get("accept", "")
    first = accept.split(",")[0].split(";")[0].strip().lower()
    return "html" if first == HTML else "json"


def _url(request: Request, path: str, **params: Any) -> str:
    base = str(request.base_url).rstrip("/") + "/ogc" + path
    query = urlencode({k: v for k, v in params.items() if v is not None}, safe="/:,")
    return base + ("?" + query if query else "")


def _link(href: str, rel: str, type_: str, title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def _self_links(
    request: Request, path: str, fmt: str, json_type: str = JSON, **params: Any
) -> list[dict[str, str]]:
    """self and alternate: this resource as JSON and as HTML."""
    as_json = _link(_url(request, path, **params, f="json"), "self", json_type, "JSON")
    as_html = _link(_url(request, path, **params, f="html"), "self", HTML, "网页")
    if fmt == "html":
        as_json["rel"] = "alternate"
    else:
        as_html["rel"] = "alternate"
    return [as_json, as_html]


def _page(request: Request, kind: str, title: str, **context: Any) -> Response:
    return templates.TemplateResponse(
        request,
        "ogc.html",
        {"kind": kind, "page_title": title, "nav": [], "titles": cols.TITLES, **context},
    )


@router.get("", responses=_answers(JSON))
@router.get("/", responses=_answers(JSON))
def landing(request: Request, f: str | None = F) -> Response:
    fmt = _fmt(request, f, _PLAIN)
    root = str(request.base_url).rstrip("/")
    body = {
        "title": "gridgov OGC API – Features",
        "description": "行政区划、网格（含历史版本）、楼栋、边界参照线、规划方案与未结事件（只读）",
        "links": [
            *_self_links(request, "/", fmt),
            # QGIS's OAPIF provider gives up on a landing page without the API definition.
            _link(
                root + "/openapi.json",
                "service-desc",
                "application/vnd.oai.openapi+json;version=3.0",
                "接口定义（OpenAPI）",
            ),
            _link(root + "/docs", "service-doc", HTML, "接口文档"),
            _link(_url(request, "/conformance"), "conformance", JSON, "符合的标准"),
            _link(_url(request, "/collections"), "data", JSON, "数据集合"),
        ],
    }
    if fmt == "html":
        return _page(request, "landing", "OGC API – Features", body=body, root=root)
    return JSONResponse(body)


@router.get("/conformance", responses=_answers(JSON))
def conformance(request: Request, f: str | None = F) -> Response:
    fmt = _fmt(request, f, _PLAIN)
    body = {"conformsTo": CONFORMANCE}
    if fmt == "html":
        return _page(request, "conformance", "符合的标准", body=body)
    return JSONResponse(body)


def _offered(
    session: SessionDep, c: cols.Collection
) -> tuple[list[float] | None, list[crsmod.Crs]]:
    box = cols.extent(session, c)
    return box, crsmod.offered(None if box is None else (box[0] + box[2]) / 2)


def _describe(request: Request, session: SessionDep, c: cols.Collection) -> dict[str, Any]:
    box, offered = _offered(session, c)
    base = f"/collections/{c.id}"
    out: dict[str, Any] = {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "crs": [x.uri for x in offered],
        "storageCrs": crsmod.STORAGE.uri,
        "links": [
            _link(_url(request, base), "self", JSON),
            _link(_url(request, base, f="html"), "alternate", HTML, "网页"),
            _link(_url(request, base + "/items"), "items", GEOJSON, "要素"),
            _link(_url(request, base + "/items", f="html"), "items", HTML, "要素（网页）"),
            _link(_url(request, base + "/queryables"), QUERYABLES_REL, SCHEMA, "可查询属性"),
        ],
    }
    if box is not None:
        out["extent"] = {"spatial": {"bbox": [box], "crs": crsmod.CRS84}}
        if c.valid is not None:
            first = cols.first_valid(session, c)
            out["extent"]["temporal"] = {
                # From the oldest version on; open-ended, as the current versions are.
                "interval": [[first.isoformat() + "T00:00:00Z" if first else None, None]],
                "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
            }
    return out


@router.get("/collections", responses=_answers(JSON))
def collections(
    request: Request, session: SessionDep, scope: MapScope, f: str | None = F
) -> Response:
    fmt = _fmt(request, f, _PLAIN)
    found = cols.available(session, scope)
    body = {
        "collections": [_describe(request, session, c) for c in found],
        "links": _self_links(request, "/collections", fmt),
    }
    if fmt == "html":
        return _page(request, "collections", "数据集合", body=body)
    return JSONResponse(body)


def _collection(session: SessionDep, scope: AreaScope, collection_id: str) -> cols.Collection:
    c = cols.find(session, scope, collection_id)
    if c is None:
        raise NotFound(f"没有名为 {collection_id} 的数据集合（或无权查看）")
    return c


@router.get("/collections/{collection_id}", responses=_answers(JSON))
def collection(
    request: Request, session: SessionDep, scope: MapScope, collection_id: str, f: str | None = F
) -> Response:
    fmt = _fmt(request, f, _PLAIN)
    body = _describe(request, session, _collection(session, scope, collection_id))
    if fmt == "html":
        return _page(request, "collection", body["title"], body=body)
    return JSONResponse(body)


@router.get("/collections/{collection_id}/queryables", responses=_answers(SCHEMA))
def queryables(
    request: Request, session: SessionDep, scope: MapScope, collection_id: str, f: str | None = F
) -> Response:
    fmt = _fmt(request, f, _PLAIN)
    c = _collection(session, scope, collection_id)
    body = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _url(request, f"/collections/{c.id}/queryables"),
        "type": "object",
        "title": c.title,
        "properties": {name: q.schema() for name, q in c.queryables.items()},
        "additionalProperties": False,
    }
    if fmt == "html":
        return _page(request, "queryables", f"{c.title}：可查询属性", body=body, collection=c)
    return JSONResponse(body, media_type=SCHEMA)


def _pick_crs(
    session: SessionDep, c: cols.Collection, raw: str | None, param: str
) -> crsmod.Crs | None:
    """The CRS a parameter names, among those the collection is offered in (the Gauss-Krüger
    zone needs the data's extent, so it is only looked up when a CRS other than the
    geographic ones is asked for)."""
    if raw is None:
        return None
    try:
        return crsmod.pick(raw, crsmod.offered(None), param=param)
    except ValueError:
        _, offered = _offered(session, c)
        try:
            return crsmod.pick(raw, offered, param=param)
        except ValueError as exc:
            raise BadParameter(str(exc)) from exc


def _filter(c: cols.Collection, text: str | None, lang: str | None, filter_crs: str | None) -> Any:
    if lang is not None and lang not in FILTER_LANGS:
        raise BadParameter(f"filter-lang 只支持 {'、'.join(FILTER_LANGS)}，而不是 {lang!r}")
    if filter_crs is not None and filter_crs not in (crsmod.CRS84, "OGC:CRS84"):
        raise BadParameter(f"filter-crs 只支持 {crsmod.CRS84}（过滤表达式不含坐标）")
    if text is None:
        return None
    try:
        return to_sql(text, c.queryables)
    except FilterError as exc:
        raise BadParameter(str(exc)) from exc


@router.get("/collections/{collection_id}/items", responses=_answers(GEOJSON))
def items(
    request: Request,
    session: SessionDep,
    scope: MapScope,
    collection_id: str,
    bbox: str | None = Query(None, description="minx,miny,maxx,maxy（按 bbox-crs 的轴顺序）"),
    bbox_crs: str | None = Query(None, alias="bbox-crs", description="bbox 的坐标系，默认 CRS84"),
    crs: str | None = Query(None, description="输出坐标系（见集合的 crs 列表），默认 CRS84"),
    datetime: str | None = Query(None, description="时刻或区间，如 2026-03-01 或 2026-01-01/.."),
    limit: str | None = Query(
        None, description=f"每页要素数，默认 10；超过 {MAX_LIMIT} 按 {MAX_LIMIT} 返回"
    ),
    offset: str | None = Query(None, description="跳过的要素数"),
    filter: str | None = Query(None, description="CQL2 文本过滤，如 code = '419901001001001'"),
    filter_lang: str | None = Query(None, alias="filter-lang", description="cql2-text"),
    filter_crs: str | None = Query(None, alias="filter-crs", description="CRS84"),
    f: str | None = F,
) -> Response:
    fmt = _fmt(request, f, _ITEMS)
    c = _collection(session, scope, collection_id)
    page = parse_limit(limit)
    skip = parse_offset(offset)
    out_crs = _pick_crs(session, c, crs, "crs") or crsmod.DEFAULT
    box = parse_bbox(bbox)
    box_crs = _pick_crs(session, c, bbox_crs, "bbox-crs") or crsmod.DEFAULT
    if bbox_crs is not None and box is None:
        raise BadParameter("给了 bbox-crs 却没有 bbox")
    features, matched = cols.items(
        session,
        c,
        bbox=None if box is None else cols.envelope(bbox_polygon(box, box_crs)),
        when=parse_datetime(datetime),
        where=_filter(c, filter, filter_lang, filter_crs),
        crs=out_crs,
        limit=page,
        offset=skip,
    )
    path = f"/collections/{c.id}/items"
    keep = {
        "bbox": bbox,
        "bbox-crs": bbox_crs,
        "crs": crs,
        "datetime": datetime,
        "filter": filter,
        "filter-lang": filter_lang,
        "filter-crs": filter_crs,
        "limit": page,
    }
    kind = GEOJSON if fmt == "json" else HTML
    links = [
        *_self_links(request, path, fmt, GEOJSON, **keep, offset=skip),
        _link(_url(request, f"/collections/{c.id}"), "collection", JSON),
    ]
    f_keep = {} if fmt == "json" else {"f": "html"}
    if skip + len(features) < matched:
        links.append(_link(_url(request, path, **keep, offset=skip + page, **f_keep), "next", kind))
    if skip > 0:
        links.append(
            _link(_url(request, path, **keep, offset=max(0, skip - page), **f_keep), "prev", kind)
        )
    rest = {
        "numberMatched": matched,
        "numberReturned": len(features),
        "timeStamp": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        "links": links,
    }
    headers = {"Content-Crs": crsmod.content_crs(out_crs)}
    if fmt == "html":
        body = {"type": "FeatureCollection", "features": cols.decode(features), **rest}
        response = _page(
            request, "items", f"{c.title}：要素", body=body, collection=c, crs=out_crs, offset=skip
        )
        response.headers.update(headers)
        return response
    # The features come as GeoJSON text from PostgreSQL: joined, not parsed and written again.
    text = (
        '{"type":"FeatureCollection","features":['
        + ",".join(features)
        + "],"
        + json.dumps(rest, ensure_ascii=False, separators=(",", ":"))[1:]
    )
    return Response(text, media_type=GEOJSON, headers=headers)


@router.get("/collections/{collection_id}/items/{feature_id}", responses=_answers(GEOJSON))
def item(
    request: Request,
    session: SessionDep,
    scope: MapScope,
    collection_id: str,
    feature_id: BigId,
    crs: str | None = Query(None, description="输出坐标系（见集合的 crs 列表），默认 CRS84"),
    f: str | None = F,
) -> Response:
    fmt = _fmt(request, f, _ITEM)
    c = _collection(session, scope, collection_id)
    out_crs = _pick_crs(session, c, crs, "crs") or crsmod.DEFAULT
    features: list[str] = []
    if feature_id <= max_id(c.id_col):  # a larger id cannot be in this table
        features, _ = cols.items(
            session, c.any_version(), crs=out_crs, limit=1, offset=0, feature_id=feature_id
        )
    if not features:
        raise NotFound(f"集合 {c.id} 中没有要素 {feature_id}")
    (feature,) = cols.decode(features)
    path = f"/collections/{c.id}/items/{feature_id}"
    feature["links"] = [
        *_self_links(request, path, fmt, GEOJSON, crs=crs),
        _link(_url(request, f"/collections/{c.id}"), "collection", JSON),
    ]
    headers = {"Content-Crs": crsmod.content_crs(out_crs)}
    if fmt == "html":
        response = _page(
            request,
            "item",
            f"{c.title}：要素 {feature_id}",
            body=feature,
            collection=c,
            crs=out_crs,
        )
        response.headers.update(headers)
        return response
    return JSONResponse(feature, media_type=GEOJSON, headers=headers)
