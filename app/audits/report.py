"""The self-contained HTML audit report: summary tables and a folium map of the findings.

Folium references Leaflet, jQuery and Bootstrap on CDNs by default. The report drops all of them
and inlines the vendored Leaflet (web/static/vendor/leaflet, from npm leaflet 1.9.4), so it opens
offline. No tile layer: the communities and grids themselves are drawn as the base map.

The page fits any window width (the map is as wide as the page, long cells wrap); its legend is a
small Leaflet control inside the map, its scale metric only. The findings are listed grouped by
kind, and a few lines of inline script (no server) filter the list and the map by kind and by
community or grid.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
from jinja2 import Environment, FileSystemLoader, select_autoescape
from shapely.geometry import shape

from app.audits.kinds import KIND_LABELS
from app.audits.schemas import AuditPublic

ROOT = Path(__file__).resolve().parents[2] / "web"
VENDOR = ROOT / "static" / "vendor" / "leaflet"
COLORS = {"error": "#d7301f", "warning": "#fd8d3c"}


def _leaflet_css() -> str:
    """leaflet.css with its relative image URLs turned into data URIs (nothing to fetch)."""
    css = (VENDOR / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match[str]) -> str:
        path = VENDOR / match.group(1)
        if not path.exists():
            return "url()"
        data = base64.b64encode(path.read_bytes()).decode()
        return f"url(data:image/png;base64,{data})"

    return re.sub(r"url\((images/[^)]+\.png)\)", inline, css)


def _map(audit: AuditPublic, base: dict[str, gpd.GeoDataFrame]) -> folium.Map:
    # The scale is added by the template's script: metric only (folium's also shows miles).
    fmap = folium.Map(tiles=None, control_scale=False, prefer_canvas=False)
    # Nothing from a CDN: the template inlines Leaflet itself.
    fmap.default_js = []
    fmap.default_css = []
    bounds = None
    for name, (frame, style) in {
        "社区": (base.get("communities"), {"color": "#555", "weight": 2, "fillOpacity": 0.05}),
        "网格": (base.get("grids"), {"color": "#2b8cbe", "weight": 1, "fillOpacity": 0.0}),
    }.items():
        if frame is None or frame.empty:
            continue
        folium.GeoJson(
            frame[["code", "geometry"]].to_json(),
            name=name,
            style_function=lambda _f, s=style: {**s, "className": "base-area"},
            tooltip=folium.GeoJsonTooltip(fields=["code"], aliases=["编码"]),
        ).add_to(fmap)
        bounds = frame.total_bounds
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for f in audit.findings:
        if f.geometry is None:
            continue
        by_kind.setdefault(f.kind, []).append(
            {
                "type": "Feature",
                "geometry": f.geometry,
                "properties": {
                    "kind": f.kind_label,
                    "message": f.message,
                    "severity": f.severity,
                    "at": " ".join(f"at-{p}" for p in _places(f.objects)),
                },
            }
        )
    for kind, features in by_kind.items():
        layer = folium.FeatureGroup(name=f"{features[0]['properties']['kind']}（{len(features)}）")
        folium.GeoJson(
            {"type": "FeatureCollection", "features": features},
            style_function=lambda feat, k=kind: {
                "color": COLORS.get(feat["properties"]["severity"], "#d7301f"),
                "weight": 3,
                "fillOpacity": 0.5,
                "className": f"finding finding-{k} {feat['properties']['at']}",
            },
            marker=folium.CircleMarker(radius=6, fill=True),
            tooltip=folium.GeoJsonTooltip(fields=["kind", "message"], aliases=["类别", "说明"]),
        ).add_to(layer)
        layer.add_to(fmap)
        if bounds is None:
            bounds = gpd.GeoSeries([shape(x["geometry"]) for x in features]).total_bounds
    if bounds is not None:
        fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    return fmap


def _places(objects: list[str]) -> list[str]:
    """The communities and grids a finding names (a grid's community too), for the filter."""
    codes = [o for o in objects if o.isdigit() and len(o) in (12, 15)]
    return sorted({*codes, *(c[:12] for c in codes)})


def render_html(audit: AuditPublic, base: dict[str, gpd.GeoDataFrame]) -> str:
    fmap = _map(audit, base)
    root: Any = fmap.get_root()  # a branca Figure: header, html and script parts
    root.render()
    env = Environment(
        loader=FileSystemLoader(ROOT / "templates"), autoescape=select_autoescape(["html"])
    )
    template = env.get_template("audit_report.html")
    groups: dict[str, list[tuple[int, Any]]] = {}
    for i, f in enumerate(audit.findings, start=1):
        groups.setdefault(f.kind, []).append((i, f))
    return template.render(
        audit=audit,
        groups=groups,
        places=sorted({p for f in audit.findings for p in _places(f.objects)}),
        at=lambda f: " ".join(_places(f.objects)),
        map_name=fmap.get_name(),
        colors=COLORS,
        leaflet_css=_leaflet_css(),
        leaflet_js=(VENDOR / "leaflet.js").read_text(encoding="utf-8"),
        map_header=root.header.render(),
        map_html=root.html.render(),
        map_script=root.script.render(),
        labels=KIND_LABELS,
    )
