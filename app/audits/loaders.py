"""Load what an audit looks at from PostGIS into GeoDataFrames (EPSG:4490) for gis.coverage."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.auth.scope import AreaScope
from app.base import SRID

_AREA = "(SELECT geom FROM areas WHERE code = :area AND valid_to IS NULL)"
_POINT = np.dtype([("id", ">i4"), ("x", ">f8"), ("y", ">f8")])


def _frame(rows: Sequence[Any], columns: list[str]) -> gpd.GeoDataFrame:
    """Rows whose last field is WKB (or None) → GeoDataFrame; broken WKB becomes a null geometry."""
    data = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
    wkb = [bytes(r[-1]) if r[-1] is not None else None for r in rows]
    geoms = shapely.from_wkb(np.array(wkb, dtype=object), on_invalid="ignore")
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=SRID), crs=SRID)


def load_communities(session: Session, scope: AreaScope) -> gpd.GeoDataFrame:
    rows = session.execute(
        text(
            "SELECT code, name, ST_AsBinary(geom) FROM areas WHERE level = 'community' "
            f"AND valid_to IS NULL AND {scope.sql('code')} ORDER BY code"
        ),
        scope.params(),
    ).all()
    return _frame(rows, ["code", "name"])


def load_grids(session: Session, scope: AreaScope) -> gpd.GeoDataFrame:
    rows = session.execute(
        text(
            "SELECT code, name, community_code, type, ST_AsBinary(geom) FROM grids "
            f"WHERE status = 'active' AND {scope.sql('code')} ORDER BY code"
        ),
        scope.params(),
    ).all()
    return _frame(rows, ["code", "name", "community_code", "type"])


def load_micro_grids(session: Session, scope: AreaScope) -> gpd.GeoDataFrame:
    """The active micro-grids (微网格) of the area's grids."""
    rows = session.execute(
        text(
            "SELECT code, grid_code, ST_AsBinary(geom) FROM micro_grids "
            f"WHERE status = 'active' AND {scope.sql('code')} ORDER BY code"
        ),
        scope.params(),
    ).all()
    return _frame(rows, ["code", "grid_code"])


def load_buildings(session: Session, scope: AreaScope) -> gpd.GeoDataFrame:
    """Buildings of the area's communities, and any other building standing inside the area
    (the scope's area, ``scope.prefix``)."""
    rows = session.execute(
        text(
            "SELECT b.code, ST_AsBinary(coalesce(b.footprint, b.location)) FROM buildings b "
            f"WHERE {scope.sql('b.community_code')} "
            f"OR ST_Intersects({_AREA}, b.location)"
        ),
        {"area": scope.prefix, **scope.params()},
    ).all()
    return _frame(rows, ["code"])


def load_households(session: Session, scope: AreaScope) -> gpd.GeoDataFrame:
    """Households inside the area, plus those of the area's buildings that lie outside it.

    A county holds a million households: they travel as one packed binary value (id, x, y), not
    a million rows, which is most of the cost otherwise.
    """
    packed = session.scalar(
        text(
            "SELECT string_agg(int4send(h.id) || float8send(ST_X(h.location)) "
            "  || float8send(ST_Y(h.location)), ''::bytea) FROM ("
            f"  SELECT h.id, h.location FROM households h WHERE ST_Intersects({_AREA}, h.location) "
            "  UNION ALL SELECT h.id, h.location FROM households h "
            f"  JOIN buildings b ON b.id = h.building_id WHERE {scope.sql('b.community_code')} "
            f"  AND NOT ST_Intersects({_AREA}, h.location)) h"
        ),
        {"area": scope.prefix, **scope.params()},
    )
    rows = np.frombuffer(packed or b"", dtype=_POINT)
    return gpd.GeoDataFrame(
        {"id": rows["id"].astype(np.int64)},
        geometry=gpd.points_from_xy(
            rows["x"].astype(np.float64), rows["y"].astype(np.float64), crs=SRID
        ),
        crs=SRID,
    )
