"""One audit, several formats: GeoJSON (QGIS opens it), CSV, and the self-contained HTML report."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from app.audits.schemas import AuditPublic

CSV_COLUMNS = ["kind", "kind_label", "severity", "objects", "area_m2", "new", "message", "wkt"]


def to_geojson(audit: AuditPublic) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "name": f"audit_{audit.id}_{audit.area_code}",
        # EPSG:4490 lon/lat; RFC 7946 readers take it as WGS84, which CGCS2000 matches at map scale.
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}},
        "features": [
            {
                "type": "Feature",
                "geometry": f.geometry,
                "properties": {
                    "kind": f.kind,
                    "kind_label": f.kind_label,
                    "severity": f.severity,
                    "objects": ";".join(f.objects),
                    "area_m2": f.area_m2,
                    "new": f.new,
                    "message": f.message,
                },
            }
            for f in audit.findings
        ],
    }


def to_csv(audit: AuditPublic) -> str:
    from shapely.geometry import shape

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for f in audit.findings:
        wkt = shape(f.geometry).wkt if f.geometry else ""
        area = "" if f.area_m2 is None else f"{f.area_m2:.1f}"
        writer.writerow(
            [f.kind, f.kind_label, f.severity, ";".join(f.objects), area, f.new, f.message, wkt]
        )
    # A byte-order mark so Excel opens the Chinese text as UTF-8.
    return "\ufeff" + buf.getvalue()


def to_json(audit: AuditPublic) -> str:
    return json.dumps(audit.model_dump(mode="json"), ensure_ascii=False, indent=2)
