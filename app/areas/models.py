"""Administrative areas: province (2 digits) → prefecture (4) → county (6) → township (9) →
village/community (12), docs/domain.md#hierarchy-and-codes."""

from __future__ import annotations

import datetime as dt

from geoalchemy2 import Geometry
from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.base import SRID, Base
from gis.codes import AREA_LEVELS, LENGTH_BY_LEVEL

AREA_KINDS = ("province", "prefecture", "county", "street", "town", "township", "residents", "villagers")  # fmt: skip
CODE_LENGTH = {level: LENGTH_BY_LEVEL[level] for level in AREA_LEVELS}
# The digits each level's code has, as the database checks them (ck_areas_code_matches_level).
CODE_MATCHES_LEVEL = " OR ".join(
    f"(level = '{level}' AND code ~ '^[0-9]{{{n}}}$')" for level, n in CODE_LENGTH.items()
)
LEVEL_CHECK = "level IN (" + ", ".join(f"'{level}'" for level in AREA_LEVELS) + ")"
# 城乡分类代码 of the statistical area codes: 111 main urban area … 220 village (docs/imports.md).
URBAN_RURAL_CHECK = "urban_rural IS NULL OR urban_rural ~ '^[12][0-9]{2}$'"


class Area(Base):
    __tablename__ = "areas"
    __table_args__ = (
        CheckConstraint(CODE_MATCHES_LEVEL, name="code_matches_level"),
        CheckConstraint(LEVEL_CHECK, name="level"),
        CheckConstraint(URBAN_RURAL_CHECK, name="urban_rural"),
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
    # The statistical area codes' urban-rural class of a community or village (111 … 220).
    urban_rural: Mapped[str | None] = mapped_column(String(3))
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=False)
    valid_from: Mapped[dt.date] = mapped_column(Date, server_default=text("CURRENT_DATE"))
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
