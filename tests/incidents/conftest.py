"""Fixtures for incident tests: the tiny county (tests/factories.py) with an app and helpers."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.incidents.config import IncidentSettings
from tests.factories import tiny_county

# Inside grid G11 (west of 113.005, community 419901001001).
IN_G11 = {"lng": 113.002, "lat": 34.005, "crs": "cgcs2000"}
IN_G21 = {"lng": 113.015, "lat": 34.005, "crs": "cgcs2000"}


@pytest.fixture
def county(db):  # type: ignore[no-untyped-def]
    tiny_county(db)
    db.commit()


@pytest.fixture
def api(app_factory, county, tmp_path):  # type: ignore[no-untyped-def]
    app = app_factory(
        data_dir=tmp_path,
        incidents=IncidentSettings(
            duplicate_distance_m=100, duplicate_window_hours=72, photo_max_bytes=1000
        ),
    )
    with TestClient(app) as c:
        yield c


@pytest.fixture
def report(api, token_for):  # type: ignore[no-untyped-def]
    """A case reported by a county dispatcher, who may read it: the answer is the whole case.
    (Anonymous reporters get a receipt: tests/incidents/test_intake.py, tests/public/.)"""
    staff = token_for("dispatcher")

    def make(category: str = "0401", where: dict | None = None, **extra):  # type: ignore[no-untyped-def]
        body = {"category_code": category, "description": "垃圾堆积", **(where or IN_G11), **extra}
        r = api.post("/api/v1/incidents", json=body, headers=staff)
        assert r.status_code == 201, r.text
        return r.json()

    return make
