"""Micro-grids (微网格): listing them with their steward and households, drawing, editing and
retiring them (docs/domain.md#micro-grids). The geometry rules are gis.coverage.micro's; the band
is the settings' ``household_bands["micro_grid"]`` through app.grids.service.band_of."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.auth.policy import Field, mask_phone
from app.auth.scope import AreaScope
from app.base import SRID
from app.errors import InvalidInput, NotFound
from app.grids.models import Grid
from app.grids.service import band_of
from app.microgrids.models import MicroGrid
from app.staff.models import Staff
from gis.codes import SerialsExhausted, allocate_micro, micro_grid_parent
from gis.coverage.micro import MicroGridRefused, fit_micro_grid, households_per_micro_grid
from gis.repair import in_china, polygonal

_LIST_SQL = """
    SELECT m.code, m.grid_code, m.name, m.steward_staff_id, ST_AsGeoJSON(m.geom, 7) AS geojson,
           ST_AsBinary(m.geom) AS wkb, g.name AS grid_name,
           s.code AS steward_code, s.name AS steward_name, s.phone AS steward_phone
      FROM micro_grids m
      LEFT JOIN grids g ON g.code = m.grid_code AND g.status = 'active'
      LEFT JOIN staff s ON s.id = m.steward_staff_id
     WHERE m.status = 'active' AND {scope} {grid}
     ORDER BY m.code
"""
_POINTS_SQL = """
    SELECT ST_X(h.location), ST_Y(h.location) FROM households h
     WHERE h.location && (SELECT ST_SetSRID(ST_Extent(m.geom)::geometry, 4490) FROM micro_grids m
                          WHERE m.status = 'active' AND {scope} {grid})
