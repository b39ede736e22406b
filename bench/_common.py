"""Shared bench plumbing: a throwaway PostGIS cluster and a generated county of N grids.

Benchmarks print figures; they are run by hand (``python bench/bench_x.py``), not by CI.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import Engine, create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import migrate  # noqa: E402
from app.embedded import EmbeddedCluster  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def bench_database() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory(prefix="gridgov-bench-") as tmp:
        Path(tmp).chmod(0o755)
        cluster = EmbeddedCluster(Path(tmp), free_port(), fast_unsafe=True)
        cluster.start()
        engine = create_engine(cluster.url(), pool_size=4)
        try:
            migrate.upgrade(engine)
            yield engine
        finally:
            engine.dispose()
            cluster.stop()


COUNTY_BOX = (113.40, 34.40, 113.80, 34.70)  # about 37 km × 33 km


def generated_county(
    engine: Engine, *, communities: int = 30, grids_per_community: int = 100, seed: int = 7
) -> list[shapely.Geometry]:
    """A county of ``communities`` vertical strips, each tiled by Voronoi grids. Returns the grids."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = COUNTY_BOX
    width = (maxx - minx) / communities
    grids: list[shapely.Geometry] = []
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO areas (code, name, level, kind, parent_code, geom) VALUES "
                "('419901', '基准县', 'county', 'county', NULL, ST_Multi(ST_MakeEnvelope(:a,:b,:c,:d,4490))),"
                "('419901001', '基准街道', 'township', 'street', '419901', ST_Multi(ST_MakeEnvelope(:a,:b,:c,:d,4490)))"
            ),
            {"a": minx, "b": miny, "c": maxx, "d": maxy},
        )
        for c in range(communities):
            strip = shapely.box(minx + c * width, miny, minx + (c + 1) * width, maxy)
            ccode = f"419901001{c + 1:03d}"
            conn.execute(
                text(
                    "INSERT INTO areas (code, name, level, kind, parent_code, geom) VALUES "
                    "(:code, :name, 'community', 'residents', '419901001', ST_Multi(ST_GeomFromText(:wkt, 4490)))"
                ),
                {"code": ccode, "name": f"社区{c + 1}", "wkt": strip.wkt},
            )
            seeds = shapely.points(
                rng.uniform(strip.bounds[0], strip.bounds[2], grids_per_community),
                rng.uniform(miny, maxy, grids_per_community),
            )
            cells = shapely.get_parts(
                shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=strip)
            )
            cells = [shapely.intersection(cell, strip) for cell in cells]
            cells = [shapely.set_precision(cell, 1e-9) for cell in cells]
            rows = [
                {"code": f"{ccode}{i + 1:03d}", "cc": ccode, "wkt": cell.wkt}
                for i, cell in enumerate(cells)
            ]
            conn.execute(
                text(
                    "INSERT INTO grids (code, name, community_code, geom, status, valid_from) "
                    "VALUES (:code, :code, :cc, ST_Multi(ST_GeomFromText(:wkt, 4490)), 'active', CURRENT_DATE)"
                ),
                rows,
            )
            grids.extend(cells)
    return grids


def random_points(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = COUNTY_BOX
    return rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)


class Timer:
    def __enter__(self) -> Timer:
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.t0


def uvicorn_server(
    engine: Engine, port: int, workers: int = 2, refresh_seconds: float = 30
) -> subprocess.Popen[bytes]:
    env = {
        "GRIDGOV_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "GRIDGOV_LOCATE_REFRESH_SECONDS": str(refresh_seconds),
        "PATH": "/usr/bin:/bin:/usr/local/bin",
        # A throwaway signing key for the throwaway server (the app refuses to start without one).
        "GRIDGOV_SECRET_KEY": os.environ.get("GRIDGOV_SECRET_KEY") or secrets.token_urlsafe(48),
    }
    env = {**os.environ, **env}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.asgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
    )
    import urllib.request

    for _ in range(900):  # up to 90 s: importing the app is slow on a busy 2-core machine
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("uvicorn did not start")
