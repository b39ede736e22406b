"""Demo step: a year of visits with realistic gaps (some grids well covered, some not).

Deterministic: every "random" draw is a hash of the household (and month), not random(), so two
fresh databases get the same visits. Idempotent: does nothing if the demo county has visits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.auth.policy import system_principal
from app.auth.scope import scope_of
from app.grids.service import holds_point_sql

COUNTY = "419901"
# The demo county, as the demo loader (a system job) sees it.
_DEMO = scope_of(system_principal("demo")).narrow(COUNTY)


def _u(expr: str) -> str:
    """A uniform draw in [0, 1) from md5 of ``expr`` (a SQL text expression)."""
    return f"(('x' || substr(md5({expr}), 1, 7))::bit(28)::int / 268435456.0)"


_VISITS = f"""
WITH hh AS (
  SELECT h.id, h.special_groups, h.location, g.code AS grid_code
  FROM grids g JOIN households h ON {holds_point_sql("g", "h.location")}
  WHERE g.status = 'active' AND {_DEMO.sql("g.code")}),
w AS (
  SELECT DISTINCT ON (grid_code) grid_code, staff_id FROM staff_assignments
  WHERE role IN ('worker', 'leader') AND (end_date IS NULL OR end_date >= CURRENT_DATE)
  ORDER BY grid_code, (role = 'worker') DESC, staff_id),
q AS (
  -- Half the grids are well covered, three in ten middling, one in five neglected.
  SELECT grid_code, CASE WHEN u < 0.5 THEN 0.97 WHEN u < 0.8 THEN 0.75 ELSE 0.3 END AS p
  FROM (SELECT DISTINCT grid_code, {_u("grid_code")} AS u FROM hh) s),
draws AS (
  SELECT hh.id, hh.grid_code, hh.location, w.staff_id, q.p, 'routine' AS kind,
    {_u("hh.id::text || 'r'")} AS hit, {_u("hh.id::text || 'd'")} AS at
  FROM hh JOIN w USING (grid_code) JOIN q USING (grid_code)
  UNION ALL
  SELECT hh.id, hh.grid_code, hh.location, w.staff_id, q.p, 'special_group',
    {_u("hh.id::text || 's' || m")}, (m * 30 + 28 * {_u("hh.id::text || 't' || m")}) / 364.0
  FROM hh JOIN w USING (grid_code) JOIN q USING (grid_code)
  CROSS JOIN generate_series(0, 11) m
  WHERE cardinality(hh.special_groups) > 0)
INSERT INTO visits (worker_id, household_id, grid_code, visited_at, kind, location, input_crs,
                    distance_m, far_from_household, notes, recorded_by)
SELECT staff_id, id, grid_code,
  (CURRENT_DATE - 1 - floor(at * 364)::int) + time '09:00' + floor(hit * 480) * interval '1 minute',
  kind, location, 'wgs84', 0, false, '', 'demo'
FROM draws WHERE hit < p
"""


def demo_visits_step(session: Session) -> str:
    existing = session.scalar(
        text(f"SELECT count(*) FROM visits WHERE {_DEMO.sql('grid_code')}"), _DEMO.params()
    )
    if existing:
        return f"走访记录：已有 {existing} 条，跳过"
    result: Any = session.execute(text(_VISITS), _DEMO.params())
    inserted = result.rowcount
    return f"走访记录：新建近一年走访 {inserted} 条（部分网格走访不足，供覆盖审计演示）"