"""


def list_micro_grids(
    session: Session, *, scope: AreaScope, band: tuple[int, int], grid_code: str | None = None
) -> list[dict[str, Any]]:
    """The active micro-grids in ``scope`` (of one grid when named), in code order, with their
    steward (phone masked unless the caller may see it), households (the edge rule, over the
    household rows the session may read) and band status."""
    grid = "AND m.grid_code = :grid" if grid_code else ""
    params = {**scope.params(), "grid": grid_code}
    rows = session.execute(
        text(_LIST_SQL.format(scope=scope.sql("m.code"), grid=grid)), params
    ).all()
    counts = np.zeros(len(rows), dtype=np.int64)
    if rows:
        points = session.execute(
            text(_POINTS_SQL.format(scope=scope.sql("m.code"), grid=grid)), params
        ).all()
        if points:
            xy = np.array(points, dtype=float)
            geoms = [shapely.from_wkb(bytes(r.wkb)) for r in rows]
            counts = households_per_micro_grid(geoms, xy[:, 0], xy[:, 1])
    out = []
    for r, n in zip(rows, counts.tolist(), strict=True):
        steward = None
        if r.steward_staff_id is not None:
            phone = r.steward_phone
            steward = {
                "staff_id": r.steward_staff_id,
                "code": r.steward_code,
                "name": r.steward_name,
                "phone": phone if scope.sees(Field.STAFF_PHONE, r.code[:15]) else mask_phone(phone),
            }
        out.append(
            {
                "code": r.code,
                "name": r.name,
                "grid_code": r.grid_code,
                "grid_name": r.grid_name,
                "geometry": json.loads(r.geojson),
                "steward": steward,
                "households": int(n),
                "band": band_of("micro_grid", int(n), band),
            }
        )
    return out


def steward_candidates(
    session: Session, *, scope: AreaScope, grid_code: str
) -> list[dict[str, Any]]:
    """The people who may steward a micro-grid of ``grid_code``: the grid's building-level staff
    today (楼栋长 and 单元管家 are the assignments tied to a building), by name."""
    scope.require(grid_code, missing=f"网格 {grid_code} 不存在或不在您的辖区内")
    rows = session.execute(
        text(
            "SELECT DISTINCT s.id, s.code, s.name, a.role FROM staff_assignments a "
            "JOIN staff s ON s.id = a.staff_id WHERE a.grid_code = :g "
            "AND a.building_id IS NOT NULL AND a.start_date <= CURRENT_DATE "
            "AND (a.end_date IS NULL OR a.end_date >= CURRENT_DATE) ORDER BY s.name, s.id"
        ),
        {"g": grid_code},
    )
    return [{"staff_id": r.id, "code": r.code, "name": r.name, "role": r.role} for r in rows]


def _geometry(raw: dict[str, Any] | BaseGeometry) -> BaseGeometry:
    if isinstance(raw, BaseGeometry):
        return raw
    try:
        geom = shape(raw)
    except Exception as exc:  # shapely raises several kinds for a malformed GeoJSON geometry
        raise InvalidInput(
            "geometry: 不是有效的 GeoJSON 面（Polygon 或 MultiPolygon，CGCS2000 经纬度）",
            field="geometry",
        ) from exc
    multi, _, reason = polygonal(geom)
    if multi is None:
        raise InvalidInput(
            f"geometry: {reason}，应为面（Polygon 或 MultiPolygon）", field="geometry"
        )
    if not in_china(multi):
        raise InvalidInput(
            "geometry: 坐标不在中国范围内，应为 CGCS2000 经纬度（经度在前）", field="geometry"
        )
    return multi


def _parent(session: Session, scope: AreaScope | None, grid_code: str) -> Grid:
    missing = f"网格 {grid_code} 不存在或不在您的辖区内"
    if scope is not None:
        scope.require(grid_code, missing=missing)
    grid = session.scalar(select(Grid).where(Grid.code == grid_code, Grid.status == "active"))
    if grid is None:
        raise NotFound(missing, grid_code=grid_code)
    if grid.type != "comprehensive":
        raise InvalidInput(
            f"网格 {grid_code}（{grid.name}）不是综合网格：微网格只能划在综合网格内",
            field="grid_code",
        )
    return grid


def _siblings(session: Session, grid_code: str, skip: str | None) -> dict[str, BaseGeometry]:
    rows = session.execute(
        select(MicroGrid.code, MicroGrid.geom).where(
            MicroGrid.grid_code == grid_code, MicroGrid.status == "active"
        )
    )
    return {code: to_shape(geom) for code, geom in rows if code != skip}


def _steward(session: Session, staff_id: int | None) -> int | None:
    if staff_id is None:
        return None
    if session.get(Staff, staff_id) is None:
        raise InvalidInput(
            f"steward_staff_id: 工作人员 {staff_id} 不存在，请先在人员名册中登记单元管家/楼栋长",
            field="steward_staff_id",
        )
    return staff_id


def _fit(code: str, geom: BaseGeometry, parent: Grid, siblings: dict[str, BaseGeometry]) -> Any:
    try:
        fitted = fit_micro_grid(
            code, geom, parent_code=parent.code, parent=to_shape(parent.geom), siblings=siblings
        )
    except MicroGridRefused as exc:
        raise InvalidInput(str(exc), field="geometry", code=code) from exc
    return from_shape(fitted, srid=SRID)


def _get(session: Session, scope: AreaScope, code: str) -> MicroGrid:
    missing = f"微网格 {code} 不存在或不在您的辖区内"
    try:
        micro_grid_parent(code)
    except ValueError as exc:
        raise NotFound(str(exc)) from exc
    scope.require(code, missing=missing)
    row = session.scalar(
        select(MicroGrid).where(MicroGrid.code == code, MicroGrid.status == "active")
    )
    if row is None:
        raise NotFound(missing, code=code)
    return row


def create_micro_grid(
    session: Session,
    *,
    scope: AreaScope,
    grid_code: str,
    name: str,
    geometry: dict[str, Any],
    steward_staff_id: int | None = None,
    code: str | None = None,
) -> str:
    """A new micro-grid inside active comprehensive grid ``grid_code``; its code is ``code`` when
    given (an import keeping its codes), else the next unused serial. Returns the code."""
    parent = _parent(session, scope, grid_code)
    geom = _geometry(geometry)
    used = session.scalars(select(MicroGrid.code).where(MicroGrid.grid_code == grid_code)).all()
    if code is None:
        try:
            code = allocate_micro(grid_code, [geom], {int(c[15:]) for c in used})[0]
        except SerialsExhausted as exc:
            raise InvalidInput(str(exc), field="grid_code") from exc
    else:
        try:
            if micro_grid_parent(code) != grid_code:
                raise InvalidInput(
                    f"微网格编码 {code} 应以所属网格编码 {grid_code} 开头", field="code"
                )
        except ValueError as exc:
            raise InvalidInput(str(exc), field="code") from exc
        if code in used:
            raise InvalidInput(f"微网格编码 {code} 已被使用（撤销的编码不再启用）", field="code")
    row = MicroGrid(
        code=code,
        grid_code=grid_code,
        name=name,
        geom=_fit(code, geom, parent, _siblings(session, grid_code, None)),
        steward_staff_id=_steward(session, steward_staff_id),
    )
    session.add(row)
    session.flush()
    return code


def update_micro_grid(
    session: Session,
    *,
    scope: AreaScope,
    code: str,
    changes: dict[str, Any],
) -> None:
    """Rename, redraw or (re)assign the steward of micro-grid ``code``; ``changes`` holds only
    what the caller sent (``steward_staff_id: None`` clears the steward)."""
    row = _get(session, scope, code)
    if "name" in changes and changes["name"] is not None:
        row.name = changes["name"]
    if changes.get("geometry") is not None:
        parent = _parent(session, scope, row.grid_code)
        row.geom = _fit(
            code,
            _geometry(changes["geometry"]),
            parent,
            _siblings(session, row.grid_code, code),
        )
    if "steward_staff_id" in changes:
        row.steward_staff_id = _steward(session, changes["steward_staff_id"])
    row.updated_at = dt.datetime.now(dt.UTC)
    session.flush()


def retire_micro_grid(session: Session, *, scope: AreaScope, code: str, day: dt.date) -> None:
    """Retire micro-grid ``code`` (its code is never handed out again)."""
    row = _get(session, scope, code)
    row.status = "retired"
    row.valid_to = max(day, row.valid_from)
    session.flush()


def import_micro_grid(session: Session, *, code: str, name: str, geom: BaseGeometry) -> str:
    """One micro-grid row of a grid import (a 17-digit code; docs/imports.md): inserted, or its
    active version updated in place. Returns ``inserted``, ``updated`` or ``unchanged``; a row
    that cannot be written raises InvalidInput or NotFound naming the micro-grid."""
    try:
        grid_code = micro_grid_parent(code)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="code") from exc
    parent = _parent(session, None, grid_code)
    fitted = _fit(code, geom, parent, _siblings(session, grid_code, code))
    row = session.scalar(select(MicroGrid).where(MicroGrid.code == code))
    if row is None:
        session.add(MicroGrid(code=code, grid_code=grid_code, name=name, geom=fitted))
        session.flush()
        return "inserted"
    if row.status != "active":
        raise InvalidInput(f"微网格编码 {code} 已撤销，编码不再启用", field="code")
    same = row.name == name and to_shape(row.geom).equals(to_shape(fitted))
    if same:
        return "unchanged"
    row.name, row.geom = name, fitted
    row.updated_at = dt.datetime.now(dt.UTC)
    session.flush()
    return "updated"
