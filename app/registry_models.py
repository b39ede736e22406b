"""Small tables the database's own rules read or write: tolerances and the registry change feed."""

import datetime as dt

from sqlalchemy import BigInteger, DateTime, Float, Identity, Index, String, func
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import UserDefinedType

from app.base import Base


class RegistryConfig(Base):
    """Values the topology triggers read (copied from Settings at start-up, so there is one source)."""

    __tablename__ = "registry_config"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[float] = mapped_column(Float)


class Xid8(UserDefinedType[int]):
    """PostgreSQL's 64-bit transaction id (never wraps around)."""

    cache_ok = True

    def get_col_spec(self, **kw: object) -> str:
        return "xid8"


# Reflection (alembic check) knows the type by name.
ischema_names["xid8"] = Xid8


class RegistryChange(Base):
    """One thing a write statement touched in the registry, appended by triggers (migration 0021).

    Read by app/locate/registry.py to patch its snapshot (docs/architecture.md#the-locate-registry).
    """

    __tablename__ = "registry_changes"
    __table_args__ = (
        Index("ix_registry_changes_txid_seq", "txid", "seq"),
        Index("ix_registry_changes_at", "at"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    txid: Mapped[int] = mapped_column(Xid8, server_default=func.pg_current_xact_id())
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
