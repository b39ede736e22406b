"""Code allocation: west to east, then north to south, from unused serials
(docs/domain.md#hierarchy-and-codes)."""

import pytest
from shapely.geometry import box

from gis.codes import SerialsExhausted, allocate, reading_order

C = "419901001001"
# A 2×2 block given in scrambled order: SE, NW, SW, NE.
SE, NW, SW, NE = (
    box(1, 0, 2, 1),
    box(0, 1, 1, 2),
    box(0, 0, 1, 1),
    box(1, 1, 2, 2),
)


def test_reading_order_rows_north_to_south_then_west_to_east() -> None:
    assert reading_order([SE, NW, SW, NE]) == [1, 3, 2, 0]


def test_ragged_row_still_reads_as_one_row() -> None:
    west_low = box(0, 0.9, 1, 1.9)  # a little lower than its eastern neighbour
    east_high = box(1, 1.0, 2, 2.0)
    south = box(0, -0.2, 2, 0.8)
    assert reading_order([east_high, south, west_low]) == [2, 0, 1]


@pytest.mark.parametrize(
    ("used", "expected"),
    [
        (set(), ["004", "001", "003", "002"]),
        ({1, 2}, ["006", "003", "005", "004"]),
        ({2, 4}, ["006", "001", "005", "003"]),
    ],
)
def test_allocate_uses_smallest_unused_serials_in_reading_order(used, expected) -> None:  # type: ignore[no-untyped-def]
    codes = allocate(C, [SE, NW, SW, NE], used)
    assert [c[12:] for c in codes] == expected
    assert all(c.startswith(C) and len(c) == 15 for c in codes)


def test_allocate_refuses_when_serials_run_out() -> None:
    with pytest.raises(SerialsExhausted, match="419901001001"):
        allocate(C, [SE, NW], set(range(1, 999)))
