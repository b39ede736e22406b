"""OGC API – Features benchmark: an items page of 1,000 grids out of a 3,000-grid county.

Prints, for the same 1,000 rows, the median time of:
- ``GET /ogc/collections/grids/items?limit=1000`` over HTTP (uvicorn, 2 workers), in CRS84,
  with ``crs=EPSG:4490`` (axes swapped), with ``crs=EPSG:4526`` (Gauss-Krüger, ST_Transform), and
  with a CQL2 filter selecting 1,000 grids of ten communities;
- beside the anchor: a raw PostGIS query of the same rows through psycopg (``ST_AsGeoJSON`` of the
  same rows, same properties, same order), fetched alone and fetched and written out as a
  GeoJSON FeatureCollection with ``json.dumps`` (what any Python server must at least do).

The load average is printed first and last: a figure taken on a busy machine reads as such.
Run: ``python bench/bench_ogc.py`` (about a minute).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
from _common import bench_database, free_port, generated_county, uvicorn_server

ROWS = 1000
REPEAT = 15
CQL = "community_code BETWEEN '419901001001' AND '419901001010' AND status = 'active'"  # 10 communities x 100 grids
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"

RAW = """
SELECT id, ST_AsGeoJSON({geom}, {decimals}, 0), code, name, type, community_code, status, version,
       valid_from, valid_to
  FROM grids
 WHERE status IN ('active', 'retired') AND status = 'active' {where}
 ORDER BY id
 LIMIT %s
"""
PROPS = ("code", "name", "type", "community_code", "status", "version", "valid_from", "valid_to")


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def median_ms(fn: Callable[[], Any], repeat: int = REPEAT) -> float:
    fn()  # warm-up
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t) * 1000)
    return statistics.median(runs)


def raw_page(conn: psycopg.Connection, geom: str, decimals: int, where: str = "") -> list[Any]:
    sql = RAW.format(geom=geom, decimals=decimals, where=where)
    return conn.execute(sql, (ROWS,)).fetchall()  # type: ignore[arg-type]


def as_geojson(rows: list[Any]) -> bytes:
    features = [
        {
            "type": "Feature",
            "id": r[0],
            "geometry": json.loads(r[1]),
            "properties": {
                k: (v.isoformat() if hasattr(v, "isoformat") else v)
                for k, v in zip(PROPS, r[2:], strict=True)
            },
        }
        for r in rows
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def main() -> None:
    print(load())
    with bench_database() as engine:
        t = time.perf_counter()
        generated_county(engine, communities=30, grids_per_community=100)
        with engine.begin() as c:
            c.exec_driver_sql("ANALYZE")
        print(f"data: 3,000 Voronoi grids built in {time.perf_counter() - t:.1f} s")
        url = engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
        port = free_port()
        server = uvicorn_server(engine, port, workers=2)
        try:
            base = f"http://127.0.0.1:{port}/ogc/collections/grids/items"
            cases = {
                "CRS84": {"limit": ROWS},
                "crs=EPSG:4490": {"limit": ROWS, "crs": f"{EPSG}4490"},
                "crs=EPSG:4526 (GK)": {"limit": ROWS, "crs": f"{EPSG}4526"},
                "CQL2 filter": {"limit": ROWS, "filter": CQL},
            }
            http_ms: dict[str, tuple[float, int, int]] = {}
            with httpx.Client(timeout=60) as http:
                for name, params in cases.items():
                    page = http.get(base, params=params)
                    page.raise_for_status()
                    n = page.json()["numberReturned"]
                    ms = median_ms(lambda p=params: http.get(base, params=p).raise_for_status())
                    http_ms[name] = (ms, n, len(page.content))
            with psycopg.connect(url) as conn:
                anchors = {
                    "CRS84": ("geom", 7, ""),
                    "crs=EPSG:4490": ("ST_FlipCoordinates(geom)", 7, ""),
                    "crs=EPSG:4526 (GK)": ("ST_FlipCoordinates(ST_Transform(geom, 4526))", 3, ""),
                    "CQL2 filter": (
                        "geom",
                        7,
                        "AND community_code BETWEEN '419901001001' AND '419901001010'",
                    ),
                }
                raw_ms: dict[str, tuple[float, float]] = {}
                for name, (geom, decimals, where) in anchors.items():
                    fetch = median_ms(lambda g=geom, d=decimals, w=where: raw_page(conn, g, d, w))
                    write = median_ms(
                        lambda g=geom, d=decimals, w=where: as_geojson(raw_page(conn, g, d, w))
                    )
                    raw_ms[name] = (fetch, write)
        finally:
            server.terminate()
            server.wait(10)
    print(f"\nitems page of {ROWS:,} grids (median of {REPEAT}):")
    print(
        f"{'':22} {'HTTP /ogc':>11} {'features':>9} {'bytes':>11}   {'raw psycopg':>12} {'+ json.dumps':>13}"
    )
    for name, (ms, n, size) in http_ms.items():
        fetch, write = raw_ms[name]
        print(
            f"{name:22} {ms:8.1f} ms {n:9,} {size:11,}   {fetch:9.1f} ms {write:10.1f} ms"
            f"   ({ms / write:.1f}x the raw page)"
        )
    print("\n" + load())


if __name__ == "__main__":
    main()
