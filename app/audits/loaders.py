"""Load what an audit looks at from PostGIS into GeoDataFrames (EPSG:4490) for gis.coverage."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.base import SRID

_AREA = "(SELECT geom FROM areas WHERE code = :area AND valid_to IS NULL)"
_POINT = np.dtype([("id", ">i4"), ("x", ">f8"), ("y", ">f8")])


def _frame(rows: Sequence[Any], columns: list[str]) -> gpd.GeoDataFrame:
    """Rows whose last field is WKB (or None) → GeoDataFrame; broken WKB becomes a null geometry."""
    data = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
    wkb = [bytes(r[-1]) if r[-1] is not None else None for r in rows]
    geoms = shapely.from_wkb(np.array(wkb, dtype=object), on_invalid="ignore")
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=SRID), crs=SRID)


def load_communities(session: Session, prefix: str) -> gpd.GeoDataFrame:
    rows = session.execute(
        text(
            "SELECT code, name, ST_AsBinary(geom) FROM areas WHERE level = 'community' "
            "AND valid_to IS NULL AND code LIKE :p ORDER BY code"
        ),
        {"p": prefix + "%"},
    ).all()
    return _frame(rows, ["code", "name"])


def load_grids(session: Session, prefix: str) -> gpd.GeoDataFrame:
    rows = session.execute(
        text(
            "SELECT code, name, community_code, type, ST_AsBinary(geom) FROM grids "
            "WHERE status = 'active' AND code LIKE :p ORDER BY code"
        ),
        {"p": prefix + "%"},
    ).all()
    return _frame(rows, ["code", "name", "community_code", "type"])


def load_buildings(session: Session, area_code: str, prefix: str) -> gpd.GeoDataFrame:
    """Buildings of the area's communities, and any other building standing inside the area."""
    rows = session.execute(
        text(
            "SELECT b.code, ST_AsBinary(coalesce(b.footprint, b.location)) FROM buildings b "
            "WHERE b.community_code LIKE :p "
            f"OR ST_Intersects({_AREA}, b.location)"
        ),
        {"p": prefix + "%", "area": area_code},
    ).all()
    return _frame(rows, ["code"])


def load_households(session: Session, area_code: str, prefix: str) -> gpd.GeoDataFrame:
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
            "  JOIN buildings b ON b.id = h.building_id WHERE b.community_code LIKE :p "
            f"  AND NOT ST_Intersects({_AREA}, h.location)) h"
        ),
        {"p": prefix + "%", "area": area_code},
    )
    rows = np.frombuffer(packed or b"", dtype=_POINT)
    return gpd.GeoDataFrame(
        {"id": rows["id"].astype(np.int64)},
        geometry=gpd.points_from_xy(
            rows["x"].astype(np.float64), rows["y"].astype(np.float64), crs=SRID
        ),
        crs=SRID,
    )
