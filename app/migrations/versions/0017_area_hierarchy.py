"""area hierarchy above the county: provinces (2 digits) and prefectures (4 digits), and the
urban-rural class (城乡分类代码) of the statistical area codes

Areas may now be a province or a prefecture (地级市、自治州、盟), so a jurisdiction can be one; the
code's digits still name its level (docs/domain.md#hierarchy-and-codes). Row-level security needs no
change: the ``gridgov.scope`` range [p, p || '~') of migration 0012 holds for a 2- or 4-digit prefix
as for a 6-digit one (app/auth/policy.py: scope_range).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 17:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LEVELS_BEFORE = "level IN ('county', 'township', 'community')"
_CODES_BEFORE = (
    "(level = 'county' AND code ~ '^[0-9]{6}$') OR (level = 'township' AND code ~ '^[0-9]{9}$')"
    " OR (level = 'community' AND code ~ '^[0-9]{12}$')"
)
_LEVELS = "level IN ('province', 'prefecture', 'county', 'township', 'community')"
_CODES = (
    "(level = 'province' AND code ~ '^[0-9]{2}$') OR (level = 'prefecture' AND code ~ '^[0-9]{4}$')"
    " OR (level = 'county' AND code ~ '^[0-9]{6}$') OR (level = 'township' AND code ~ '^[0-9]{9}$')"
    " OR (level = 'community' AND code ~ '^[0-9]{12}$')"
)


def _checks(levels: str, codes: str) -> None:
    op.drop_constraint(op.f("ck_areas_level"), "areas", type_="check")
    op.drop_constraint(op.f("ck_areas_code_matches_level"), "areas", type_="check")
    op.create_check_constraint(op.f("ck_areas_level"), "areas", levels)
    op.create_check_constraint(op.f("ck_areas_code_matches_level"), "areas", codes)


def upgrade() -> None:
    _checks(_LEVELS, _CODES)
    op.add_column("areas", sa.Column("urban_rural", sa.String(length=3), nullable=True))
    op.create_check_constraint(
        op.f("ck_areas_urban_rural"),
        "areas",
        "urban_rural IS NULL OR urban_rural ~ '^[12][0-9]{2}$'",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_areas_urban_rural"), "areas", type_="check")
    op.drop_column("areas", "urban_rural")
    op.execute("DELETE FROM areas WHERE level IN ('province', 'prefecture')")
    _checks(_LEVELS_BEFORE, _CODES_BEFORE)
