"""Declarative base shared by every domain's models (and the naming convention Alembic relies on)."""

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SRID = 4490  # CGCS2000 (docs/domain.md#coordinates)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
