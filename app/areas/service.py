"""Reading the administrative areas: by code, the children of an area, names per level."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.areas.models import Area
from app.auth.scope import AreaScope
from app.grids.service import holds_point_sql


def current_area(session: Session, code: str) -> dict[str, Any] | None:
    """The current area ``code`` as {code, name, level, parent_code}, or None."""
    row = session.execute(
        select(Area.code, Area.name, Area.level, Area.parent_code).where(
            Area.code == code, Area.valid_to.is_(None)
        )
    ).first()
    return None if row is None else row._asdict()


def current_names(session: Session, codes: Sequence[str]) -> dict[str, str]:
    """``{code: name}`` for the current areas among ``codes`` (unknown codes are left out)."""
    rows = session.execute(
        select(Area.code, Area.name).where(Area.code.in_(codes), Area.valid_to.is_(None))
    )
    return {code: name for code, name in rows}


_CHILDREN_SQL = """
    SELECT a.code, a.name, a.level, ST_AsGeoJSON(a.geom, 6) AS geojson,
           (SELECT count(*) FROM grids g
             WHERE g.status = 'active' AND starts_with(g.code, a.code)) AS grids,
           (SELECT count(*) FROM households h WHERE {holds}) AS households
      FROM areas a
     WHERE a.valid_to IS NULL AND (a.parent_code = :parent OR (:self AND a.code = :parent))
       AND {scope}
     ORDER BY a.code
    """


def child_areas(session: Session, scope: AreaScope, *, include_self: bool) -> list[dict[str, Any]]:
    """The current areas under ``scope.prefix`` (and that area itself with ``include_self``), each
    with its outline as GeoJSON text, its active grids and the households the session may read
    (one on a border between two areas counted once, by routing's edge rule: ``holds_point_sql``)."""
    holds = holds_point_sql("a", "h.location", among="areas")
    sql = text(_CHILDREN_SQL.format(scope=scope.sql("a.code"), holds=holds))
    params = {"parent": scope.prefix, "self": include_self, **scope.params()}
    return [row._asdict() for row in session.execute(sql, params)]


def area_names(session: Session, scope: AreaScope, level: str) -> dict[str, str]:
    """``{code: name}`` for the areas of ``level`` in ``scope``, retired ones included (a period's
    cases may name them), the current name where a code has several."""
    rows = session.execute(
        select(Area.code, Area.name)
        .where(Area.level == level, scope.clause(Area.code))
        .order_by(Area.code, Area.valid_to.desc().nulls_first())
    )
    names: dict[str, str] = {}
    for code, name in rows:
        names.setdefault(code, name)
    return names
