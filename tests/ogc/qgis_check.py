"""Open gridgov's OGC API in QGIS (Debian's python3-qgis, offscreen) and report what QGIS sees.

Run by tests/ogc/test_clients.py with /usr/bin/python3 (the Debian interpreter that has the
``qgis`` package; a virtual environment's python usually cannot import it):

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/ogc/qgis_check.py ROOT LAYER... --gk URL EPSG

ROOT is the server (http://host:port); each LAYER is a collection id opened with QGIS's OAPIF
provider; ``--gk`` names an items URL the server answers in a Gauss-Krüger CRS (EPSG code given),
read through QGIS's OGR provider. Prints one JSON document on stdout: per layer whether it is
valid, its CRS, feature count, field names, and each feature's attributes and vertices; for the
Gauss-Krüger check, the server's vertices and QGIS's own transformation of the OAPIF layer's
vertices into the same CRS. Exit status 3 when QGIS cannot be imported (the message says why).
"""

from __future__ import annotations

import json
import os
import sys


def _vertices(geom) -> list[list[float]]:  # type: ignore[no-untyped-def]
    return [[round(v.x(), 7), round(v.y(), 7)] for v in geom.vertices()]


def main(argv: list[str]) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        from qgis.core import (
            Qgis,
            QgsApplication,
            QgsCoordinateReferenceSystem,
            QgsCoordinateTransform,
            QgsProject,
            QgsVectorLayer,
        )
    except ImportError as exc:
        print(f"QGIS is not importable from {sys.executable}: {exc}", file=sys.stderr)
        return 3
    root, rest = argv[0], argv[1:]
    gk_url = gk_epsg = None
    if "--gk" in rest:
        i = rest.index("--gk")
        gk_url, gk_epsg = rest[i + 1], rest[i + 2]
        rest = rest[:i]
    app = QgsApplication([], False)
    app.initQgis()
    report: dict = {"qgis": Qgis.QGIS_VERSION, "layers": {}}
    try:
        for name in rest:
            uri = f"url='{root}/ogc' typename='{name}' pagingEnabled='true' preferCoordinatesForWfsT11='false'"
            layer = QgsVectorLayer(uri, name, "OAPIF")
            entry: dict = {"valid": layer.isValid()}
            if layer.isValid():
                entry["crs"] = layer.crs().authid()
                entry["count"] = layer.featureCount()
                entry["fields"] = [f.name() for f in layer.fields()]
                entry["features"] = {
                    str(f["id"] if "id" in entry["fields"] else f.id()): {
                        "attributes": {
                            k: (None if f[k] is None or str(f[k]) == "NULL" else str(f[k]))
                            for k in entry["fields"]
                        },
                        "vertices": _vertices(f.geometry()),
                    }
                    for f in layer.getFeatures()
                }
                if gk_url and name == "grids":
                    target = QgsCoordinateReferenceSystem(f"EPSG:{gk_epsg}")
                    xform = QgsCoordinateTransform(layer.crs(), target, QgsProject.instance())
                    entry["gk_by_qgis"] = {}
                    for f in layer.getFeatures():
                        g = f.geometry()
                        g.transform(xform)
                        entry["gk_by_qgis"][str(f["code"])] = [
                            [round(v.x(), 3), round(v.y(), 3)] for v in g.vertices()
                        ]
            else:
                entry["error"] = layer.error().summary()
            report["layers"][name] = entry
        if gk_url:
            served = QgsVectorLayer(f"/vsicurl/{gk_url}", "gk", "ogr")
            report["gk_served"] = {"valid": served.isValid()}
            if served.isValid():
                report["gk_served"]["features"] = {
                    str(f["code"]): [
                        [round(v.x(), 3), round(v.y(), 3)] for v in f.geometry().vertices()
                    ]
                    for f in served.getFeatures()
                }
    finally:
        print(json.dumps(report, ensure_ascii=False), flush=True)
        sys.stderr.flush()
    return 0


if __name__ == "__main__":
    # QGIS 3.22 may crash in its own teardown (exitQgis, Qt's destructors) after the work is done:
    # the report is printed and flushed, so leave without running them.
    os._exit(main(sys.argv[1:]))
