"""OGC API – Features at /ogc: landing, conformance, collections, items (bbox, limit, offset,
paging links, datetime), single items, and GDAL's OAPIF driver reading the served grids."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time

import pytest
import uvicorn
from shapely.geometry import box
from sqlalchemy import Engine, delete, select, update

from app.areas.models import Area
from app.buildings.models import Building, Household
from app.grids.models import Grid
from app.staff.models import Staff, StaffAssignment
from tests.factories import C1, C2, COUNTY, G11, G12, G21, add_grid, tiny_county

OGC = "/ogc"


def test_landing_and_conformance(client) -> None:  # type: ignore[no-untyped-def]
    landing = client.get(f"{OGC}/").json()
    rels = {link["rel"]: link["href"] for link in landing["links"]}
    assert rels["data"].endswith("/ogc/collections") and rels["data"].startswith("http")
    assert rels["conformance"].endswith("/ogc/conformance")
    # QGIS's OAPIF provider needs the API definition named on the landing page.
    assert rels["service-desc"].endswith("/openapi.json") and rels["service-doc"].endswith("/docs")
    assert client.get(rels["service-desc"]).json()["openapi"].startswith("3.")
    conf = client.get(f"{OGC}/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conf
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conf


def test_collections_public_and_staff(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    public = {c["id"] for c in client.get(f"{OGC}/collections").json()["collections"]}
    assert public == {"areas", "grids", "buildings"}
    r = client.post("/api/v1/plans", json={"community_code": C1}, headers=token_for("planner"))
    plan_id = r.json()["id"]
    staff = client.get(f"{OGC}/collections", headers=token_for("planner")).json()["collections"]
    ids = {c["id"] for c in staff}
    # Planners draw boundaries: plans yes, cases no (the policy table).
    assert ids == {"areas", "grids", "buildings", f"plan-{plan_id}"}
    dispatcher = client.get(f"{OGC}/collections", headers=token_for("dispatcher")).json()
    assert {c["id"] for c in dispatcher["collections"]} == {
        "areas",
        "grids",
        "buildings",
        "incidents",
        f"plan-{plan_id}",
    }
    grids = next(c for c in staff if c["id"] == "grids")
    assert grids["extent"]["spatial"]["bbox"] == [[113.0, 34.0, 113.02, 34.01]]
    assert any(link["rel"] == "items" for link in grids["links"])
    plan_items = client.get(
        f"{OGC}/collections/plan-{plan_id}/items", headers=token_for("planner")
    ).json()
    assert sorted(f["properties"]["code"] for f in plan_items["features"]) == [G11, G12]
    assert client.get(f"{OGC}/collections/plan-{plan_id}/items").status_code == 404  # anonymous


def test_items_bbox_limit_paging(db, client) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    r = client.get(f"{OGC}/collections/grids/items", params={"limit": 2})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    page = r.json()
    assert page["type"] == "FeatureCollection"
    assert (page["numberMatched"], page["numberReturned"]) == (3, 2)
    nxt = next(link["href"] for link in page["links"] if link["rel"] == "next")
    second = client.get(nxt).json()
    assert second["numberReturned"] == 1 and not any(k["rel"] == "next" for k in second["links"])
    assert any(link["rel"] == "prev" for link in second["links"])
    codes = [f["properties"]["code"] for f in page["features"] + second["features"]]
    assert sorted(codes) == [G11, G12, G21]
    # A page larger than the server's maximum is served at the maximum, not refused.
    big = client.get(f"{OGC}/collections/grids/items", params={"limit": 20000})
    assert big.status_code == 200 and big.json()["numberReturned"] == 3
    # RFC 7946: no "crs" member in geometries.
    assert all("crs" not in f["geometry"] for f in big.json()["features"])
    east = client.get(
        f"{OGC}/collections/grids/items", params={"bbox": "113.012,34.001,113.015,34.002"}
    )
    assert [f["properties"]["code"] for f in east.json()["features"]] == [G21]


@pytest.mark.parametrize("bad", ["1,2,3", "a,b,c,d", "3,0,1,1"])
def test_bad_bbox_is_422(client, bad: str) -> None:  # type: ignore[no-untyped-def]
    assert client.get(f"{OGC}/collections/grids/items", params={"bbox": bad}).status_code == 422


def test_datetime_selects_versions(db, client) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    db.execute(update(Grid).where(Grid.code == G21).values(status="retired", valid_to="2026-06-01"))
    db.flush()
    add_grid(db, G21, box(113.01, 34.0, 113.02, 34.01), version=2)
    db.execute(
        update(Grid).where(Grid.code == G21, Grid.version == 2).values(valid_from="2026-06-01")
    )
    db.flush()

    def versions(**params: str) -> list[int]:
        feats = client.get(f"{OGC}/collections/grids/items", params=params).json()["features"]
        return sorted(f["properties"]["version"] for f in feats if f["properties"]["code"] == G21)

    assert versions() == [2]
    assert versions(datetime="2026-03-01") == [1]
    assert versions(datetime="2026-03-01T12:00:00Z") == [1]
    assert versions(datetime="2026-07-01") == [2]
    assert versions(datetime="2026-03-01/..") == [1, 2]
    assert (
        client.get(f"{OGC}/collections/grids/items", params={"datetime": "March"}).status_code
        == 422
    )


def test_single_item_and_unknown(db, client) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    first = client.get(f"{OGC}/collections/grids/items", params={"limit": 1}).json()["features"][0]
    one = client.get(f"{OGC}/collections/grids/items/{first['id']}")
    assert one.status_code == 200 and one.json()["properties"] == first["properties"]
    assert client.get(f"{OGC}/collections/grids/items/999999").status_code == 404
    assert client.get(f"{OGC}/collections/nope/items").status_code == 404


# --------------------------------------------------------------------------- GDAL
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def committed_county(engine: Engine):  # type: ignore[no-untyped-def]
    """The tiny county committed for real (a server in another thread cannot see a test's
    rolled-back transaction), removed afterwards."""
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        tiny_county(s)
        s.commit()
    try:
        yield
    finally:
        with Session(engine) as s:
            # Only what tiny_county made: other tests' data never leaves their transactions.
            b1 = select(Building.id).where(Building.code == "B1").scalar_subquery()
            s.execute(delete(Household).where(Household.building_id == b1))
            s.execute(delete(StaffAssignment).where(StaffAssignment.grid_code.in_([G11, G12, G21])))
            s.execute(delete(Building).where(Building.code == "B1"))
            s.execute(delete(Staff).where(Staff.code.in_(["S1", "S2"])))
            s.execute(delete(Grid).where(Grid.community_code.in_([C1, C2])))
            s.execute(delete(Area).where(Area.code.startswith(COUNTY)))
            s.commit()


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="gdal-bin not installed")
def test_gdal_oapif_reads_grids(engine: Engine, committed_county) -> None:  # type: ignore[no-untyped-def]
    from app.main import create_app
    from app.settings import Settings

    app = create_app(Settings(environment="test", locate_refresh_seconds=0), engine=engine)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        out = subprocess.run(
            ["ogrinfo", "-ro", f"OAPIF:http://127.0.0.1:{port}/ogc", "grids", "-so"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert "Layer name: grids" in out.stdout
        assert "Feature Count: 3" in out.stdout
        listing = subprocess.run(
            ["ogrinfo", "-ro", "-q", f"OAPIF:http://127.0.0.1:{port}/ogc"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "grids" in listing.stdout and "areas" in listing.stdout
        feats = subprocess.run(
            [
                "ogrinfo",
                "-ro",
                f"OAPIF:http://127.0.0.1:{port}/ogc",
                "grids",
                "-oo",
                "PAGE_SIZE=20000",
                "-where",
                f"code = '{G21}'",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert G21 in feats.stdout and "POLYGON" in feats.stdout
    finally:
        server.should_exit = True
        thread.join(timeout=10)
