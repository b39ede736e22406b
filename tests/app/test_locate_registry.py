"""The locate registry follows the change feed: a staff edit patches the grids concerned without
rebuilding the index, a grid edit reloads, a change committed out of order is never skipped, and
in a served process requests keep their snapshot while a refresh runs."""

from __future__ import annotations

import time

import anyio
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.errors import ServiceUnavailable
from app.locate.batch import BatchRunner
from app.locate.registry import GridRegistry, feed_position, read_changes
from tests.factories import G11, G21, tiny_county


@pytest.fixture
def county(db):
    tiny_county(db)
    db.commit()


def _registry(db: Session, refresh_seconds: float) -> GridRegistry:
    return GridRegistry(lambda: db, refresh_seconds=refresh_seconds, edge_distance_m=20.0)


def _leader(snapshot, code: str) -> str | None:  # type: ignore[no-untyped-def]
    grid = snapshot.grids[snapshot.by_code[code]]
    return grid.leader.name if grid.leader else None


def test_a_staff_rename_patches_its_grid_and_keeps_the_index(db, county):
    registry = _registry(db, 0)
    before = registry.snapshot()
    assert _leader(before, G11) == "张伟"
    db.execute(text("UPDATE staff SET name = '王芳' WHERE name = '张伟'"))
    after = registry.snapshot()
    assert _leader(after, G11) == "王芳"
    assert after.index is before.index  # no rebuild for a staff change
    assert after is not before and _leader(before, G11) == "张伟"  # the old one is untouched


def test_an_ended_assignment_leaves_the_grid_without_leader(db, county):
    registry = _registry(db, 0)
    assert _leader(registry.snapshot(), G11) == "张伟"
    db.execute(
        text("UPDATE staff_assignments SET end_date = CURRENT_DATE - 1 WHERE grid_code = :g"),
        {"g": G11},
    )
    after = registry.snapshot()
    assert _leader(after, G11) is None


def test_a_retired_grid_reloads_the_index(db, county):
    registry = _registry(db, 0)
    before = registry.snapshot()
    db.execute(text("UPDATE grids SET status = 'retired', valid_to = CURRENT_DATE WHERE code = :c"),
               {"c": G21})  # fmt: skip
    after = registry.snapshot()
    assert after.index is not before.index
    assert G21 not in after.by_code and G21 in before.by_code


def test_a_renamed_grid_is_patched_without_a_new_index(db, county):
    registry = _registry(db, 0)
    before = registry.snapshot()
    db.execute(text("UPDATE grids SET name = '新名网格' WHERE code = :c"), {"c": G21})
    after = registry.snapshot()
    assert after.index is before.index
    assert after.grids[after.by_code[G21]].name == "新名网格"
    assert _leader(after, G11) == "张伟"  # staff kept


def test_a_reshaped_grid_gets_a_new_index(db, county):
    registry = _registry(db, 0)
    before = registry.snapshot()
    # Shrink G21 (trigger-checked: still inside its community, no overlap).
    db.execute(
        text("UPDATE grids SET geom = ST_Multi(ST_Buffer(geom, -0.0005)) WHERE code = :c"),
        {"c": G21},
    )
    after = registry.snapshot()
    assert after.index is not before.index


def test_nothing_changed_means_the_same_snapshot(db, county):
    registry = _registry(db, 0)
    first = registry.snapshot()
    assert registry.snapshot() is first


def test_a_served_registry_answers_with_its_snapshot_while_refreshing(db, county):
    registry = _registry(db, 3600)
    before = registry.snapshot()
    db.execute(text("UPDATE staff SET name = '王芳' WHERE name = '张伟'"))
    registry.invalidate()
    # The call that finds the snapshot due starts a refresh and does not wait for it.
    assert registry.snapshot() is before
    deadline = time.monotonic() + 10
    while registry.snapshot() is before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _leader(registry.snapshot(), G11) == "王芳"


def test_a_change_committed_out_of_order_is_not_skipped(engine):
    """Writer A takes a transaction id first but commits after writer B: a reader that saw B's
    change still finds A's later."""
    with engine.connect() as reader:
        start = feed_position(Session(bind=reader))
        reader.rollback()
        a, b = engine.connect(), engine.connect()
        try:
            a.begin()
            a.execute(text("INSERT INTO registry_changes (kind, key) VALUES ('assignment', 'A')"))
            b.begin()
            b.execute(text("INSERT INTO registry_changes (kind, key) VALUES ('assignment', 'B')"))
            b.commit()
            read = read_changes(Session(bind=reader), start)
            reader.rollback()
            assert read is not None
            first, position = read
            assert {c.key for c in first} >= {"B"} and "A" not in {c.key for c in first}
            a.commit()
            again = read_changes(Session(bind=reader), position)
            reader.rollback()
            assert again is not None
            keys = [c.key for c in again[0]]
            assert "A" in keys and "B" not in keys  # A now, and B not a second time
        finally:
            for conn in (a, b):
                conn.rollback()
                conn.execute(text("DELETE FROM registry_changes WHERE key IN ('A', 'B')"))
                conn.commit()
                conn.close()


def test_writers_on_different_grids_do_not_wait_for_each_other(engine):
    """Two open transactions each change a staff row: neither blocks (the old design queued every
    writer on one counter row)."""
    a, b = engine.connect(), engine.connect()
    try:
        a.begin()
        b.begin()
        for conn in (a, b):
            conn.execute(text("SET LOCAL lock_timeout = '1s'"))
        a.execute(text("INSERT INTO registry_changes (kind, key) VALUES ('assignment', 'X1')"))
        # A statement trigger fires even for no rows: the old design's counter update made the
        # second writer wait here until lock_timeout.
        a.execute(text("UPDATE areas SET name = name WHERE false"))
        b.execute(text("UPDATE areas SET name = name WHERE false"))
        b.execute(text("INSERT INTO registry_changes (kind, key) VALUES ('assignment', 'X2')"))
    finally:
        a.rollback()
        b.rollback()
        a.close()
        b.close()


def test_a_full_batch_queue_refuses_with_503():
    async def scenario() -> None:
        runner = BatchRunner(max_waiting=1)
        runner.admit()
        async with runner:
            with pytest.raises(ServiceUnavailable) as info:
                runner.admit()
            assert "繁忙" in info.value.message
        runner.admit()  # free again

    anyio.run(scenario)


def test_batch_streams_ndjson_one_line_per_point(client, county):
    points = [{"id": str(i), "lng": 113.002, "lat": 34.005} for i in range(3)]
    r = client.post("/api/v1/locate?f=ndjson", json=points)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    lines = [line for line in r.text.splitlines() if line]
    assert len(lines) == 3 and all(f'"grid_code":"{G11}"' in line for line in lines)


def test_batch_csv_over_several_chunks_keeps_one_header(client, county, monkeypatch):
    monkeypatch.setattr("app.locate.batch.CHUNK_POINTS", 2)
    csv = "id,lng,lat\n" + "".join(f"p{i},113.015,34.005\n" for i in range(5))
    r = client.post("/api/v1/locate?f=csv", content=csv, headers={"content-type": "text/csv"})
    assert r.status_code == 200
    lines = r.text.strip().splitlines()
    assert lines[0].startswith("id,lng,lat,grid_code") and len(lines) == 6
    assert all(G21 in line for line in lines[1:])
