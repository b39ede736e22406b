"""Generate the synthetic demo county 示范县 (419901): areas, roads, grids, buildings, people.

合成数据, not a real place: every area, road, estate, person and phone number is invented.
Deterministic: a fixed numpy seed, sorted iteration, coordinates rounded to 1e-7 degrees and a fixed
GeoPackage timestamp, so running it twice gives byte-identical files.

Usage (writes next to this script)::

    python data/boundaries/make_demo_county.py
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from shapely.geometry import Point, mapping

OUT = Path(__file__).resolve().parent
sys.path.insert(0, str(OUT.parents[1]))  # the repository root, for gis.*

from _demo_areas import Area, build_areas, build_roads, county_outline, road_keepout  # noqa: E402
from _demo_buildings import build_buildings, dedicated_sites  # noqa: E402
from _demo_grids import (  # noqa: E402
    PRECISION,
    Grid,
    as_multi,
    community_grids,
    entrance,
    make_straddlers,
    number_grids,
    to_exact_lonlat,
)
from _demo_names import NameMaker  # noqa: E402
from _demo_people import Phones, address, aliases, households, staff  # noqa: E402
from _demo_survey import row as survey_row  # noqa: E402
from _demo_survey import survey_buildings  # noqa: E402

from gis.crs import wgs84_to_gcj02  # noqa: E402
from gis.projection import to_metric  # noqa: E402

SEED = 20260701
COUNTY_CODE = "419901"  # 4199xx is not assigned in GB/T 2260 (Henan's prefectures stop at 4117)
COUNTY_NAME = "示范县"
CENTRE = (113.6, 34.5)
NOTE = "合成数据（示范县，非真实地点），由 data/boundaries/make_demo_county.py 生成"
# Deliberate defects for the audits, picked by position so they are stable: (community, grid index).
STRADDLER_COMMUNITIES = ("419901001002", "419901001005", "419901002003")
LEADERLESS_AT = (("419901001004", 2), ("419901002001", 3), ("419901100203", 1), ("419901200202", 2))
ENDED_AT = ("419901101201", 2)
SURVEY_ESTATES = ("419901001003", "419901002005", "419901100001")
SURVEY_VILLAGES = ("419901100201", "419901101202", "419901200200")


def _round(geom):
    return shapely.transform(geom, lambda xy: np.round(xy, 7))


def _to_lonlat(geoms, crs) -> np.ndarray:
    ll = gpd.GeoSeries(list(geoms), crs=crs).to_crs(4490)
    return np.asarray([_round(g) for g in ll], dtype=object)


def build(rng: np.random.Generator) -> dict:
    metric_origin = to_metric(gpd.GeoSeries([Point(CENTRE)], crs=4490))
    crs = metric_origin.crs
    origin = np.array(metric_origin.iloc[0].coords[0])
    county = county_outline(rng, origin)
    towns = build_areas(rng, county, origin, COUNTY_CODE)
    communities = [c for t in towns for c in t.children]
    roads = build_roads(rng, county, origin, towns)
    keepout = road_keepout(roads)
    names = NameMaker(rng)
    sites = dedicated_sites(origin, towns)
    buildings = build_buildings(rng, names, origin, towns, sites, keepout)

    grids = []
    for com in communities:
        own = [b for b in buildings if b.community is com]
        grids += community_grids(com, own, [s for s in sites if s[1] is com])
    by_code = {c.code: c for c in communities}
    straddlers = make_straddlers(
        grids, [by_code[c] for c in STRADDLER_COMMUNITIES], [b.footprint for b in buildings]
    )
    for g, geom in zip(grids, to_exact_lonlat([g.geom_m for g in grids], crs), strict=True):
        g.geom = geom
    number_grids(grids)
    grids.sort(key=lambda g: g.code)

    points, footprints = {}, {}
    for g in grids:
        for b in g.buildings:
            points[b.code] = entrance(b, g.geom_m)
    codes = sorted(points)
    bmap = {b.code: b for b in buildings}
    ll_pts = _to_lonlat([points[c] for c in codes], crs)
    ll_fps = _to_lonlat([bmap[c].footprint for c in codes], crs)
    for c, p, f in zip(codes, ll_pts, ll_fps, strict=True):
        points[c], footprints[c] = p, f
    buildings.sort(key=lambda b: b.code)

    for com in communities:
        com.geom = shapely.union_all(
            [g.geom for g in grids if g.community is com], grid_size=PRECISION
        )
    for t in towns:
        t.geom = shapely.union_all([c.geom for c in t.children], grid_size=PRECISION)
    county_geom = shapely.union_all([t.geom for t in towns], grid_size=PRECISION)

    comp: dict[str, list[Grid]] = {}
    for g in grids:
        comp.setdefault(g.community.code, []).append(g)
    leaderless = [
        [g for g in comp[c] if g.type == "comprehensive"][i].code for c, i in LEADERLESS_AT
    ]
    ended = [g for g in comp[ENDED_AT[0]] if g.type == "comprehensive"][ENDED_AT[1]].code
    phones = Phones(rng, 60_000)
    hh_rows = households(rng, names, phones, buildings)
    staff_rows = staff(rng, names, phones, grids, leaderless, ended)
    surveyed = survey_buildings(
        rng,
        names,
        grids,
        buildings,
        keepout,
        [by_code[c] for c in SURVEY_ESTATES],
        [by_code[c] for c in SURVEY_VILLAGES],
    )
    survey_pts = _to_lonlat([s.point for s in surveyed], crs)
    return dict(
        county=Area(COUNTY_CODE, COUNTY_NAME, "county", origin, None, "", county_geom),
        towns=towns,
        roads=[(r.name, r.cls, _to_lonlat([r.geom], crs)[0]) for r in roads],
        grids=grids,
        buildings=buildings,
        points=points,
        footprints=footprints,
        straddlers=sorted(b.code for b in straddlers),
        households=hh_rows,
        staff=staff_rows,
        survey=list(zip(surveyed, survey_pts, strict=True)),
        leaderless=leaderless,
        ended=ended,
    )


def _geojson(path: Path, name: str, features: list[tuple[dict, object]]) -> None:
    """One feature per line: small diffs, stable bytes, coordinates as rounded above."""
    head = {"type": "FeatureCollection", "name": name, "note": NOTE}
    lines = [json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [']
    for i, (props, geom) in enumerate(features):
        feat = {"type": "Feature", "properties": props, "geometry": mapping(geom)}
        sep = "," if i < len(features) - 1 else ""
        lines.append(json.dumps(feat, ensure_ascii=False, separators=(",", ":")) + sep)
    lines.append("]}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def _gpkg(path: Path, layer: str, gdf: gpd.GeoDataFrame) -> None:
    path.unlink(missing_ok=True)
    pyogrio.write_dataframe(
        gdf, path, layer=layer, driver="GPKG", layer_options={"DESCRIPTION": NOTE}
    )


def write(d: dict) -> None:
    def props(a: Area, level: str, parent: str | None) -> dict:
        return {
            "code": a.code,
            "name": a.name,
            "level": level,
            "parent_code": parent,
            "kind": a.kind,
        }

    areas = [(props(d["county"], "county", None), d["county"].geom)]
    areas += [(props(t, "township", COUNTY_CODE), t.geom) for t in d["towns"]]
    areas += [(props(c, "community", t.code), c.geom) for t in d["towns"] for c in t.children]
    _geojson(OUT / "demo_areas.geojson", "demo_areas", [(p, as_multi(g)) for p, g in areas])
    _geojson(
        OUT / "demo_roads.geojson",
        "demo_roads",
        [({"name": n, "class": c}, g) for n, c, g in d["roads"]],
    )
    grids = d["grids"]
    _gpkg(
        OUT / "demo_grids.gpkg",
        "grids",
        gpd.GeoDataFrame(
            {
                "code": [g.code for g in grids],
                "name": [g.name for g in grids],
                "type": [g.type for g in grids],
                "community_code": [g.community.code for g in grids],
            },
            geometry=[g.geom for g in grids],
            crs=4490,
        ),
    )
    rows = [
        {
            "code": b.code,
            "name": b.name,
            "compound": b.compound,
            "address": address(b),
            "aliases": aliases(b),
            "households": len(b.rooms),
            "community_code": b.community.code,
        }
        for b in d["buildings"]
    ]
    fps = [d["footprints"][r["code"]] for r in rows]
    _gpkg(OUT / "demo_buildings.gpkg", "buildings", gpd.GeoDataFrame(rows, geometry=fps, crs=4490))
    pts = [d["points"][r["code"]] for r in rows]
    _csv(
        OUT / "demo_buildings.csv",
        [r | {"lng": _fmt(p.x), "lat": _fmt(p.y)} for r, p in zip(rows, pts, strict=True)],
    )
    _csv(OUT / "demo_households.csv", d["households"])
    _csv(OUT / "demo_staff.csv", d["staff"])
    survey = []
    for s, p in d["survey"]:
        glng, glat = wgs84_to_gcj02(p.x, p.y)
        survey.append(
            survey_row(s)
            | {"lng": _fmt(float(glng)), "lat": _fmt(float(glat))}
            | {"wgs84_lng": _fmt(p.x), "wgs84_lat": _fmt(p.y)}
        )
    _csv(OUT / "demo_survey_gcj02.csv", survey)


def _fmt(v: float) -> str:
    return f"{v:.7f}"


def main() -> None:
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2026-07-01T00:00:00Z"})
    d = build(np.random.default_rng(SEED))
    write(d)
    print(summary(d))


def summary(d: dict) -> str:
    grids = d["grids"]
    comp = [g.households for g in grids if g.type == "comprehensive"]
    in_band = sum(250 <= h <= 500 for h in comp)
    n_comp = len({(b.community.code, b.compound) for b in d["buildings"]})
    return "\n".join(
        [
            f"townships {len(d['towns'])}, communities {sum(len(t.children) for t in d['towns'])}",
            f"compounds/villages {n_comp}, buildings {len(d['buildings'])}",
            f"households {len(d['households'])}, grids {len(grids)} "
            f"({len(comp)} comprehensive, {in_band} in 250–500, min {min(comp)}, max {max(comp)})",
            f"staff rows {len(d['staff'])}, people {len({r['staff_code'] for r in d['staff']})}",
            f"leaderless {d['leaderless']}, ended {d['ended']}, straddlers {d['straddlers']}",
            f"survey rows {len(d['survey'])}",
        ]
    )


if __name__ == "__main__":
    main()
