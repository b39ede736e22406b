"""The tier units of a county derived from the registry: one unit per current county, township
and community area and per active grid, each the child of the unit one tier up
(docs/domain.md#responsible-units). Idempotent: a unit whose code (or tier and area) exists is left as it is."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.auth.policy import scope_range

# kind, the area code's length, the name's suffix
_AREA_TIERS = (("county", 6, "网格化服务管理中心"), ("township", 9, ""), ("community", 12, ""))


def tier_unit_code(kind: str, area_code: str) -> str:
    """The code of a tier's unit: ``grid-419901001001001``, ``township-419901001`` …"""
    return f"{kind}-{area_code}"


def derive_tier_units(session: Session, county_code: str) -> int:
    """Create the missing tier units under ``county_code``; returns how many were created."""
    lo, hi = scope_range(county_code)
    created = 0
    for kind, digits, suffix in _AREA_TIERS:
        parent_kind = {"township": "county", "community": "township"}.get(kind)
        created += len(
            session.execute(
                text(
                    """
                INSERT INTO units (code, name, kind, area_code, parent_code)
                SELECT :kind || '-' || a.code, a.name || :suffix, :kind, a.code,
                       CASE WHEN :parent_kind <> '' THEN :parent_kind || '-' || a.parent_code END
                  FROM areas a
                 WHERE a.valid_to IS NULL AND length(a.code) = :digits
                   AND a.code >= :lo AND a.code < :hi
                 ORDER BY a.code
                ON CONFLICT DO NOTHING RETURNING code
                """
                ),
                {
                    "kind": kind,
                    "suffix": suffix,
                    "parent_kind": parent_kind or "",
                    "digits": digits,
                    "lo": lo,
                    "hi": hi,
                },
            ).all()
        )
    created += len(
        session.execute(
            text(
                """
            INSERT INTO units (code, name, kind, area_code, parent_code)
            SELECT 'grid-' || g.code, g.name, 'grid', g.code, 'community-' || g.community_code
              FROM grids g
             WHERE g.status = 'active' AND g.code >= :lo AND g.code < :hi
             ORDER BY g.code
            ON CONFLICT DO NOTHING RETURNING code
            """
            ),
            {"lo": lo, "hi": hi},
        ).all()
    )
    session.flush()
    return created
