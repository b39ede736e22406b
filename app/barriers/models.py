"""Barriers (roads, rivers, walls, railways): lines grids should not cross (docs/domain.md#grids,
"respect roads/rivers/walls"). The automatic partition and the planners' checks read them."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.base import SRID, Base

BARRIER_CLASSES = ("arterial", "county_road", "local", "river", "wall", "railway")


class Barrier(Base):
    __tablename__ = "barriers"
    __table_args__ = (
        CheckConstraint(
            "class IN ('arterial', 'county_road', 'local', 'river', 'wall', 'railway')",
            name="class",
        ),
        UniqueConstraint("name", "class", name="uq_barriers_name_class"),
        Index("ix_barriers_geom", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    class_: Mapped[str] = mapped_column("class", String(16))
    geom = mapped_column(
        Geometry("MULTILINESTRING", srid=SRID, spatial_index=False), nullable=False
    )
