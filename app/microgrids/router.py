"""``/api/v1/micro-grids``: micro-grids (微网格) inside grids, with their steward and households
(docs/domain.md#micro-grids). Read as GeoJSON, JSON or CSV; drawn, edited and retired by planners
and the county admin (Resource.MICRO_GRID)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from app.auth.deps import SessionDep
from app.auth.policy import Action, Resource
from app.auth.scope import AreaScope, access, access_whole
from app.formats import Format, features_response, formats, json_response, responses
from app.locate.registry import today
from app.microgrids import service
from app.microgrids.schemas import MicroGridCreate, MicroGridUpdate

router = APIRouter(prefix="/api/v1", tags=["micro-grids 微网格"])

Reader = Annotated[AreaScope, Depends(access(Resource.MICRO_GRID))]
Creator = Annotated[AreaScope, Depends(access_whole(Resource.MICRO_GRID, Action.CREATE))]
Editor = Annotated[AreaScope, Depends(access_whole(Resource.MICRO_GRID, Action.UPDATE))]
LAYER = (Format.GEOJSON, Format.JSON, Format.CSV)
LayerFormat = Annotated[Format, Depends(formats(*LAYER))]
Code = Annotated[str, Path(pattern=r"^[0-9]{17}$", description="17-digit micro-grid code")]


def _band(request: Request) -> tuple[int, int]:
    return request.app.state.settings.household_bands["micro_grid"]  # type: ignore[no-any-return]


def _feature(m: dict[str, Any]) -> dict[str, Any]:
    props = {k: v for k, v in m.items() if k != "geometry"}
    return {"type": "Feature", "id": m["code"], "geometry": m["geometry"], "properties": props}


def _invalidate(request: Request) -> None:
    registry = getattr(request.app.state, "registry", None)
    if registry is not None:
        registry.invalidate()


@router.get("/micro-grids", responses=responses(*LAYER))
def micro_grids(
    fmt: LayerFormat,
    request: Request,
    session: SessionDep,
    scope: Reader,
    grid: Annotated[str | None, Query(pattern=r"^[0-9]{15}$", description="one grid's")] = None,
) -> Response:
    """Active micro-grids in the area (or of one grid): code, name, parent grid, steward (phone
    masked unless allowed), households (each once, by routing's edge rule) and band status
    against the micro-grid band (default 50–80)."""
    band = _band(request)
    found = service.list_micro_grids(session, scope=scope, band=band, grid_code=grid)
    features = [_feature(m) for m in found]
    collection = {
        "type": "FeatureCollection",
        "features": features,
        "band": list(band),
        "numberMatched": len(found),
    }
    if fmt == Format.CSV:
        for f in features:
            steward = f["properties"].pop("steward") or {}
            f["properties"]["steward_name"] = steward.get("name")
            f["properties"]["steward_phone"] = steward.get("phone")
    return features_response(collection, fmt, filename=f"micro_grids_{scope.prefix or 'all'}")


@router.get("/micro-grids/stewards")
def steward_candidates(
    session: SessionDep,
    scope: Reader,
    grid: Annotated[str, Query(pattern=r"^[0-9]{15}$", description="the grid (15 digits)")],
) -> dict[str, Any]:
    """Who may steward a micro-grid of ``grid``: its building leaders and unit stewards today
    (staff id, code, name, role), for the coverage map's picker."""
    return {"data": service.steward_candidates(session, scope=scope, grid_code=grid)}


def _one(request: Request, session: SessionDep, scope: AreaScope, code: str) -> dict[str, Any]:
    found = service.list_micro_grids(session, scope=scope, band=_band(request), grid_code=code[:15])
    return _feature(next(m for m in found if m["code"] == code))


@router.post("/micro-grids", status_code=201)
def create_micro_grid(
    body: MicroGridCreate, request: Request, session: SessionDep, scope: Creator
) -> Response:
    """Draw a micro-grid inside an active comprehensive grid. A part outside the grid or over
    another micro-grid that is a sliver (≤ 10 m² or thinner than 1:60) is cut off; anything
    larger is refused with a 422 naming the micro-grid."""
    code = service.create_micro_grid(
        session,
        scope=scope,
        grid_code=body.grid_code,
        name=body.name,
        geometry=body.geometry,
        steward_staff_id=body.steward_staff_id,
        code=body.code,
    )
    _invalidate(request)
    return JSONResponse(_one(request, session, scope, code), status_code=201)


@router.patch("/micro-grids/{code}")
def update_micro_grid(
    code: Code, body: MicroGridUpdate, request: Request, session: SessionDep, scope: Editor
) -> Response:
    """Rename, redraw or assign the steward of a micro-grid (only the fields sent change)."""
    service.update_micro_grid(
        session, scope=scope, code=code, changes=body.model_dump(exclude_unset=True)
    )
    _invalidate(request)
    return json_response(_one(request, session, scope, code))


@router.delete("/micro-grids/{code}", status_code=204)
def retire_micro_grid(code: Code, request: Request, session: SessionDep, scope: Editor) -> Response:
    """Retire a micro-grid; its code is never handed out again."""
    service.retire_micro_grid(session, scope=scope, code=code, day=today())
    _invalidate(request)
    return Response(status_code=204)
