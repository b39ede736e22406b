"""Make the demo county's standard addresses (合成数据, synthetic): its streets and door numbers.

    python data/boundaries/make_demo_addresses.py     # a second or two; writes next to the script

Reads `demo_roads.geojson` and `demo_buildings.csv` (never `app`), writes `demo_streets.geojson`
(the four arterials and the village roads of `demo_roads.geojson`, plus invented town streets and
lanes) and `demo_door_numbers.csv` (door numbers, the buildings behind them). Deterministic: sorted
iteration, no randomness, coordinates rounded to 1e-7 degrees.

How numbers are given (docs/addresses.md): along each road a door every 20 m of length per side,
numbering from 1 at the line's first point, odd on the left (左单右双). Each compound within 300 m
of a road gets the number at its position along its nearest road, on its side: one gate for the
compound (its buildings behind it), or, for compounds of up to three buildings, one number per
building (consecutive numbers of the same parity). A compound of more than six buildings gets a
second gate, suffix "-1", for its second half. Every fourth door has no surveyed point (its
coordinates are left empty), so the import places it by interpolation along the road.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

from shapely.geometry import LineString, Point, shape

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from gis.addressing import side_of  # noqa: E402
from gis.projection import geometry_to_metric  # noqa: E402

COUNTY = "419901"
SPACING_M = 20.0
REACH_M = 300.0
NOTE = "合成数据（synthetic）：示范县的街路巷与门牌，均为虚构，不对应任何真实地点。"

# Invented town streets and lanes: name, aliases, points (west→east or south→north).
TOWN_STREETS: list[tuple[str, list[str], list[tuple[float, float]]]] = [
    ("和平路", [], [(113.5600, 34.4955), (113.5900, 34.4955)]),
    ("中山街", [], [(113.5600, 34.5155), (113.6150, 34.5155)]),
    ("新华街", [], [(113.5770, 34.4880), (113.5770, 34.5250)]),
    ("东风路", ["东风大道"], [(113.6030, 34.5000), (113.6030, 34.5260)]),
    ("朝阳路", [], [(113.6125, 34.5040), (113.6125, 34.5200)]),
    ("育才巷", [], [(113.5680, 34.5010), (113.5850, 34.5010)]),
    ("槐树巷", [], [(113.5835, 34.5120), (113.5835, 34.5220)]),
    ("光明街", [], [(113.5820, 34.5280), (113.5960, 34.5280)]),
]
# Door numbers without buildings (shop fronts), placed by interpolation only.
EXTRA_DOORS = [("人民路", 15), ("人民路", 16), ("文化路", 1)]
# Former names people still use (别名).
ALIASES = {"解放路": ["红旗路"], "文化路": ["文化大道"]}


def _round(xy: tuple[float, float]) -> list[float]:
    return [round(xy[0], 7), round(xy[1], 7)]


def main() -> None:
    roads: list[tuple[str, list[str], LineString]] = []
    for f in json.loads((HERE / "demo_roads.geojson").read_text(encoding="utf-8"))["features"]:
        name, klass = f["properties"]["name"], f["properties"]["class"]
        if klass in ("arterial", "local"):
            roads.append((name, ALIASES.get(name, []), shape(f["geometry"])))
    roads += [(n, a, LineString(pts)) for n, a, pts in TOWN_STREETS]
    roads.sort(key=lambda r: r[0])
    metric = {name: geometry_to_metric(line, 114.0) for name, _, line in roads}
    last = {name: 2 * math.ceil(metric[name].length / SPACING_M) + 2 for name, _, _ in roads}

    compounds: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    with (HERE / "demo_buildings.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            compounds[(row["community_code"], row["compound"])].append(row)

    taken: dict[str, set[tuple[int, str]]] = defaultdict(set)
    doors: list[dict[str, str]] = []
    for (community, compound), rows in sorted(compounds.items()):
        rows.sort(key=lambda r: r["code"])
        cx = sum(float(r["lng"]) for r in rows) / len(rows)
        cy = sum(float(r["lat"]) for r in rows) / len(rows)
        centre = Point(cx, cy)
        mc = geometry_to_metric(centre, 114.0)
        dist, name, line = min((metric[n].distance(mc), n, ln) for n, _, ln in roads)
        if dist > REACH_M:
            continue
        along = metric[name].project(mc) / metric[name].length
        odd = side_of(line, centre) == "left"
        k = round(along * (last[name] - 1) / 2)
        number = 2 * k + (1 if odd else 2)
        groups = [rows] if len(rows) > 3 else [[r] for r in rows]
        for group in groups:
            while (number, "") in taken[name]:
                number += 2
            parts = [("", group)]
            if len(group) > 6:
                half = (len(group) + 1) // 2
                parts = [("", group[:half]), ("-1", group[half:])]
            for suffix, members in parts:
                taken[name].add((number, suffix))
                gate = members[0]
                doors.append(
                    {
                        "road": name,
                        "number": str(number),
                        "suffix": suffix,
                        "community_code": community,
                        "lng": gate["lng"],
                        "lat": gate["lat"],
                        "building_codes": "|".join(m["code"] for m in members),
                        "compound": compound,
                    }
                )
            number += 2
    # Shop fronts on the arterials: door numbers with no building behind them, never surveyed.
    for name, number in EXTRA_DOORS:
        doors.append(
            {
                "road": name,
                "number": str(number),
                "suffix": "",
                "community_code": "",
                "lng": "",
                "lat": "",
                "building_codes": "",
                "compound": "",
            }
        )
    for i, door in enumerate(doors):
        if i % 4 == 3 or not door["lng"]:
            door["lng"] = door["lat"] = ""  # not surveyed: placed by interpolation on import

    features = [
        {
            "type": "Feature",
            "properties": {
                "name": name,
                "county_code": COUNTY,
                "aliases": "|".join(aliases),
                "first_number": 1,
                "last_number": last[name],
                "odd_side": "left",
            },
            "geometry": {"type": "LineString", "coordinates": [_round(c) for c in line.coords]},
        }
        for name, aliases, line in roads
    ]
    doc = {"type": "FeatureCollection", "note": NOTE, "features": features}
    (HERE / "demo_streets.geojson").write_text(
        json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    columns = [
        "road",
        "number",
        "suffix",
        "community_code",
        "lng",
        "lat",
        "building_codes",
        "compound",
    ]
    with (HERE / "demo_door_numbers.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(doors)
    print(f"{len(roads)} roads, {len(doors)} door numbers")


if __name__ == "__main__":
    main()
