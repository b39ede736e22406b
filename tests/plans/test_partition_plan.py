"""Plans from the automatic partition (gis.partition), over the API and the CLI."""

from __future__ import annotations

import pytest
from shapely.geometry import LineString, box, shape

from tests.factories import C1, add_building, tiny_county


def _four_buildings(db) -> None:  # type: ignore[no-untyped-def]
    # 4 × 150 households in the four quarters of community C1: two grids of 300 fit the band.
    for i, (x, y) in enumerate(
        [(113.002, 34.002), (113.002, 34.008), (113.008, 34.002), (113.008, 34.008)]
    ):
        add_building(db, f"P{i}", C1, x, y, 150)


def test_partition_plan_tiles_the_community_inside_the_band(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    _four_buildings(db)
    r = client.post(
        "/api/v1/plans",
        json={"community_code": C1, "source": "partition", "target": 300, "band": [250, 500]},
        headers=token_for("planner"),
    )
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["source"] == "partition"
    # B1 (2 households) is in C1 too: 602 households in two grids, both in band, no code yet.
    assert sorted(g["households"] for g in plan["grids"]) == [300, 302]
    assert all(g["in_band"] and g["contiguous"] and g["code"] is None for g in plan["grids"])
    assert plan["validation"]["ok"] is True, plan["validation"]["errors"]


def test_partition_band_without_target_is_422(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    r = client.post(
        "/api/v1/plans",
        json={"community_code": C1, "source": "partition", "target": 300, "band": [400, 500]},
        headers=token_for("planner"),
    )
    assert r.status_code == 422


def test_cli_parser_reads_band() -> None:
    from app.cli import build_parser

    args = build_parser().parse_args(["partition", "--community", C1, "--band", "200-400"])
    # No --target: the service falls back to the county's setting (GRIDGOV_HOUSEHOLD_TARGET).
    assert (args.community, args.target, args.band) == (C1, None, (200, 400))


def _barrier(db, wkt: str) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    db.execute(
        text(
            "INSERT INTO barriers (name, class, geom) VALUES ('幸福路', 'arterial', ST_Multi(ST_GeomFromText(:w, 4490)))"
        ),
        {"w": wkt},
    )
    db.flush()


@pytest.mark.parametrize(
    "road",
    [
        LineString([(113.0, 34.0055), (113.01, 34.0055)]),  # east-west: grids north and south of it
        LineString([(113.0055, 34.0), (113.0055, 34.01)]),  # north-south: grids west and east of it
    ],
)
def test_partition_plan_does_not_cross_a_road(db, client, token_for, road) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    _four_buildings(db)
    _barrier(db, road.wkt)
    r = client.post(
        "/api/v1/plans",
        json={"community_code": C1, "source": "partition", "target": 300, "band": [250, 500]},
        headers=token_for("planner"),
    )
    assert r.status_code == 201, r.text
    grids = [shape(g["geometry"]) for g in r.json()["grids"]]
    assert len(grids) == 2
    for grid in grids:
        # The road may run along a grid's edge, never through its interior.
        assert grid.intersection(road).length < 1e-9 or grid.boundary.buffer(1e-9).covers(
            grid.intersection(road)
        )


def test_barriers_import_from_the_demo_roads(db) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from app.imports.service import run_import

    path = Path(__file__).resolve().parents[2] / "data" / "boundaries" / "demo_roads.geojson"
    first = run_import(db, kind="barriers", path=path, commit=True)
    assert first.inserted == 19 and not first.rejected
    again = run_import(db, kind="barriers", path=path, commit=True)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 19)


def test_repartition_plan_redivides_only_the_out_of_band_grid_and_its_neighbour(
    db, client, token_for
) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import add_area, add_grid

    tiny_county(db)
    c3 = "419901001003"
    add_area(
        db, c3, "新城社区", "community", "residents", box(113.02, 34.0, 113.05, 34.01), "419901001"
    )
    west, middle, east = (box(113.02 + 0.01 * k, 34.0, 113.03 + 0.01 * k, 34.01) for k in range(3))
    for serial, cell in zip(("001", "002", "003"), (west, middle, east), strict=True):
        add_grid(db, c3 + serial, cell)
    # 300 households west, 300 in the middle, 900 east (a new estate): only east is out of band.
    homes = [(113.0225, 2), (113.0325, 2), (113.0425, 6)]
    n = 0
    for x0, count in homes:
        for k in range(count):
            n += 1
            add_building(db, f"R{n}", c3, x0 + 0.0008 * (k % 3), 34.002 + 0.003 * (k // 3), 150)
    db.flush()
    r = client.post(
        "/api/v1/plans",
        json={"community_code": c3, "source": "repartition"},
        headers=token_for("planner"),
    )
    assert r.status_code == 201, r.text
    plan = r.json()
    grids = {g["code"]: g for g in plan["grids"] if g["code"]}
    # The west grid is not a neighbour of the east one: kept, same code, same shape.
    assert list(grids) == [c3 + "001"]
    assert shape(grids[c3 + "001"]["geometry"]).symmetric_difference(west).area < 1e-14
    assert all(g["in_band"] for g in plan["grids"]) and len(plan["grids"]) >= 4
    assert sum(g["households"] for g in plan["grids"]) == 1500
    assert plan["validation"]["ok"] is True, plan["validation"]["errors"]
    assert any("保留 1 个网格" in n for n in plan["notes"])
