"""Make the synthetic samples of the boundary files that exist in the wild (docs/imports.md).

合成数据（非真实地点）: a made-up province 99 示范省 (no province is numbered 99 in GB/T 2260),
drawn as rectangles over an empty patch of map near 100.5°E 30.3°N. Nothing is downloaded; every
file is written from the numbers below, deterministically (two runs give identical files).

- ``datav_990000_full.json``: DataV/Aliyun GeoJSON as its boundary service serves it (``adcode``
  as a number, ``level`` = province | city | district | street, ``parent: {adcode}``, ``center``,
  ``centroid``, ``childrenNum``, ``acroutes``), coordinates in GCJ-02 as AMap's are: import with
  ``--crs gcj02``.
- ``tjyqhdm_99.csv`` and ``tjyqhdm_99.xlsx``: a statistical area code table (统计用区划代码) as
  the statistics bureau publishes it: 12-digit codes padded with zeros, names, and the urban-rural
  class (城乡分类代码) on villages and communities. No geometry.
- ``villages_99.geojson``: village outlines as a land survey (三调) delivers them, with its own
  field names (ZLDWDM code, ZLDWMC name): import with ``--map code=ZLDWDM --map name=ZLDWMC``.

Run: ``python data/samples/make_samples.py`` (writes next to this file).
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from gis.crs import from_wgs84  # noqa: E402

NOTE = "合成数据（示范省，非真实地点），由 data/samples/make_samples.py 生成"
WEST, SOUTH, EAST, NORTH = 100.0, 30.0, 101.0, 30.6

# (code, name, level, box in CGCS2000 lon/lat); the province and its one prefecture share a box.
COUNTIES = [("990101", "甲县", (WEST, SOUTH, 100.5, NORTH)), ("990102", "乙县", (100.5, SOUTH, EAST, NORTH))]  # fmt: skip
STREETS = [
    ("990101001", "城关街道", (WEST, 30.3, 100.5, NORTH)),
    ("990101101", "东岭镇", (WEST, SOUTH, 100.5, 30.3)),
    ("990102001", "河西街道", (100.5, 30.3, EAST, NORTH)),
    ("990102201", "北坡乡", (100.5, SOUTH, EAST, 30.3)),
]
# Villages and communities of 城关街道 (urban-rural class: 111 main urban area, 220 village).
VILLAGES = [
    ("990101001001", "文昌社区委员会", "111", (WEST, 30.45, 100.25, NORTH)),
    ("990101001002", "南门社区委员会", "112", (100.25, 30.45, 100.5, NORTH)),
    ("990101001201", "杨庄村委会", "220", (WEST, 30.3, 100.25, 30.45)),
    ("990101001202", "李湾村委会", "220", (100.25, 30.3, 100.5, 30.45)),
]


def ring(
    box: tuple[float, float, float, float], crs: str = "cgcs2000", per_side: int = 10
) -> list[list[float]]:
    """A rectangle's ring, densified (``per_side`` points a side) so a coordinate shift bends it
    as it bends a real boundary."""
    x0, y0, x1, y1 = box
    n = per_side
    pts = [(x0 + (x1 - x0) * k / n, y0) for k in range(n)]
    pts += [(x1, y0 + (y1 - y0) * k / n) for k in range(n)]
    pts += [(x1 - (x1 - x0) * k / n, y1) for k in range(n)]
    pts += [(x0, y1 - (y1 - y0) * k / n) for k in range(n)]
    pts.append(pts[0])
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    if crs != "cgcs2000":
        xs, ys = from_wgs84(xs, ys, crs)  # type: ignore[assignment]
    return [[round(float(x), 6), round(float(y), 6)] for x, y in zip(xs, ys, strict=True)]


def datav_feature(
    adcode: int, name: str, level: str, parent: int, box: tuple[float, float, float, float],
    children: int, index: int, per_side: int = 10,
) -> dict[str, Any]:  # fmt: skip
    """One feature as DataV's boundary service writes it (GCJ-02 coordinates)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    gx, gy = from_wgs84([cx], [cy], "gcj02")
    center = [round(float(gx[0]), 6), round(float(gy[0]), 6)]
    # The codes above, from the country down, as DataV lists them.
    above = {"province": 0, "city": 1, "district": 2, "street": 3}[level]
    acroutes = [
        100000,
        int(str(adcode)[:2]) * 10000,
        int(str(adcode)[:4]) * 100,
        int(str(adcode)[:6]),
    ][: above + 1]
    return {
        "type": "Feature",
        "properties": {
            "adcode": adcode,
            "name": name,
            "center": center,
            "centroid": center,
            "childrenNum": children,
            "level": level,
            "parent": {"adcode": parent},
            "subFeatureIndex": index,
            "acroutes": acroutes,
        },
        "geometry": {"type": "MultiPolygon", "coordinates": [[ring(box, "gcj02", per_side)]]},
    }


