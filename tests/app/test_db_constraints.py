"""The database itself refuses bad states, and says which grids and how much area."""

import pytest
from shapely.geometry import Polygon, box
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.errors import database_error_to_domain
from app.staff.models import Staff, StaffAssignment
from tests.factories import C1, G11, add_grid, tiny_county


def _refusal(db, fn):  # type: ignore[no-untyped-def]
    with pytest.raises(DBAPIError) as info, db.begin_nested():
        fn()
    return database_error_to_domain(info.value)


def test_overlapping_active_grid_is_refused_with_codes_and_area(db):
    tiny_county(db)
    # 0.001° × 0.01° overlap with grid 001 ≈ 92 m × 1,110 m ≈ 102,000 m²
    err = _refusal(db, lambda: add_grid(db, C1 + "009", box(113.004, 34.0, 113.005, 34.01)))
    assert err is not None and err.status_code == 409
    assert G11 in err.message and "重叠" in err.message
    area = float(err.message.split("（")[1].split(" ")[0])
    assert 100_000 < area < 105_000


def test_overlap_within_tolerance_is_accepted(db):
    tiny_county(db)
    # a 1e-6° sliver strip (~0.1 m wide, 1.1 km long ≈ 0.1 m²) is under the 1 m² tolerance... but
    # the new grid must stay inside the community too: put it in the gap-free west edge.
    add_grid(db, C1 + "009", box(113.004999, 34.0, 113.005001, 34.00001), status="draft")
    g = add_grid(db, C1 + "008", box(113.0049999, 34.0, 113.0050001, 34.000001))
    assert g.id is not None


def test_grid_outside_its_community_is_refused(db):
    tiny_county(db, with_staff=False)
    err = _refusal(db, lambda: add_grid(db, C1 + "009", box(112.99, 34.0, 112.999, 34.001)))
    assert err is not None and err.status_code == 409
    assert "超出" in err.message and C1 in err.message


def test_draft_grids_may_overlap_freely(db):
    tiny_county(db, with_staff=False)
    assert add_grid(db, C1 + "009", box(113.0, 34.0, 113.01, 34.01), status="draft").id


def test_duplicate_active_code_is_refused(db):
    tiny_county(db, with_staff=False)
    db.execute(
        __import__("sqlalchemy").text(
            "UPDATE grids SET status='retired', valid_to='2026-06-01' WHERE code=:c"
        ),
        {"c": G11},
    )
    add_grid(db, G11, box(113.0, 34.0, 113.005, 34.01), version=2)
    err = _refusal(db, lambda: add_grid(db, G11, box(113.0, 34.0, 113.001, 34.001), version=3))
    assert err is not None and err.status_code == 409


def test_invalid_geometry_is_refused(db):
    tiny_county(db, with_staff=False)
    bowtie = Polygon([(113.0, 34.0), (113.001, 34.001), (113.001, 34.0), (113.0, 34.001)])
    err = _refusal(db, lambda: add_grid(db, C1 + "009", bowtie, status="draft"))
    assert err is not None and err.status_code == 422 and "无效" in err.message


def test_grid_code_must_start_with_its_community(db):
    tiny_county(db, with_staff=False)
    from app.grids.models import Grid
    from tests.factories import mp

    def bad() -> None:
        db.add(
            Grid(
                code="419901001002009",
                name="x",
                community_code=C1,
                geom=mp(box(113.0, 34.0, 113.001, 34.001)),
            )
        )
        db.flush()

    err = _refusal(db, bad)
    assert err is not None and "前12位" in err.message


def test_two_leaders_at_once_are_refused_but_successive_leaders_are_fine(db):
    tiny_county(db)
    s = Staff(code="S9", name="王强", phone="13700000000")
    db.add(s)
    db.flush()

    def second_leader() -> None:
        db.add(
            StaffAssignment(staff_id=s.id, grid_code=G11, role="leader", start_date="2026-03-01")
        )
        db.flush()

    err = _refusal(db, second_leader)
    assert err is not None and err.status_code == 409 and "网格长" in err.message

    # End the first leader's term, then the new one may start the next day.
    db.execute(
        __import__("sqlalchemy").text(
            "UPDATE staff_assignments SET end_date='2026-02-28' WHERE grid_code=:g AND role='leader'"
        ),
        {"g": G11},
    )
    second_leader()


def test_registry_changes_name_the_grids_written(db):
    from app.locate.registry import feed_position, read_changes

    before = feed_position(db)
    tiny_county(db, with_staff=False)
    read = read_changes(db, before)
    assert read is not None
    changes, _ = read
    assert {(c.kind, c.key) for c in changes if c.kind == "grid"} >= {("grid", G11)}


def test_migrations_match_models(engine):
    """`alembic check`: CI fails if the models and migrations disagree."""
    from app import migrate

    migrate.check(engine)


def test_unknown_community_is_refused(db):
    with pytest.raises(IntegrityError.__mro__[1]) as info, db.begin_nested():
        add_grid(db, "419901009009001", box(113.0, 34.0, 113.001, 34.001))
    err = database_error_to_domain(info.value)
    assert err is not None and err.status_code == 422 and "不存在" in err.message


def test_migrations_have_a_single_head(engine):
    """Parallel feature branches must be merged, so `alembic upgrade head` means one thing."""
    from alembic.script import ScriptDirectory

    from app import migrate

    assert len(ScriptDirectory.from_config(migrate.alembic_config(engine)).get_heads()) == 1
