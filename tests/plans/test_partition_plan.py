"""Plans from the automatic partition (gis.partition), over the API and the CLI."""

from __future__ import annotations

from geoalchemy2.shape import from_shape
from shapely.geometry import Point

from app.buildings.models import Building
from tests.factories import C1, tiny_county


def _four_buildings(db) -> None:  # type: ignore[no-untyped-def]
    # 4 × 150 households in the four quarters of community C1: two grids of 300 fit the band.
    for i, (x, y) in enumerate(
        [(113.002, 34.002), (113.002, 34.008), (113.008, 34.002), (113.008, 34.008)]
    ):
        db.add(
            Building(
                code=f"P{i}", name=f"{i}号楼", community_code=C1, household_count=150,
                location=from_shape(Point(x, y), srid=4490),
            )
        )  # fmt: skip
    db.flush()


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
    assert (args.community, args.target, args.band) == (C1, 300, (200, 400))
