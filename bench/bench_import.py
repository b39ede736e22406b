"""DataV import of a 3,000-polygon file, beside an anchor measured in the same run.

The file: a synthetic province in DataV/Aliyun's shape (data/samples/make_samples.py writes one
feature the way the boundary service does: numeric ``adcode``, ``level``, ``parent: {adcode}``,
``center``, ``acroutes``, GCJ-02 coordinates): 1 province, 1 prefecture, 30 counties and 2,968
streets, each outline 4 × ``BENCH_IMPORT_VERTICES`` (default 50) vertices, so 3,000 polygons.

Measured, each on a fresh transaction that is rolled back (except the committed import, which the
re-import needs):

- **read**: ``app.imports.readers.read_any`` (JSON parse, per-feature geometry, GCJ-02 → CGCS2000);
- **dry run** and **commit**: ``run_import`` as ``gridgov import areas FILE --crs gcj02`` does it
  (levels, parents, kinds, geometry checks and repair, versioning, the database's own checks);
- **re-import**: the same file again (every area unchanged);
- **anchor**: ``pyogrio.read_dataframe`` of the same file plus one plain ``executemany`` INSERT of
  the same rows (code, name, level, kind, parent, WKB), no checks and no coordinate shift: the cost
  of moving the bytes, which the importer's figures should be read against.

Run: ``python bench/bench_import.py`` (about a minute). The load average is printed before and
after: the machine is shared.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "data" / "samples"))

import pyogrio  # noqa: E402
import shapely  # noqa: E402
from _common import bench_database  # noqa: E402
from make_samples import datav_feature  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.imports.readers import read_any  # noqa: E402
from app.imports.service import run_import  # noqa: E402

COUNTIES = 30
POLYGONS = 3000
PER_SIDE = int(os.environ.get("BENCH_IMPORT_VERTICES", "50"))
WEST, SOUTH, EAST, NORTH = 100.0, 28.0, 106.0, 32.0


def datav_file(path: Path) -> int:
    """Write the 3,000-feature DataV file; returns its vertex count."""
    whole = (WEST, SOUTH, EAST, NORTH)
    features = [
        datav_feature(990000, "基准省", "province", 100000, whole, 1, 0, PER_SIDE),
        datav_feature(990100, "基准市", "city", 990000, whole, COUNTIES, 0, PER_SIDE),
    ]
    streets = POLYGONS - 2 - COUNTIES
    per_county = -(-streets // COUNTIES)
    width = (EAST - WEST) / COUNTIES
    made = 0
    for c in range(COUNTIES):
        x0 = WEST + c * width
        county = 990101 + c
        features.append(
            datav_feature(
                county,
                f"基准县{c + 1}",
                "district",
                990100,
                (x0, SOUTH, x0 + width, NORTH),
                per_county,
                c,
                PER_SIDE,
            )
        )
        n = min(per_county, streets - made)
        height = (NORTH - SOUTH) / n
        for s in range(n):
            y0 = SOUTH + s * height
            features.append(
                datav_feature(
                    county * 1000 + s + 1,
                    f"基准街道{c + 1}-{s + 1}",
                    "street",
                    county,
                    (x0, y0, x0 + width, y0 + height),
                    0,
                    s,
                    PER_SIDE,
                )
            )
        made += n
    assert len(features) == POLYGONS
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return sum(len(f["geometry"]["coordinates"][0][0]) for f in features)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} cores)"


def timed(label: str, fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    print(f"  {label:<44} {seconds:7.2f} s   {POLYGONS / seconds:8.0f} polygons/s")
    return seconds, result


def anchor_insert(session: Session, frame: Any) -> None:
    rows = [
        {"code": str(r.adcode), "name": r["name"], "level": r.level, "wkb": shapely.to_wkb(r.geometry)}
        for _, r in frame.iterrows()
    ]  # fmt: skip
    session.execute(
        text(
            "INSERT INTO bench_anchor (code, name, level, geom) "
            "VALUES (:code, :name, :level, ST_GeomFromWKB(:wkb, 4490))"
        ),
        rows,
    )


def main() -> None:
    print(f"DataV import, {POLYGONS} polygons ({PER_SIDE * 4} vertices each); {load()}")
    with tempfile.TemporaryDirectory() as tmp, bench_database() as engine:
        path = Path(tmp) / "datav_bench.json"
        vertices = datav_file(path)
        print(f"  file: {path.stat().st_size / 1e6:.1f} MB, {vertices:,} vertices")
        timed("read (read_any, GCJ-02 → CGCS2000)", lambda: read_any(path, crs="gcj02"))
        with Session(engine) as session:
            _, report = timed(
                "dry run (run_import, rolled back)",
                lambda: run_import(session, kind="areas", path=path, crs="gcj02"),
            )
            assert report.inserted == POLYGONS and not report.rejected, report.render()[:500]
            session.rollback()
        with Session(engine) as session:
            timed(
                "commit (run_import --commit)",
                lambda: run_import(session, kind="areas", path=path, crs="gcj02", commit=True),
            )
            session.commit()
        with Session(engine) as session:
            _, again = timed(
                "re-import (all unchanged)",
                lambda: run_import(session, kind="areas", path=path, crs="gcj02", commit=True),
            )
            assert again.unchanged == POLYGONS, again.render()[:500]
            session.rollback()
        with Session(engine) as session:
            session.execute(
                text(
                    "CREATE TABLE bench_anchor (code text, name text, level text, "
                    "geom geometry(MultiPolygon, 4490))"
                )
            )
            read_s, frame = timed("anchor: pyogrio.read_dataframe", lambda: pyogrio.read_dataframe(path))  # fmt: skip
            insert_s, _ = timed("anchor: executemany INSERT", lambda: anchor_insert(session, frame))
            print(f"  {'anchor: read + insert':<44} {read_s + insert_s:7.2f} s")
            session.rollback()
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