def datav_collection() -> dict[str, Any]:
    whole = (WEST, SOUTH, EAST, NORTH)
    features = [
        datav_feature(990000, "示范省", "province", 100000, whole, 1, 0),
        datav_feature(990100, "示范市", "city", 990000, whole, len(COUNTIES), 0),
    ]
    for k, (code, name, box) in enumerate(COUNTIES):
        features.append(datav_feature(int(code), name, "district", 990100, box, 2, k))
    for k, (code, name, box) in enumerate(STREETS):
        features.append(datav_feature(int(code), name, "street", int(code[:6]), box, 0, k))
    return {"type": "FeatureCollection", "note": NOTE, "features": features}


def code_table() -> list[tuple[str, str, str]]:
    """(统计用区划代码, 城乡分类代码, 名称) rows, as the published tables order them."""
    rows = [("990000000000", "", "示范省"), ("990100000000", "", "示范市")]
    for code, name, _box in COUNTIES:
        rows.append((code + "000000", "", name))
        for s_code, s_name, _sbox in STREETS:
            if s_code.startswith(code):
                rows.append((s_code + "000", "", s_name))
                for v_code, v_name, klass, _vbox in VILLAGES:
                    if v_code.startswith(s_code):
                        rows.append((v_code, klass, v_name))
    return rows


def villages_collection() -> dict[str, Any]:
    features = [
        {
            "type": "Feature",
            "properties": {"ZLDWDM": code, "ZLDWMC": name, "BSM": k + 1},
            "geometry": {"type": "Polygon", "coordinates": [ring(box)]},
        }
        for k, (code, name, _klass, box) in enumerate(VILLAGES)
    ]
    return {"type": "FeatureCollection", "note": NOTE, "features": features}


def write_json(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", "utf-8")


def write_xlsx(path: Path, header: list[str], rows: list[tuple[str, ...]]) -> None:
    import datetime as dt

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "统计用区划代码"
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    book.properties.creator = "gridgov make_samples.py"
    book.properties.description = NOTE
    fixed = dt.datetime(2026, 1, 1)
    book.properties.created = book.properties.modified = fixed
    buffer = io.BytesIO()
    book.save(buffer)
    # Same bytes on every run: the zip's member times and the save time openpyxl stamps are fixed.
    stamp = re.compile(rb"<dcterms:modified[^>]*>[^<]*</dcterms:modified>")
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = stamp.sub(
                    b'<dcterms:modified xsi:type="dcterms:W3CDTF">2026-01-01T00:00:00Z</dcterms:modified>',
                    data,
                )
            member = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(member, data)


def main() -> None:
    write_json(HERE / "datav_990000_full.json", datav_collection())
    header = ["统计用区划代码", "城乡分类代码", "名称"]
    rows = code_table()
    with (HERE / "tjyqhdm_99.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    write_xlsx(HERE / "tjyqhdm_99.xlsx", header, rows)
    write_json(HERE / "villages_99.geojson", villages_collection())
    print(
        f"wrote {len(rows)} code-table rows and {len(datav_collection()['features'])} DataV features"
    )


if __name__ == "__main__":
    main()
