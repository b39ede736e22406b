"""Plans in and out of desktop GIS: export as GeoPackage or GeoJSON, import an edited file as a
new draft (QGIS round trip). Reading reuses the import readers, so CRS conversion is reported."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
from geoalchemy2.shape import to_shape
from sqlalchemy.orm import Session

from app.auth.scope import AreaScope
from app.base import SRID
from app.errors import InvalidInput
from app.grids.service import active_names
from app.imports.kinds import feature_rows, field_text
from app.imports.readers import read_any
from app.plans.create import add_grids, new_plan
from app.plans.load import community_buildings, community_geom, get_plan, plan_grids
from app.plans.models import Plan
from gis.repair import in_china, polygonal

EXPORT_FORMATS = {"gpkg": "application/geopackage+sqlite3", "geojson": "application/geo+json"}
_TYPES = {"comprehensive": "comprehensive", "综合网格": "comprehensive", "dedicated": "dedicated",
          "专属网格": "dedicated", "micro": "micro", "微网格": "micro"}  # fmt: skip


def plan_frame(session: Session, plan: Plan) -> gpd.GeoDataFrame:
    grids = plan_grids(session, plan)
    return gpd.GeoDataFrame(
        {
            "plan_grid_id": [g.id for g in grids],
            "code": [g.code or "" for g in grids],
            "name": [g.name for g in grids],
            "type": [g.type for g in grids],
            "households": [g.households for g in grids],
            "buildings": [len(g.building_ids) for g in grids],
        },
        geometry=[to_shape(g.geom) for g in grids],
        crs=SRID,
    )


def export_plan(
    session: Session, *, plan_id: int, scope: AreaScope, fmt: str
) -> tuple[bytes, str, str]:
    """(content, media type, file name) of the plan's grids."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"不支持的导出格式 {fmt}；支持：gpkg、geojson")
    plan = get_plan(session, plan_id, scope=scope)
    frame = plan_frame(session, plan)
    name = f"plan_{plan.id}_{plan.community_code}.{fmt}"
    if fmt == "geojson":
        return frame.to_json(drop_id=True).encode(), EXPORT_FORMATS[fmt], name
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        pyogrio.write_dataframe(frame, path, layer="grids", driver="GPKG")
        return path.read_bytes(), EXPORT_FORMATS[fmt], name


def import_plan(
    session: Session,
    *,
    path: Path,
    community_code: str,
    scope: AreaScope,
    crs: str | None = None,
    layer: str | None = None,
    name: str | None = None,
) -> tuple[Plan, list[str]]:
    """A new draft from a file of grid polygons (e.g. a plan exported, edited in QGIS, saved).

    A feature keeps its ``code`` when it names a grid of this community; anything else becomes a new
    grid. Geometry is repaired and reported; features outside China are refused (wrong CRS)."""
    scope.narrow(community_code)  # the caller named it: 403 outside their jurisdiction
    community = community_geom(session, community_code)
    read = read_any(path, crs=crs, layer=layer)
    notes = list(read.notes)
    rows: list[dict[str, Any]] = []
    # Cells as the importer reads them: a null geometry stays None, a code read as a float is text.
    for i, r, shape in feature_rows(read.frame):
        geom, note, reason = polygonal(shape)
        if reason or geom is None:
            notes.append(f"第{i}条已跳过：{reason}")
            continue
        if not in_china(geom):
            notes.append(f"第{i}条已跳过：坐标不在中国范围内，请检查坐标系")
            continue
        if note:
            notes.append(f"第{i}条：{note}")
        code = field_text(r, "code")
        if code and not (len(code) == 15 and code.isdigit() and code[:12] == community_code):
            notes.append(f"第{i}条编码 {code} 不属于社区 {community_code}，作为新网格")
            code = ""
        gtype = _TYPES.get(field_text(r, "type") or "comprehensive", "comprehensive")
        rows.append(
            {
                "code": code or None,
                "name": field_text(r, "name") or None,
                "type": gtype,
                "geom": geom,
            }
        )
    if not rows:
        raise InvalidInput("文件中没有可用的网格面", notes=notes)
    # A live grid named by its code alone keeps its live name (one name per grid).
    live = active_names(session, [r["code"] for r in rows if r["code"] and not r["name"]])
    for r in rows:
        r["name"] = r["name"] or live.get(r["code"] or "")
    plan = new_plan(
        session,
        community_code=community_code,
        name=name,
        source="upload",
        user=scope.principal.username,
    )
    add_grids(session, plan, rows, community_buildings(session, community_code, community))
    notes.append(f"导入 {len(rows)} 个网格")
    return plan, notes
