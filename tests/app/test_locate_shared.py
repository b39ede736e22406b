"""One locate index per machine: workers map the same published index, a grid edit publishes a new
one that every worker answers from, and batches run in a process of their own that can die
without taking the service with it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import numpy as np
import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.errors import ServiceUnavailable
from app.locate.batch import PROCESS_DIED, BatchRunner, batch_process_pid
from app.locate.registry import GridRegistry
from app.locate.shared import IndexStore
from tests.factories import G11, G21, tiny_county

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def county(db):
    tiny_county(db)
    db.commit()


def _worker(db: Session, directory: Path) -> GridRegistry:
    return GridRegistry(
        lambda: db, refresh_seconds=0, edge_distance_m=20.0, index_dir=str(directory)
    )


def _grid_at(registry: GridRegistry, lng: float, lat: float) -> str | None:
    snap = registry.snapshot()
    assert snap.index is not None
    i = snap.index.locate_one(lng, lat)
    return snap.grids[i].code if i >= 0 else None


def test_two_workers_map_one_index_and_follow_a_grid_edit_together(db, county, tmp_path):
    first, second = _worker(db, tmp_path), _worker(db, tmp_path)
    a, b = first.snapshot().index, second.snapshot().index
    assert a is not None and b is not None
    assert a.path == b.path and a.path is not None and a.path.parent == tmp_path
    published = [p.name for p in tmp_path.iterdir() if p.is_dir()]
    assert published == [a.path.name]  # built once, by whichever came first
    # G21 loses its western 0.002°: a point there is now in no grid, for both workers.
    assert _grid_at(first, 113.011, 34.005) == G21 == _grid_at(second, 113.011, 34.005)
    db.execute(
        text(
            "UPDATE grids SET geom = ST_Multi(ST_Difference(geom, "
            "ST_MakeEnvelope(113.0, 33.9, 113.012, 34.1, 4490))) WHERE code = :c"
        ),
        {"c": G21},
    )
    db.commit()  # (each registry's look at the feed ends its session, as a served one does)
    assert _grid_at(first, 113.011, 34.005) is None
    assert _grid_at(second, 113.011, 34.005) is None
    assert _grid_at(second, 113.015, 34.005) == G21 and _grid_at(first, 113.005, 34.005) == G11
    new_a, new_b = first.snapshot().index, second.snapshot().index
    assert new_a is not None and new_b is not None
    assert new_a.path == new_b.path != a.path
    assert a.path.exists()  # the old generation stays for whoever still maps it, until pruned


_CHILD = """
import json, sys
import numpy as np
from gis.pointindex import PolygonIndex
def status():
    lines = open("/proc/self/status").read().splitlines()
    kb = {k: int(v.split()[0]) * 1024 for k, v in (l.split(":", 1) for l in lines) if k.startswith("Rss")}
    return kb["RssAnon"], kb["RssFile"] + kb["RssShmem"]
anon0, file0 = status()
index = PolygonIndex.open(sys.argv[1])
touched = [float(np.asarray(a).sum(dtype=np.float64)) for a in index._arrays.values()]
anon1, file1 = status()
maps = open("/proc/self/maps").read()
print(json.dumps({"own": anon1 - anon0, "mapped": file1 - file0,
                  "maps_it": sys.argv[1] in maps, "nbytes": index.nbytes}))
"""


def test_a_second_process_maps_the_index_without_a_copy_of_its_own(tmp_path):
    rng = np.random.default_rng(2)
    area = shapely.box(113.0, 34.0, 113.5, 34.5)
    seeds = shapely.multipoints(np.c_[rng.uniform(113, 113.5, 3000), rng.uniform(34, 34.5, 3000)])
    shapes = shapely.intersection(
        shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=area)), area
    )
    index = IndexStore(tmp_path).index(list(shapely.to_wkb(shapes)), edge_distance_m=20.0)
    assert index.path is not None and index.nbytes > 10e6
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(index.path)],
        capture_output=True, text=True, check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    child = json.loads(out.stdout)
    assert child["maps_it"]
    # Every page was read: resident as pages of the mapped file, which every process mapping it
    # shares; what the process holds of its own (anonymous memory) is a small part.
    assert child["mapped"] > 0.8 * child["nbytes"]
    assert child["own"] < 0.1 * child["nbytes"]


def test_a_batch_process_that_dies_gives_a_clear_503_and_the_next_batch_works(client, county):
    points = [
        {"id": "a", "lng": 113.002, "lat": 34.005},
        {"id": "b", "lng": 113.015, "lat": 34.005},
    ]
    assert client.post("/api/v1/locate", json=points).status_code == 200

    async def crash() -> None:
        await BatchRunner(4).call(os._exit, 3)  # the process dies in the middle of work

    with pytest.raises(ServiceUnavailable) as info:
        anyio.run(crash)
    assert info.value.message == PROCESS_DIED and "重新提交" in info.value.message

    r = client.post("/api/v1/locate", json=points)
    assert r.status_code == 200
    assert [row["grid_code"] for row in r.json()["rows"]] == [G11, G21]

    # Killed from outside while idle: the next batch starts a new process and is answered.
    pid = batch_process_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    r = client.post("/api/v1/locate?f=csv", json=points)
    assert r.status_code == 200 and r.text.count(G21) == 1
    assert batch_process_pid() not in (None, pid)
