"""The real clients read /ogc from a live server: GDAL (ogrinfo, ogr2ogr: paging, bbox, where,
CQL2 filter, crs) and QGIS 3.22 (Debian's python3-qgis, offscreen): layers valid, counts and
attributes as the API serves them, a Gauss-Krüger request reprojected as QGIS itself would.

Neither client is optional: ``bash .ci/setup test`` installs gdal-bin and python3-qgis, and a
missing client FAILS here with the reason, never a skip (on a machine that cannot have QGIS,
deselect it by hand: ``-k "not qgis"``)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import uvicorn
from pyproj import Transformer
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from app.areas.models import Area
from app.buildings.models import Building, Household
from app.grids.models import Grid
from app.staff.models import Staff, StaffAssignment
from tests.factories import C1, C2, COUNTY, G11, G12, G21, tiny_county

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
GK_ZONE = 4526  # the tiny county's 3-degree zone (38, central meridian 114 E)
QGIS_PYTHON = "/usr/bin/python3"  # Debian's interpreter, the one python3-qgis installs into
QGIS_SCRIPT = Path(__file__).with_name("qgis_check.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(engine: Engine) -> Iterator[str]:
    """The tiny county committed for real (a server in another thread cannot see a test's
    rolled-back transaction) and served over HTTP; both removed afterwards."""
    from app.main import create_app
    from app.settings import Settings

    with Session(engine) as s:
        tiny_county(s)
        s.commit()
    app = create_app(Settings(environment="test", locate_refresh_seconds=0), engine=engine)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if srv.started:
                break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
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


# --------------------------------------------------------------------------- GDAL
def _gdal(*args: str) -> str:
    tool = args[0]
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is missing: install gdal-bin (bash .ci/setup test does)")
    out = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"{' '.join(args)}\n{out.stderr}"
    return out.stdout


def _codes_in(listing: str) -> list[str]:
    return sorted(
        line.split("=", 1)[1].strip()
        for line in listing.splitlines()
        if line.strip().startswith("code (String) =")
    )


def test_gdal_lists_and_counts(server: str) -> None:
    oapif = f"OAPIF:{server}/ogc"
    listing = _gdal("ogrinfo", "-ro", "-q", oapif)
    for layer in ("areas", "areas-community", "grids", "buildings", "public-incidents"):
        assert f": {layer} " in listing or f": {layer}\n" in listing, listing
    summary = _gdal("ogrinfo", "-ro", "-so", oapif, "grids")
    assert "Layer name: grids" in summary and "Feature Count: 3" in summary
    assert "Extent: (113.000000, 34.000000) - (113.020000, 34.010000)" in summary
    communities = _gdal("ogrinfo", "-ro", "-so", oapif, "areas-community")
    assert "Feature Count: 2" in communities


@pytest.mark.parametrize("page_size", ["2", "20000"])
def test_gdal_pages_through_every_feature(server: str, page_size: str) -> None:
    """PAGE_SIZE=2 follows the next links over two pages; 20000 is above the server's maximum
    and is served at the maximum instead of refused."""
    out = _gdal(
        "ogrinfo", "-ro", "-al", f"OAPIF:{server}/ogc", "grids", "-oo", f"PAGE_SIZE={page_size}"
    )
    assert _codes_in(out) == [G11, G12, G21]
    assert "name (String) = 和平社区第1网格" in out
    assert "version (Integer" in out


def test_gdal_bbox_and_where(server: str) -> None:
    oapif = f"OAPIF:{server}/ogc"
    east = _gdal(
        "ogrinfo", "-ro", "-al", oapif, "grids", "-spat", "113.012", "34.001", "113.015", "34.002"
    )
    assert _codes_in(east) == [G21]
    where = _gdal("ogrinfo", "-ro", "-al", oapif, "grids", "-where", f"community_code = '{C1}'")
    assert _codes_in(where) == [G11, G12]


def test_gdal_reads_a_cql2_filtered_page(server: str) -> None:
    """The server filters (CQL2 in the URL), GDAL's GeoJSON reader reads what it is given."""
    cql = quote(f"name LIKE '幸福%' AND code <> '{G12}'")
    out = _gdal(
        "ogrinfo", "-ro", "-al", f"GeoJSON:{server}/ogc/collections/grids/items?filter={cql}"
    )
    assert _codes_in(out) == [G11]


