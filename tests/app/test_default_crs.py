"""The default input system is one constant (gis.crs.DEFAULT_CRS, WGS84) where docs/domain.md
allows one, and a visit's GPS fix without its system is refused (docs/domain.md#coordinates)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.buildings.models import Household
from app.staff.models import Staff
from tests.factories import G11, tiny_county


def test_locate_without_crs_reads_wgs84(client, db) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    r = client.get("/api/v1/locate?lng=113.002&lat=34.005")
    assert r.status_code == 200, r.text
    assert r.json()["point"]["input_crs"] == "wgs84"
    assert r.json()["grid"]["code"] == G11
    # The same point declared GCJ-02 is moved by the offset (hundreds of metres) before the lookup.
    shifted = client.get("/api/v1/locate?lng=113.002&lat=34.005&crs=gcj02").json()["point"]
    assert shifted["input_crs"] == "gcj02" and shifted["lng"] != 113.002


def test_a_visit_without_its_coordinate_system_is_refused(client, db, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    worker = db.scalar(select(Staff).where(Staff.code == "S2"))
    home = db.scalar(select(Household.id).where(Household.room == "101"))
    r = client.post(
        "/api/v1/visits",
        json={
            "household_id": home,
            "visited_at": (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(),
            "lng": 113.002,
            "lat": 34.005,
        },
        headers=token_for("grid_worker", staff_id=worker.id),
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"field": "crs", "message": "缺少此项"}]
