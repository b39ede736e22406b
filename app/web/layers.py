"""Map layers for the pages (and anyone else): GeoJSON for what fits, Mapbox vector tiles for what
does not. Every query is scoped by the caller's jurisdiction (code prefix) before anything is drawn.

- ``GET /api/v1/layers/grids?f=geojson&area=CODE``: active grids with households per grid (households
  whose point lies in the grid), band status and the current leader (phone masked unless allowed).
- ``GET /api/v1/layers/areas?parent=CODE``: the child areas of an area, with grid and household
  counts, for drill-down county → township → community.
- ``GET /api/v1/layers/buildings?area=CODE``: building points with household counts.
- ``GET /tiles/{layer}/{z}/{x}/{y}.mvt``: grids, areas or buildings as a vector tile (ST_AsMVT).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.auth.deps import CurrentUser
from app.auth.policy import Principal, mask_phone
from app.db import SessionDep
from app.errors import Forbidden, InvalidInput
from app.locate.registry import today

router = APIRouter(tags=["map layers"])

CodeQuery = Annotated[str | None, Query(pattern=r"^[0-9]{6}([0-9]{3}){0,3}$")]


def scope(principal: Principal, area: str | None) -> str:
    """The code prefix a layer is limited to: the asked area if the caller covers it."""
    if not area:
        return principal.jurisdiction_code
    if not principal.covers(area):
        raise Forbidden(f"您无权查看区域 {area}：您的辖区为 {principal.jurisdiction_code}")
    return area


def _feature_collection(features: list[dict[str, Any]], **meta: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features, **meta}


_GRIDS_SQL = text(
    """
    SELECT g.code, g.name, g.type, g.community_code, c.name AS community_name,
           ST_AsGeoJSON(g.geom, 6) AS geojson,
           (SELECT count(*) FROM households h WHERE ST_Intersects(g.geom, h.location)) AS households,
           s.name AS leader_name, s.phone AS leader_phone
      FROM grids g
      LEFT JOIN areas c ON c.code = g.community_code AND c.valid_to IS NULL
      LEFT JOIN staff_assignments a
             ON a.grid_code = g.code AND a.role = 'leader'
            AND a.start_date <= :day AND (a.end_date IS NULL OR a.end_date >= :day)
      LEFT JOIN staff s ON s.id = a.staff_id
     WHERE g.status = 'active' AND g.code LIKE :prefix
     ORDER BY g.code
    """
)


def _band(grid_type: str, n: int, lo: int, hi: int) -> str:
    # The household band is a rule for comprehensive (residential) grids only; a dedicated grid
    # (school, hospital, park) has no households by design and is never "below" it.
    if grid_type != "comprehensive":
        return "exempt"
    return "below" if n < lo else "above" if n > hi else "within"


def grid_features(
    session: Session, principal: Principal, prefix: str, band: tuple[int, int]
) -> list[dict[str, Any]]:
    lo, hi = band
    features = []
    for r in session.execute(_GRIDS_SQL, {"prefix": prefix + "%", "day": today()}):
        n = int(r.households)
        phone = r.leader_phone if principal.sees_phone_of(r.code) else mask_phone(r.leader_phone)
        features.append(
            {
                "type": "Feature",
                "id": r.code,
                "geometry": json.loads(r.geojson),
                "properties": {
                    "code": r.code,
                    "name": r.name,
                    "type": r.type,
                    "community_code": r.community_code,
                    "community_name": r.community_name,
                    "households": n,
                    "band": _band(r.type, n, lo, hi),
                    "leader": r.leader_name,
                    "leader_phone": phone,
                    "has_leader": r.leader_name is not None,
                },
            }
        )
    return features


@router.get("/api/v1/layers/grids")
def grids_layer(
    request: Request,
    session: SessionDep,
    principal: CurrentUser,
    area: CodeQuery = None,
    f: Annotated[str, Query(pattern="^(geojson|json)$")] = "geojson",
) -> dict[str, Any]:
    prefix = scope(principal, area)
    band = request.app.state.settings.household_band
    features = grid_features(session, principal, prefix, band)
    return _feature_collection(features, area=prefix, band=list(band), numberMatched=len(features))


_AREAS_SQL = text(
    """
    SELECT a.code, a.name, a.level, ST_AsGeoJSON(a.geom, 6) AS geojson,
           (SELECT count(*) FROM grids g
             WHERE g.status = 'active' AND g.code LIKE a.code || '%') AS grids,
           (SELECT count(*) FROM households h WHERE ST_Intersects(a.geom, h.location)) AS households
      FROM areas a
     WHERE a.valid_to IS NULL AND (a.parent_code = :parent OR (:self AND a.code = :parent))
     ORDER BY a.code
    """
)


@router.get("/api/v1/layers/areas")
def areas_layer(
    session: SessionDep,
    principal: CurrentUser,
    parent: CodeQuery = None,
    include_self: bool = False,
) -> dict[str, Any]:
    """The children of ``parent`` (default: the caller's jurisdiction) for drill-down."""
    code = scope(principal, parent)
    features = [
        {
            "type": "Feature",
            "id": r.code,
            "geometry": json.loads(r.geojson),
            "properties": {
                "code": r.code,
                "name": r.name,
                "level": r.level,
                "grids": int(r.grids),
                "households": int(r.households),
            },
        }
        for r in session.execute(_AREAS_SQL, {"parent": code, "self": include_self})
    ]
    return _feature_collection(features, parent=code)


# Names of the units a KPI table is grouped by (the KPI API answers with codes only). Grids include
# retired ones: a period's cases may sit in a grid that has since been replaced.
_NAMES_SQL = {
    "township": "SELECT code, name FROM areas WHERE level = 'township' AND code LIKE :prefix "
    "ORDER BY code, valid_to DESC NULLS FIRST",
    "community": "SELECT code, name FROM areas WHERE level = 'community' AND code LIKE :prefix "
    "ORDER BY code, valid_to DESC NULLS FIRST",
    "grid": "SELECT code, name FROM grids WHERE code LIKE :prefix ORDER BY code, version DESC",
    "category": "SELECT code, name FROM incident_categories ORDER BY code",
}
_NAMES = {k: text(v) for k, v in _NAMES_SQL.items()}


@router.get("/api/v1/layers/names")
def unit_names(
    session: SessionDep,
    principal: CurrentUser,
    level: Annotated[str, Query(pattern="^(township|community|grid|category)$")],
    area: CodeQuery = None,
) -> dict[str, Any]:
    """``{"names": {code: name}}`` for the townships, communities, grids or case categories of an
    area, so that tables grouped by code can show names."""
    prefix = scope(principal, area)
    names: dict[str, str] = {}
    for r in session.execute(_NAMES[level], {"prefix": prefix + "%"}):
        names.setdefault(r.code, r.name)  # the current (first) row wins
    return {"level": level, "area": prefix, "names": names}


_BUILDINGS_SQL = text(
    """
    SELECT b.id, b.code, b.name, b.compound, b.household_count,
           ST_X(b.location) AS lng, ST_Y(b.location) AS lat
      FROM buildings b
     WHERE b.community_code LIKE :prefix
     ORDER BY b.code
     LIMIT :limit
    """
)


@router.get("/api/v1/layers/buildings")
def buildings_layer(
    session: SessionDep,
    principal: CurrentUser,
    area: CodeQuery = None,
    limit: Annotated[int, Query(ge=1, le=50_000)] = 20_000,
) -> dict[str, Any]:
    prefix = scope(principal, area)[:12]
    features = [
        {
            "type": "Feature",
            "id": r.id,
            "geometry": {"type": "Point", "coordinates": [r.lng, r.lat]},
            "properties": {
                "id": r.id,
                "code": r.code,
                "name": r.name,
                "compound": r.compound,
                "households": r.household_count,
            },
        }
        for r in session.execute(_BUILDINGS_SQL, {"prefix": prefix + "%", "limit": limit})
    ]
    return _feature_collection(features, area=prefix)


# Tile layers: (table-specific SELECT list, geometry column, scoping column, extra filter).
_TILE_LAYERS = {
    "grids": (
        "g.code, g.name, g.community_code",
        "g.geom",
        "g.code",
        "g.status = 'active'",
        "grids g",
    ),
    "areas": ("g.code, g.name, g.level", "g.geom", "g.code", "g.valid_to IS NULL", "areas g"),
    "buildings": (
        "g.code, g.name, g.household_count",
        "coalesce(g.footprint, g.location)",
        "g.community_code",
        "TRUE",
        "buildings g",
    ),
}


def _tile_sql(layer: str) -> str:
    cols, geom, code_col, where, table = _TILE_LAYERS[layer]
    # The envelope is built in 3857 and compared in 4490 so the GiST index on geom is used.
    return f"""
    WITH env AS (SELECT ST_TileEnvelope(:z, :x, :y) AS e),
    rows AS (
      SELECT {cols},
             ST_AsMVTGeom(ST_Transform({geom}, 3857), env.e, 4096, 64, true) AS geom
        FROM {table}, env
       WHERE {where} AND {code_col} LIKE :prefix
         AND {geom} && ST_Transform(env.e, 4490)
    )
    SELECT ST_AsMVT(rows.*, '{layer}', 4096, 'geom') FROM rows WHERE rows.geom IS NOT NULL
    """


_TILE_SQL = {name: text(_tile_sql(name)) for name in _TILE_LAYERS}


def tile_bytes(session: Session, layer: str, z: int, x: int, y: int, prefix: str) -> bytes:
    if layer not in _TILE_SQL:
        raise InvalidInput(f"未知图层“{layer}”，可选：{'、'.join(_TILE_SQL)}")
    if x >= 2**z or y >= 2**z:
        raise InvalidInput(f"瓦片坐标超出范围：z={z} 时 x、y 须小于 {2**z}")
    data = session.execute(
        _TILE_SQL[layer], {"z": z, "x": x, "y": y, "prefix": prefix + "%"}
    ).scalar()
    return bytes(data or b"")


@router.get("/tiles/{layer}/{z}/{x}/{y}.mvt", tags=["map layers"])
def tile(
    session: SessionDep,
    principal: CurrentUser,
    layer: str,
    z: Annotated[int, Path(ge=0, le=22)],
    x: Annotated[int, Path(ge=0)],
    y: Annotated[int, Path(ge=0)],
    area: CodeQuery = None,
) -> Response:
    prefix = scope(principal, area)
    if layer == "buildings":
        prefix = prefix[:12]
    body = tile_bytes(session, layer, z, x, y, prefix)
    return Response(
        body,
        media_type="application/vnd.mapbox-vector-tile",
        headers={"Cache-Control": "private, max-age=60"},
    )
