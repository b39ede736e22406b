"""One count of households per grid (docs/domain.md, grids): every screen puts a household in the
grid routing sends its point to. On the demo county's 138 grids the coverage map, the planner, the
audit's band check and routing give the same number for every grid; on a hand-made community with
households exactly on shared edges and on a corner, each counts once, in the smallest code (the
visits map's coverage too)."""

from __future__ import annotations

import re
from collections import Counter

import geopandas as gpd
import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry import box
from sqlalchemy import text

from app.demo import load_demo_files
from app.locate.registry import load_snapshot
from app.plans.load import assign_buildings, community_buildings
from app.plans.models import PlanGrid
from app.visits.demo import demo_visits_step
from gis.coverage import CoverageTolerances, audit_coverage
from tests.factories import (
    C1,
    C2,
    COUNTY,
    G11,
    G12,
    G21,
    TOWNSHIP,
    add_area,
    add_building,
    add_grid,
    tiny_county,
)

BAND_MESSAGE = re.compile(r"网格 (\d{15}) 有 (\d+) 户")


def _frame(rows, columns):  # type: ignore[no-untyped-def]
    return gpd.GeoDataFrame(
        {c: [r[i] for r in rows] for i, c in enumerate(columns)},
        geometry=[shapely.from_wkb(bytes(r[-1])) for r in rows],
        crs=4490,
    )


