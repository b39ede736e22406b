"""Map layers for the pages (and anyone else): GeoJSON for what fits, Mapbox vector tiles for what
does not. Each layer declares the resource it shows (``app.auth.policy``: the registry layers here,
cases in cases.py, visits and household points in visits_layer.py) and filters through the caller's
``AreaScope`` (their jurisdiction, narrowed to ``area``); row-level security holds the same line in
the database for the scoped tables (households, staff assignments).

- ``GET /api/v1/layers/grids?area=CODE``: active grids with households per grid (each
  household once, in the grid routing sends it to), band status and the current leader (phone
  masked unless allowed).
- ``GET /api/v1/layers/areas?parent=CODE``: the child areas of an area, with grid and household
  counts (each household once, in its grid's community), for drill-down county → township →
  community.
- ``GET /api/v1/layers/buildings?area=CODE``: building points with household counts.
- ``GET /tiles/{layer}/{z}/{x}/{y}.mvt``: grids, areas or buildings as a vector tile (ST_AsMVT,
  ``app.registry_tiles``).

Each layer is one endpoint in several formats (``app.formats``: ``f=`` or ``Accept``): GeoJSON
(the default), the same body as ``json``, CSV (properties, with ``lng``/``lat`` or ``wkt``), and
for grids and areas ``html``: the coverage map, which draws them.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.orm import Session

from app.areas.service import area_names, child_areas
from app.auth.deps import SessionDep
from app.auth.policy import Field, Resource, mask_phone
from app.auth.scope import AREA_CODE_PATTERN, AreaScope, access, access_whole
from app.buildings.queries import building_points
from app.formats import Format, features_response, formats, page_response, responses
from app.grids.service import active_grids_with_leaders, band_of, grid_names
from app.incidents.service import category_names
from app.locate.registry import today
from app.registry_tiles import tile_bytes

router = APIRouter(tags=["map layers"])

CodeQuery = Annotated[str | None, Query(pattern=AREA_CODE_PATTERN)]
RegistryScope = Annotated[AreaScope, Depends(access(Resource.REGISTRY))]
RegistryWhole = Annotated[AreaScope, Depends(access_whole(Resource.REGISTRY))]
# The registry layers' formats; grids and areas also as the page that draws them.
LAYER = (Format.GEOJSON, Format.JSON, Format.CSV)
MapLayerFormat = Annotated[Format, Depends(formats(*LAYER, Format.HTML))]
LayerFormat = Annotated[Format, Depends(formats(*LAYER))]
COVERAGE_PAGE = "/maps/coverage"


def _feature_collection(features: list[dict[str, Any]], **meta: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features, **meta}


def grid_features(
    session: Session, scope: AreaScope, band: tuple[int, int]
) -> list[dict[str, Any]]:
    features = []
    for r in active_grids_with_leaders(session, scope, today()):
        n = r["households"]
        phone = (
            r["leader_phone"]
            if scope.sees(Field.STAFF_PHONE, r["code"])
            else mask_phone(r["leader_phone"])
        )
        features.append(
            {
                "type": "Feature",
                "id": r["code"],
                "geometry": json.loads(r["geojson"]),
                "properties": {
                    "code": r["code"],
                    "name": r["name"],
                    "type": r["type"],
                    "community_code": r["community_code"],
                    "community_name": r["community_name"],
                    "households": n,
                    "band": band_of(r["type"], n, band),
                    "leader": r["leader_name"],
                    "leader_phone": phone,
                    "has_leader": r["leader_name"] is not None,
                },
            }
        )
    return features


@router.get("/api/v1/layers/grids", responses=responses(*LAYER, Format.HTML))
def grids_layer(
    fmt: MapLayerFormat,
    request: Request,
    session: SessionDep,
    scope: RegistryScope,
) -> Response:
    """Active grids with households per grid (counted over the household rows the caller's
    jurisdiction reaches), band status and the current leader (phone masked unless allowed)."""
    if fmt == Format.HTML:
        return page_response(COVERAGE_PAGE, area=request.query_params.get("area"))
    band = request.app.state.settings.household_band
    features = grid_features(session, scope, band)
    collection = _feature_collection(
        features, area=scope.prefix, band=list(band), numberMatched=len(features)
    )
    return features_response(collection, fmt, filename=f"grids_{scope.prefix or 'all'}")


@router.get("/api/v1/layers/areas", responses=responses(*LAYER, Format.HTML))
def areas_layer(
    fmt: MapLayerFormat,
    session: SessionDep,
    whole: RegistryWhole,
    parent: CodeQuery = None,
    include_self: bool = False,
) -> Response:
    """The children of ``parent`` (default: the caller's jurisdiction) for drill-down."""
    scope = whole.narrow(parent)
    if fmt == Format.HTML:
        return page_response(COVERAGE_PAGE, area=parent)
    features = [
        {
            "type": "Feature",
            "id": a["code"],
            "geometry": json.loads(a["geojson"]),
            "properties": {
                "code": a["code"],
                "name": a["name"],
                "level": a["level"],
                "grids": int(a["grids"]),
                "households": int(a["households"]),
            },
        }
        for a in child_areas(session, scope, include_self=include_self)
    ]
    collection = _feature_collection(features, parent=scope.prefix)
    return features_response(collection, fmt, filename=f"areas_{scope.prefix or 'all'}")


@router.get("/api/v1/layers/names")
def unit_names(
    session: SessionDep,
    scope: RegistryScope,
    level: Annotated[str, Query(pattern="^(township|community|grid|category)$")],
) -> dict[str, Any]:
    """``{"names": {code: name}}`` for the townships, communities, grids or case categories of an
    area, so that tables grouped by code can show names (retired grids and areas included: a
    period's cases may sit in one since replaced)."""
    if level == "category":  # the same everywhere: the scope limits areas and grids only
        names = category_names(session)
    elif level == "grid":
        names = grid_names(session, scope)
    else:
        names = area_names(session, scope, level)
    return {"level": level, "area": scope.prefix, "names": names}


@router.get("/api/v1/layers/buildings", responses=responses(*LAYER))
def buildings_layer(
    fmt: LayerFormat,
    session: SessionDep,
    scope: RegistryScope,
    limit: Annotated[int, Query(ge=1, le=50_000)] = 20_000,
) -> Response:
    features = [
        {
            "type": "Feature",
            "id": b["id"],
            "geometry": {"type": "Point", "coordinates": [b["lng"], b["lat"]]},
            "properties": {
                "id": b["id"],
                "code": b["code"],
                "name": b["name"],
                "compound": b["compound"],
                "households": b["household_count"],
            },
        }
        for b in building_points(session, scope, limit)
    ]
    collection = _feature_collection(features, area=scope.prefix)
    return features_response(collection, fmt, filename=f"buildings_{scope.prefix or 'all'}")


@router.get("/tiles/{layer}/{z}/{x}/{y}.mvt", tags=["map layers"])
def tile(
    session: SessionDep,
    scope: RegistryScope,
    layer: str,
    z: Annotated[int, Path(ge=0, le=22)],
    x: Annotated[int, Path(ge=0)],
    y: Annotated[int, Path(ge=0)],
) -> Response:
    body = tile_bytes(session, layer, z, x, y, scope)
    return Response(
        body,
        media_type="application/vnd.mapbox-vector-tile",
        headers={"Cache-Control": "private, max-age=60"},
    )
