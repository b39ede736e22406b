"""One endpoint, several formats (docs/architecture.md#one-resource-several-formats).

A route that serves one resource in several formats takes ``formats(...)``, a dependency that picks
one of the formats it names: the ``f`` query parameter when given (a value the route does not serve
is a 400 naming those it does), else the best the ``Accept`` header allows, else the route's
default (the first one named). The choice is kept on ``request.state.format``, so that an error in
the same request reaches the same client in a shape it reads (``app/errors.py``: the HTML error page
for ``html``, the JSON ``Error`` for the others). The responses below are the shapes each format
takes; a route shapes its data once and hands it to them.

This module deliberately has no ``from __future__ import annotations``: the dependency is built per
route, and FastAPI must see its ``Query`` when the function is defined.
"""

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from fastapi import Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from app.errors import BadRequest


class Format(StrEnum):
    JSON = "json"
    GEOJSON = "geojson"
    CSV = "csv"
    MVT = "mvt"
    HTML = "html"


MEDIA_TYPES: dict[Format, str] = {
    Format.JSON: "application/json",
    Format.GEOJSON: "application/geo+json",
    Format.CSV: "text/csv",
    Format.MVT: "application/vnd.mapbox-vector-tile",
    Format.HTML: "text/html",
}
_BY_MEDIA = {media: fmt for fmt, media in MEDIA_TYPES.items()} | {"application/csv": Format.CSV}


def _accepted(header: str) -> list[str]:
    """The media ranges of an ``Accept`` header, best first (by q, then as written); q=0 dropped."""
    ranked: list[tuple[float, int, str]] = []
    for order, part in enumerate(header.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media and q > 0:
            ranked.append((-q, order, media.lower()))
    return [media for _, _, media in sorted(ranked)]


def negotiate(
    f: str | None, accept: str, allowed: Sequence[Format], default: Format | None = None
) -> Format:
    """The format to answer in: ``f`` if given (it must be one of ``allowed``), else the first of
    the ``Accept`` header's media ranges (best first) that an allowed format matches, else
    ``default`` (the first allowed).

    >>> negotiate(None, "text/html,*/*;q=0.8", [Format.JSON, Format.HTML])
    <Format.HTML: 'html'>
    >>> negotiate(None, "*/*", [Format.GEOJSON, Format.CSV])
    <Format.GEOJSON: 'geojson'>
    >>> negotiate("CSV", "", [Format.JSON, Format.CSV])
    <Format.CSV: 'csv'>
    """
    default = default or allowed[0]
    if f is not None:
        try:
            chosen: Format | None = Format(f.strip().lower())
        except ValueError:
            chosen = None
        if chosen is None or chosen not in allowed:
            names = "、".join(allowed)
            raise BadRequest(
                f"f: 不支持的格式 {f!r}；此地址可选 {names}", field="f", allowed=list(allowed)
            )
        return chosen
    for media in _accepted(accept):
        if media == "*/*":
            return default
        exact = _BY_MEDIA.get(media)
        if exact is not None and exact in allowed:
            return exact
        if media.endswith("/*"):  # e.g. text/*: the default if it fits, else the first that does
            kind = media[:-1]
            fitting = [fmt for fmt in (default, *allowed) if MEDIA_TYPES[fmt].startswith(kind)]
            if fitting:
                return fitting[0]
    return default


def formats(*allowed: Format, default: Format | None = None) -> Callable[..., Format]:
    """A dependency choosing among ``allowed`` (``negotiate``); the first is the default."""
    names = " | ".join(allowed)
    chosen_default = default or allowed[0]
    description = f"{names}（缺省按 Accept 请求头，再缺省 {chosen_default}）"

    def negotiated_format(
        request: Request, f: str | None = Query(default=None, description=description)
    ) -> Format:
        fmt = negotiate(f, request.headers.get("accept", ""), allowed, chosen_default)
        request.state.format = fmt.value
        return fmt

    return negotiated_format


def responses(*served: Format) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route serving ``served``: its 200 in each media type."""
    return {200: {"content": {MEDIA_TYPES[fmt]: {} for fmt in served if fmt != Format.JSON}}}


# --- the shapes -----------------------------------------------------------------------------


def json_response(body: Any, fmt: Format = Format.JSON) -> JSONResponse:
    """``body`` as JSON, typed ``application/geo+json`` when GeoJSON was asked for."""
    return JSONResponse(body, media_type=MEDIA_TYPES[fmt])


def csv_response(
    rows: Iterable[Mapping[str, Any]], *, filename: str, columns: Sequence[str] | None = None
) -> Response:
    """A CSV download: a header row (``columns``, or the first row's keys), one line per row, lists
    joined with ``;``; a byte-order mark so that Excel reads the Chinese text as UTF-8."""
    rows = list(rows)
    header = list(columns) if columns is not None else list(rows[0]) if rows else []
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in header])
    return Response(
        "\ufeff" + buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
    )


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def feature_rows(collection: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A GeoJSON FeatureCollection as table rows: each feature's properties, then ``lng``/``lat``
    for a point or ``wkt`` for any other geometry (QGIS and Excel read both)."""
    from shapely.geometry import shape

    rows = []
    for feature in collection.get("features", []):
        row = dict(feature.get("properties") or {})
        geometry = feature.get("geometry")
        if geometry and geometry.get("type") == "Point":
            row["lng"], row["lat"] = geometry["coordinates"][:2]
        elif geometry:
            row["wkt"] = shape(geometry).wkt
        rows.append(row)
    return rows


def features_response(collection: Mapping[str, Any], fmt: Format, *, filename: str) -> Response:
    """A FeatureCollection as GeoJSON, JSON (the same body, typed ``application/json``) or CSV."""
    if fmt == Format.CSV:
        rows = feature_rows(collection)
        columns = list(dict.fromkeys(key for row in rows for key in row))
        return csv_response(rows, filename=filename, columns=columns)
    return json_response(collection, fmt)


def page_response(path: str, **query: str | None) -> RedirectResponse:
    """The HTML of a resource whose page draws it: a 303 to that page (which loads the data from
    this same endpoint as JSON), keeping the area asked for."""
    from urllib.parse import urlencode

    given = {k: v for k, v in query.items() if v}
    return RedirectResponse(path + (f"?{urlencode(given)}" if given else ""), status_code=303)
