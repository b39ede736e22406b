"""The demo county's places (areas, grids, buildings, streets, door numbers; no households) loaded
once for the module into a transaction that is rolled back at the end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from app.demo import DEMO_DIR
from app.geocode.gazetteer import Gazetteer
from app.geocode.service import load_gazetteer
from app.imports.service import run_import
from tests.conftest import rolled_back_connection

PLACES = [
    ("areas", "demo_areas.geojson", None),
    ("grids", "demo_grids.gpkg", None),
    ("buildings", "demo_buildings.csv", None),
    ("roads", "demo_streets.geojson", None),
    ("door_numbers", "demo_door_numbers.csv", None),
]


def load_places(session: Session) -> None:
    for kind, name, crs in PLACES:
        report = run_import(session, kind=kind, path=DEMO_DIR / name, crs=crs, commit=True)
        assert not report.rejected, (name, report.rejected[:3])


@pytest.fixture(scope="module")
def demo_gazetteer(engine) -> Iterator[Gazetteer]:  # type: ignore[no-untyped-def]
    with rolled_back_connection(engine) as conn:
        session = Session(bind=conn, join_transaction_mode="create_savepoint")
        load_places(session)
        session.flush()
        yield load_gazetteer(session)
        session.close()