def test_ogr2ogr_copies_a_gauss_kruger_page(server: str, tmp_path: Path) -> None:
    """ogr2ogr copies the page the server answers in EPSG:4526 (axes northing, easting, as EPSG
    defines the CRS); the vertices are where PROJ puts the stored corners."""
    url = f"{server}/ogc/collections/grids/items?crs={EPSG}{GK_ZONE}&filter=" + quote(
        f"code = '{G11}'"
    )
    target = tmp_path / "g11.geojson"
    _gdal("ogr2ogr", "-f", "GeoJSON", str(target), f"GeoJSON:{url}", "-a_srs", f"EPSG:{GK_ZONE}")
    doc = json.loads(target.read_text())
    (feature,) = doc["features"]
    assert feature["properties"]["code"] == G11
    vertices = feature["geometry"]["coordinates"][0][0]
    to_gk = Transformer.from_crs(4490, GK_ZONE, always_xy=True)
    for lon, lat in [(113.0, 34.0), (113.005, 34.0), (113.005, 34.01), (113.0, 34.01)]:
        e, n = to_gk.transform(lon, lat)
        assert min(abs(a - n) + abs(b - e) for a, b in vertices) < 0.002


# --------------------------------------------------------------------------- QGIS
def _run_qgis(*args: str) -> dict[str, Any]:
    if not Path(QGIS_PYTHON).exists():
        pytest.fail(
            f"QGIS checks need Debian's {QGIS_PYTHON} with python3-qgis: apt-get install -y python3-qgis"
        )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": "", "PYTHONHOME": ""}
    env.pop("PYTHONHOME")
    out = subprocess.run(
        [QGIS_PYTHON, str(QGIS_SCRIPT), *args], capture_output=True, text=True, timeout=300, env=env
    )
    if out.returncode == 3:
        pytest.fail(
            "QGIS cannot be used, so its checks fail (they never pass silently): "
            f"{out.stderr.strip()} — install it with apt-get install -y python3-qgis "
            "(bash .ci/setup test does)"
        )
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def test_qgis_opens_the_layers_as_the_api_serves_them(server: str) -> None:
    gk_url = f"{server}/ogc/collections/grids/items?crs={EPSG}{GK_ZONE}"
    report = _run_qgis(
        server, "grids", "areas-community", "buildings", "--gk", gk_url, str(GK_ZONE)
    )
    assert report["qgis"].startswith("3.")
    api = httpx.Client(base_url=server)
    for name in ("grids", "areas-community", "buildings"):
        layer = report["layers"][name]
        assert layer["valid"], (name, layer.get("error"))
        served = api.get(f"/ogc/collections/{name}/items", params={"limit": 1000}).json()
        assert layer["count"] == served["numberMatched"], name
        # Every property the API serves is a field in QGIS, with the same values.
        props = served["features"][0]["properties"]
        assert set(props) <= set(layer["fields"]), (name, layer["fields"])
        by_code = {f["attributes"]["code"]: f["attributes"] for f in layer["features"].values()}
        for feature in served["features"]:
            got = by_code[feature["properties"]["code"]]
            for key, value in feature["properties"].items():
                if (
                    isinstance(value, str | int)
                    and not isinstance(value, bool)
                    and key not in ("valid_from", "valid_to")
                ):
                    assert got[key] == str(value), (name, key, got[key], value)
    grids = report["layers"]["grids"]
    assert sorted(grids["features"][k]["attributes"]["name"] for k in grids["features"]) == [
        "和平社区第1网格",
        "幸福社区第1网格",
        "幸福社区第2网格",
    ]
    # A CGCS2000 Gauss-Krüger request: the server's reprojection (read by QGIS through GDAL, which
    # takes the first axis as x: here the northing) agrees with QGIS's own within a centimetre.
    assert report["gk_served"]["valid"]
    for code, by_qgis in grids["gk_by_qgis"].items():
        served_ne = report["gk_served"]["features"][code]
        for east, north in by_qgis:
            assert 38_400_000 < east < 38_500_000
            assert min(abs(n - north) + abs(e - east) for n, e in served_ne) < 0.01, code


# --------------------------------------------------------------------------- a browser
@pytest.mark.browser
def test_a_browser_reads_the_html_pages(server: str) -> None:
    """A person with a browser: the landing page leads to the collections, a collection to its
    features, drawn on a map, with no script error on the way."""
    from playwright.sync_api import sync_playwright

    from tests.web.conftest import CHROMIUM_ARGS

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{server}/ogc")  # a browser's Accept asks for HTML
        page.click("text=数据集合 >> nth=0")
        page.click("text=网格（现行")
        page.click("#ogc-title ~ p >> text=浏览要素")
        page.wait_for_selector("#ogc-items tbody tr")
        assert page.inner_text("#ogc-count").startswith("共 3 个要素")
        rows = page.locator("#ogc-items tbody tr").all_inner_texts()
        assert sorted(r.split("\t")[1] for r in rows) == [G11, G12, G21]
        drawn = page.evaluate(
            "() => { let n = 0; window.GG_MAP.eachLayer(l => { if (l.feature) n++; }); return n; }"
        )
        assert drawn == 3
        browser.close()
    assert errors == []
