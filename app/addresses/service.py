"""Standard addresses: units and rooms kept in step with the households that name them, and the
edits of roads and door numbers made through the API (docs/addresses.md)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

_UNITS_FROM_HOUSEHOLDS = text(
    "INSERT INTO building_units (building_id, number) "
    "SELECT DISTINCT building_id, unit FROM households ON CONFLICT DO NOTHING"
)
_ROOMS_FROM_HOUSEHOLDS = text(
    """
    INSERT INTO rooms (unit_id, number, floor)
    SELECT DISTINCT u.id, h.room, CASE WHEN h.room ~ '^[0-9]{3,4}$' THEN h.room::int / 100 END
      FROM households h
      JOIN building_units u ON u.building_id = h.building_id AND u.number = h.unit
     WHERE h.room <> ''
    ON CONFLICT DO NOTHING
    """
)


def sync_rooms(session: Session) -> int:
    """Give every household's unit and room a row (migration 0024 did it once for the households
    then registered); returns the number of rooms added."""
    session.execute(_UNITS_FROM_HOUSEHOLDS)
    result = session.execute(_ROOMS_FROM_HOUSEHOLDS)
    return int(getattr(result, "rowcount", 0) or 0)
