"""The demo county's micro-grids (app/microgrids/demo.py): grid 419901001002001 cut into strips that
cover it exactly, each labelled synthetic, every household of the grid in one of them, stewards
from the grid's building leaders; a second run changes nothing."""

from __future__ import annotations

from app.audits import loaders
from app.auth.policy import Principal
from app.auth.scope import scope_of
from app.demo import load_demo_files
from app.grids.service import households_per_grid
from app.microgrids.demo import GRID, demo_micro_grids_step
from app.microgrids.service import list_micro_grids
from gis.coverage import audit_coverage

SYSTEM = Principal(username="test", role="county_admin", jurisdiction_code="", system=True)


def test_demo_micro_grids_cover_their_grid(db) -> None:  # type: ignore[no-untyped-def]
    load_demo_files(db)  # about 25 s on an idle machine
    first = demo_micro_grids_step(db)
    assert "合成" in first
    assert "未改动" in demo_micro_grids_step(db)
    scope = scope_of(SYSTEM).narrow(GRID[:12])
    micro = list_micro_grids(db, scope=scope, band=(50, 80), grid_code=GRID)
    # data/boundaries/README.md: four micro-grids; whole buildings put 120 and 82 households in
    # the first and third (above 50–80); the grid's two building leaders steward the first two.
    assert [m["households"] for m in micro] == [120, 60, 82, 74]
    assert [m["band"] for m in micro] == ["above", "within", "above", "within"]
    assert [m["steward"] is not None for m in micro] == [True, True, False, False]
    assert all(m["name"].endswith("（合成）") for m in micro)
    assert [m["code"] for m in micro] == [f"{GRID}{j:02d}" for j in range(1, len(micro) + 1)]
    # Every household of the grid is in exactly one micro-grid (the edge rule, as routing counts).
    assert sum(m["households"] for m in micro) == households_per_grid(db, scope)[GRID]
    found = audit_coverage(
        loaders.load_communities(db, scope),
        loaders.load_grids(db, scope),
        households=loaders.load_households(db, scope),
        micro_grids=loaders.load_micro_grids(db, scope),
    )
    micro_found = sorted(
        (k, list(o)) for k, o in zip(found["kind"], found["objects"], strict=True) if "micro" in k
    )
    assert micro_found == [("micro_band", [GRID + "01"]), ("micro_band", [GRID + "03"])]
