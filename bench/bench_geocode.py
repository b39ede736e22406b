"""Geocoder throughput (docs/addresses.md#throughput): the golden set and 100,000 generated
addresses matched in process against the demo county's gazetteer, beside a plain anchor (an exact
dict lookup of the normalised text: the least any matcher must do) and the load average.

    python bench/bench_geocode.py [N]      # N generated addresses, default 100000

Goal: at least 2,000 addresses a second in one process.
"""

from __future__ import annotations

import csv
import os
import random
import sys
import time

from _common import ROOT, bench_database
from sqlalchemy.orm import Session

from app.demo import DEMO_DIR
from app.geocode.address import normalize
from app.geocode.gazetteer import Gazetteer
from app.geocode.service import load_gazetteer
from app.imports.service import run_import

PLACES = [
    ("areas", "demo_areas.geojson"),
    ("grids", "demo_grids.gpkg"),
    ("buildings", "demo_buildings.csv"),
    ("roads", "demo_streets.geojson"),
    ("door_numbers", "demo_door_numbers.csv"),
]
CN = "零一二三四五六七八九"
PREFIXES = ["", "", "", "示范县", "河南省示范县", "河南省郑州市示范县城关街道"]
MARKS = ["号楼", "栋", "幢", "#楼", "座"]


def cn_number(n: int) -> str:
    return "".join(CN[int(d)] for d in str(n))


def typo(name: str, rng: random.Random) -> str:
    i = rng.randrange(len(name) - 1)  # never the road-type character
    return name[:i] + "民华明新"[rng.randrange(4)] + name[i + 1 :]


def generate(g: Gazetteer, n: int, seed: int = 7) -> list[str]:
    """Address variants of the gazetteer's doors and buildings, in the forms people write."""
    rng = random.Random(seed)
    doors, buildings = list(g.doors), [e for e in g.entries if e.compound]
    by_id = {e.building_id: e for e in g.entries}
    out = []
    for _ in range(n):
        prefix = rng.choice(PREFIXES)
        form = rng.randrange(6)
        if form <= 2:
            d = rng.choice(doors)
            road = typo(d.road, rng) if form == 2 and rng.random() < 0.5 else d.road
            number = cn_number(d.number) if rng.random() < 0.2 else str(d.number)
            text = f"{prefix}{road}{number}{d.suffix}号"
            if form >= 1 and d.building_ids:
                e = by_id[rng.choice(d.building_ids)]
                text += f"{e.compound if rng.random() < 0.5 else ''}{e.building}"
            if rng.random() < 0.3:
                text += f"{rng.randint(1, 4)}单元{rng.randint(1, 6)}0{rng.randint(1, 2)}"
        else:
            e = rng.choice(buildings)
            name = e.building
            if name.endswith("号楼") and form == 4:
                name = name[:-2] + rng.choice(MARKS)
            text = f"{prefix}{e.community if rng.random() < 0.3 else ''}{e.compound}{name}"
            if form == 5:
                text += f"{rng.randint(1, 4)}单元{rng.randint(1, 6)}0{rng.randint(1, 2)}室"
        out.append(text)
    return out


def timed(label: str, texts: list[str], fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for t in texts:
        fn(t)
    seconds = time.perf_counter() - start
    rate = len(texts) / seconds
    print(f"  {label:<42} {len(texts):>7} addresses  {seconds:7.2f} s  {rate:>10,.0f} /s")
    return rate


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with bench_database() as engine, Session(engine) as session:
        for kind, name in PLACES:
            run_import(session, kind=kind, path=DEMO_DIR / name, commit=True)
        session.flush()
        start = time.perf_counter()
        g = load_gazetteer(session)
        built = time.perf_counter() - start
    with (ROOT / "tests" / "geocode" / "golden_addresses.csv").open(encoding="utf-8") as fh:
        golden = [r["address"] for r in csv.DictReader(fh)]
    generated = generate(g, n)
    anchor = {normalize(e.address): e for e in g.entries}
    for d in g.doors:
        anchor[normalize(d.label)] = d  # type: ignore[assignment]
    print(f"gazetteer: {len(g.entries)} buildings, {len(g.roads)} roads, {len(g.doors)} doors; "
          f"built in {built:.2f} s")  # fmt: skip
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    g.match(golden[0])  # warm the caches every process has after its first request
    timed("golden set: Gazetteer.match", golden * 20, g.match)
    timed("golden set: anchor dict[normalize(text)]", golden * 20,
          lambda t: anchor.get(normalize(t)))  # fmt: skip
    rate = timed("generated: Gazetteer.match", generated, g.match)
    timed("generated: anchor dict[normalize(text)]", generated, lambda t: anchor.get(normalize(t)))
    answered = sum(1 for t in generated[:5000] if g.match(t).best is not None)
    print(f"generated: {answered / 50:.1f} % of the first 5,000 answered")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} CPUs)")  # fmt: skip
    print(f"goal >= 2,000/s in process: {'met' if rate >= 2000 else 'NOT met'}")


if __name__ == "__main__":
    main()
