"""Small tables the database's own rules read: tolerances and the registry revision counter."""

from sqlalchemy import BigInteger, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base


class RegistryConfig(Base):
    """Values the topology triggers read (copied from Settings at start-up, so there is one source)."""

    __tablename__ = "registry_config"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[float] = mapped_column(Float)


class RegistryRevision(Base):
    """Bumped by triggers whenever grids, areas or staff change; in-memory indexes compare it."""

    __tablename__ = "registry_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger, server_default="0")
