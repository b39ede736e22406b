"""Fixtures for unit tests: the tiny county with its units (tests/units/world.py) and an app."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.units.world import add_units


@pytest.fixture
def units(db):  # type: ignore[no-untyped-def]
    from tests.factories import tiny_county

    tiny_county(db)
    add_units(db)
    db.commit()


@pytest.fixture
def api(app_factory, units, tmp_path):  # type: ignore[no-untyped-def]
    with TestClient(app_factory(data_dir=tmp_path)) as c:
        yield c


@pytest.fixture
def registered(api, token_for):  # type: ignore[no-untyped-def]
    """A case of ``category`` in G11 (or ``where``), accepted and registered by the dispatcher."""
    d = token_for("dispatcher", "419901", "disp")

    def make(category: str = "0103", where: dict | None = None) -> dict:
        point = where or {"lng": 113.002, "lat": 34.005, "crs": "cgcs2000"}
        body = {"category_code": category, "description": "楼道堆物", **point}
        case = api.post("/api/v1/incidents", json=body, headers=d).json()
        for action in ("accept", "register"):
            r = api.post(
                f"/api/v1/incidents/{case['id']}/transitions",
                json={"action": action, "version": case["version"]},
                headers=d,
            )
            assert r.status_code == 200, r.text
            case = r.json()
        return case

    return make
