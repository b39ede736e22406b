"""Administrative areas: county (6 digits) → township (9) → village/community (12),
docs/domain.md#hierarchy-and-codes."""

from __future__ import annotations

import datetime as dt

from geoalchemy2 import Geometry
from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.base import SRID, Base
from gis.codes import LENGTH_BY_LEVEL

AREA_LEVELS = ("county", "township", "community")
AREA_KINDS = ("county", "street", "town", "township", "residents", "villagers")
CODE_LENGTH = {level: LENGTH_BY_LEVEL[level] for level in AREA_LEVELS}


class Area(Base):
    __tablename__ = "areas"
    __table_args__ = (
        CheckConstraint(
            "(level = 'county' AND code ~ '^[0-9]{6}$') OR (level = 'township' AND code ~ '^[0-9]{9}$')"
            " OR (level = 'community' AND code ~ '^[0-9]{12}$')",
            name="code_matches_level",
        ),
        CheckConstraint("level IN ('county', 'township', 'community')", name="level"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="validity"),
        CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
        # One current row per code; history rows keep their code with a valid_to.
        Index(
            "uq_areas_current_code", "code", unique=True, postgresql_where=text("valid_to IS NULL")
        ),
        Index("ix_areas_geom", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), index=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(String(12), index=True)
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=False)
    valid_from: Mapped[dt.date] = mapped_column(Date, server_default=text("CURRENT_DATE"))
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
