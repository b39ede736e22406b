"""Mapbox vector tiles of the registry tables (areas, active grids, buildings) for the maps: one
``ST_AsMVT`` query per tile, limited to the caller's ``AreaScope`` (a building by its community's
code, or in a grid-sized scope by lying in that grid: ``community_filter``)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.auth.scope import AreaScope
from app.buildings.queries import community_filter
from app.errors import InvalidInput

# Tile layers: (table-specific SELECT list, geometry column, scoping column, extra filter, table).
# A building carries its community's code: community_filter handles a grid-sized scope.
TILE_LAYERS = {
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
        "",
        "TRUE",
        "buildings g",
    ),
}


def _tile_sql(layer: str, scope: AreaScope) -> str:
    cols, geom, code_col, where, table = TILE_LAYERS[layer]
    scoped = scope.sql(code_col) if code_col else community_filter(scope, "g.community_code", geom)
    # The envelope is built in 3857 and compared in 4490 so the GiST index on geom is used.
    return f"""
    WITH env AS (SELECT ST_TileEnvelope(:z, :x, :y) AS e),
    rows AS (
      SELECT {cols},
             ST_AsMVTGeom(ST_Transform({geom}, 3857), env.e, 4096, 64, true) AS geom
        FROM {table}, env
       WHERE {where} AND {scoped}
         AND {geom} && ST_Transform(env.e, 4490)
    )
    SELECT ST_AsMVT(rows.*, '{layer}', 4096, 'geom') FROM rows WHERE rows.geom IS NOT NULL
    """


def tile_bytes(session: Session, layer: str, z: int, x: int, y: int, scope: AreaScope) -> bytes:
    if layer not in TILE_LAYERS:
        raise InvalidInput(f"未知图层“{layer}”，可选：{'、'.join(TILE_LAYERS)}")
    if x >= 2**z or y >= 2**z:
        raise InvalidInput(f"瓦片坐标超出范围：z={z} 时 x、y 须小于 {2**z}")
    sql = text(_tile_sql(layer, scope))
    data = session.execute(sql, {"z": z, "x": x, "y": y, **scope.params()}).scalar()
    return bytes(data or b"")
