"""GET /api/v1/areas/at: the province, prefecture, county, township and community of a point."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.areas.lookup import areas_at
from app.areas.schemas import AreasAtPublic
from app.auth.deps import SessionDep
from app.auth.policy import Action, Resource
from app.auth.scope import access_whole
from app.locate.registry import today
from app.locate.service import check_coordinates, coord_system, to_storage
from gis.crs import DEFAULT_CRS

router = APIRouter(prefix="/api/v1/areas", tags=["areas"])

_LEVEL_WORDS = (("province", "省"), ("prefecture", "市"), ("county", "县"),
                ("township", "乡镇/街道"), ("community", "村/社区"))  # fmt: skip


@router.get(
    "/at",
    response_model=AreasAtPublic,
    dependencies=[Depends(access_whole(Resource.PUBLIC_MAP, Action.READ))],
)
def at(
    session: SessionDep,
    lng: Annotated[float, Query(allow_inf_nan=False, ge=-180, le=180, description="longitude")],
    lat: Annotated[float, Query(allow_inf_nan=False, ge=-90, le=90, description="latitude")],
    crs: Annotated[
        str, Query(description="wgs84 | cgcs2000 | gcj02 (AMap/Tencent) | bd09 (Baidu)")
    ] = DEFAULT_CRS,
    date: Annotated[
        dt.date | None, Query(description="the day asked about (default today, Asia/Shanghai)")
    ] = None,
) -> AreasAtPublic:
    """Which province, prefecture, county, township and community held a point on ``date``,
    whether or not it lies in a grid (retired area versions included for past dates)."""
    check_coordinates(lng, lat)
    system = coord_system(crs)
    x, y = to_storage(lng, lat, system)
    day = date or today()
    found = areas_at(session, x=x, y=y, day=day)
    names = [found[level]["name"] for level, _word in _LEVEL_WORDS if found[level]]
    missing = [word for level, word in _LEVEL_WORDS if not found[level]]
    if not names:
        message = f"{day} 该位置不在任何已导入的区划内"
    elif missing:
        message = f"{''.join(names)}（{'、'.join(missing)}一级无区划数据）"
    else:
        message = "".join(names)
    return AreasAtPublic.model_validate(
        {
            "point": {
                "lng": round(x, 7),
                "lat": round(y, 7),
                "input_lng": lng,
                "input_lat": lat,
                "input_crs": system,
            },
            "date": day,
            **found,
            "message": message,
        }
    )