def test_demo_county_every_grid_has_one_household_count(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    load_demo_files(db)  # about 25 s on an idle machine
    db.flush()
    # The county is loaded inside this test's transaction, where autovacuum cannot see it: without
    # statistics the planner takes every table for a few rows and checks each household against
    # every grid (minutes). A served database has them; give the test's the same.
    db.execute(text("ANALYZE areas, grids, buildings, households"))

    grids = _frame(
        db.execute(
            text(
                "SELECT code, community_code, ST_AsBinary(geom) FROM grids "
                "WHERE status = 'active' ORDER BY code"
            )
        ).all(),
        ["code", "community_code"],
    )
    assert len(grids) == 138
    households = _frame(
        db.execute(text("SELECT id, ST_AsBinary(location) FROM households ORDER BY id")).all(),
        ["id"],
    )
    assert len(households) == 40466

    # Routing: the locate registry's index, one point at a time as a request would.
    snapshot = load_snapshot(db, edge_distance_m=20.0)
    assert snapshot.index is not None
    routed = Counter(
        snapshot.grids[i].code
        for p in households.geometry
        if (i := snapshot.index.locate_one(p.x, p.y)) >= 0
    )
    assert sum(routed.values()) == 40466  # the demo county has no household outside every grid

    # The coverage map's grids layer, county-wide.
    r = client.get("/api/v1/layers/grids", headers=token_for("county_admin"))
    assert r.status_code == 200, r.text
    mapped = {f["properties"]["code"]: f["properties"]["households"] for f in r.json()["features"]}

    # The planner: per community, the grids of a plan made from the current ones and the
    # community's buildings, assigned as plan creation and every edit do.
    communities = _frame(
        db.execute(
            text("SELECT code, ST_AsBinary(geom) FROM areas WHERE level = 'community'")
        ).all(),
        ["code"],
    )
    assert len(communities) == 25
    planned: dict[str, int] = {}
    for community, area in zip(communities["code"], communities.geometry, strict=True):
        plan_grids = [
            PlanGrid(code=code, geom=from_shape(geom, srid=4490))
            for code, geom in zip(grids["code"], grids.geometry, strict=True)
            if code.startswith(community)
        ]
        assign_buildings(plan_grids, community_buildings(db, community, area))
        planned |= {g.code: g.households for g in plan_grids}

    # The audit's band check: with a band of (0, 0) every grid holding a household is reported
    # with its count.
    found = audit_coverage(
        communities, grids, households=households, tolerances=CoverageTolerances(band=(0, 0))
    )
    audited = {
        m.group(1): int(m.group(2))
        for m in map(BAND_MESSAGE.match, found.loc[found["kind"] == "household_band", "message"])
        if m
    }

    # The visits map's coverage by grid, county-wide.
    r = client.get(
        f"/api/v1/visits/coverage?area={COUNTY}&start=2026-01-01&end=2026-02-01&by=grid",
        headers=token_for("county_admin"),
    )
    assert r.status_code == 200, r.text
    covered = {row["code"]: row["households"] for row in r.json()["rows"]}

    # A grid's household list, as a dispatcher reads it.
    dispatcher = token_for("dispatcher")
    listed = {}
    for code in grids["code"]:
        r = client.get(f"/api/v1/households?grid={code}", headers=dispatcher)
        assert r.status_code == 200, r.text
        listed[code] = r.json()["count"]

    for code in grids["code"]:
        expected = routed.get(code, 0)
        assert mapped[code] == expected, code
        assert planned[code] == expected, code
        assert audited.get(code, 0) == expected, code
        assert covered[code] == expected, code
        assert listed[code] == expected, code
    assert sum(mapped.values()) == 40466


# A hand-made community of four grids meeting at (113.005, 34.005), households exactly on the shared
# edges and on the corner. Codes: 001 south-west, 002 south-east, 003 north-west, 004 north-east.
HOMES = [  # (x, y, households): where, and which grid routing must send them to
    (113.005, 34.005, 3),  # the corner of all four → 001
    (113.005, 34.002, 2),  # edge 001 | 002 → 001
    (113.008, 34.005, 4),  # edge 002 | 004 → 002
    (113.005, 34.008, 5),  # edge 003 | 004 → 003
    (113.0025, 34.005, 6),  # edge 001 | 003 → 001
    (113.008, 34.008, 7),  # inside 004
    (113.002, 34.002, 11),  # inside 001
    (113.01, 34.008, 13),  # 004's outer edge, on the community boundary → 004
]
EXPECTED = {"001": 3 + 2 + 6 + 11, "002": 4, "003": 5, "004": 7 + 13}


def test_households_on_shared_edges_and_corners_count_once_in_the_smallest_code(
    db, client, token_for
) -> None:  # type: ignore[no-untyped-def]
    add_area(db, COUNTY, "示范县", "county", "county", box(113.0, 34.0, 113.01, 34.01))
    add_area(
        db, TOWNSHIP, "城关街道", "township", "street", box(113.0, 34.0, 113.01, 34.01), COUNTY
    )
    add_area(
        db, C1, "幸福社区", "community", "residents", box(113.0, 34.0, 113.01, 34.01), TOWNSHIP
    )
    quarters = [
        box(113.0, 34.0, 113.005, 34.005),
        box(113.005, 34.0, 113.01, 34.005),
        box(113.0, 34.005, 113.005, 34.01),
        box(113.005, 34.005, 113.01, 34.01),
    ]
    for serial, quarter in enumerate(quarters, start=1):
        add_grid(db, f"{C1}{serial:03d}", quarter)
    for n, (x, y, households) in enumerate(HOMES):
        add_building(db, f"H{n}", C1, x, y, households)
    expected = {C1 + serial: n for serial, n in EXPECTED.items()}

    # Routing, one point at a time.
    routed: Counter[str] = Counter()
    for x, y, households in HOMES:
        r = client.get(f"/api/v1/locate?lng={x}&lat={y}")
        assert r.status_code == 200, r.text
        routed[r.json()["grid"]["code"]] += households
    assert routed == expected

    # The coverage map.
    r = client.get("/api/v1/layers/grids", headers=token_for("county_admin"))
    assert r.status_code == 200, r.text
    assert {f["id"]: f["properties"]["households"] for f in r.json()["features"]} == expected

    # The planner: a plan from the current grids.
    r = client.post("/api/v1/plans", json={"community_code": C1}, headers=token_for("planner"))
    assert r.status_code == 201, r.text
    assert {g["code"]: g["households"] for g in r.json()["grids"]} == expected

    # A grid's household list and its visits due today (none visited yet: every household).
    dispatcher = token_for("dispatcher")
    for code, n in expected.items():
        r = client.get(f"/api/v1/households?grid={code}", headers=dispatcher)
        assert r.status_code == 200 and r.json()["count"] == n, (code, r.text)
        r = client.get(f"/api/v1/visits/due?grid={code}", headers=dispatcher)
        assert r.status_code == 200 and r.json()["count"] == n, (code, r.text)

    # The visits map's coverage by grid.
    r = client.get(
        f"/api/v1/visits/coverage?area={C1}&start=2026-01-01&end=2026-02-01&by=grid",
        headers=token_for("county_admin"),
    )
    assert r.status_code == 200, r.text
    assert {row["code"]: row["households"] for row in r.json()["rows"]} == expected
    assert r.json()["total"]["households"] == sum(h for _, _, h in HOMES)

    # The audit: every grid is below the 250–500 band, so each is reported with its count.
    r = client.post(f"/api/v1/audits?area={COUNTY}", headers=token_for("auditor"))
    assert r.status_code == 201, r.text
    band = [f["message"] for f in r.json()["findings"] if f["kind"] == "household_band"]
    audited = {m.group(1): int(m.group(2)) for m in map(BAND_MESSAGE.match, band) if m}
    assert audited == expected


def test_a_household_on_a_community_border_counts_once_on_every_screen(
    db, client, token_for
) -> None:  # type: ignore[no-untyped-def]
    tiny_county(
        db
    )  # B1's two households inside G11; G12 (幸福社区) and G21 (和平社区) meet at 113.01
    add_building(db, "BORDER", C1, 113.01, 34.005, 3)  # on the border: routing sends it to G12
    admin = token_for("county_admin")

    r = client.get("/api/v1/locate?lng=113.01&lat=34.005&crs=cgcs2000")
    assert r.json()["grid"]["code"] == G12

    r = client.get(f"/api/v1/layers/areas?parent={TOWNSHIP}", headers=admin)
    assert r.status_code == 200, r.text
    assert {f["id"]: f["properties"]["households"] for f in r.json()["features"]} == {
        C1: 2 + 3,
        C2: 0,
    }
    r = client.get(f"/api/v1/layers/areas?parent={COUNTY}", headers=admin)
    assert {f["id"]: f["properties"]["households"] for f in r.json()["features"]} == {TOWNSHIP: 5}

    r = client.get("/api/v1/layers/grids", headers=admin)
    assert {f["id"]: f["properties"]["households"] for f in r.json()["features"]} == {
        G11: 2,
        G12: 3,
        G21: 0,
    }
    dispatcher = token_for("dispatcher")
    for code, n in ((G12, 3), (G21, 0)):
        r = client.get(f"/api/v1/households?grid={code}", headers=dispatcher)
        assert r.status_code == 200 and r.json()["count"] == n, (code, r.text)
        r = client.get(f"/api/v1/visits/due?grid={code}", headers=dispatcher)
        assert r.status_code == 200 and r.json()["count"] == n, (code, r.text)


def test_demo_visits_record_an_edge_household_in_its_routing_grid_only(db) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)  # S2 works in G11 and G12, which meet at 113.005
    edge = add_building(db, "EDGE", C1, 113.005, 34.005, 1)
    db.execute(
        text("UPDATE households SET special_groups = '{hardship}' WHERE building_id = :b"),
        {"b": edge.id},
    )
    demo_visits_step(db)
    grids = (
        db.execute(
            text(
                "SELECT DISTINCT v.grid_code FROM visits v JOIN households h ON h.id = v.household_id "
                "WHERE h.building_id = :b"
            ),
            {"b": edge.id},
        )
        .scalars()
        .all()
    )
    # Twelve monthly draws for a special-group household: visited, and always in G11.
    assert grids == [G11]
