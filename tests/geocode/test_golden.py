"""The golden set: 200+ hand-written address variants against the demo county (road + door
number, mixed forms, numerals in Chinese and Arabic, 栋/幢/号楼/座, typos, missing levels, extra
province/city prefixes, communities and townships), each with the building, door number or area
a person reading it would point at (tests/geocode/golden_addresses.csv, written by hand).

The bar (docs/addresses.md#the-golden-set): at least 95 % answered with exactly that building,
door or area, and no answer given as certain that names another building or place."""

from __future__ import annotations

import csv
from pathlib import Path

from app.geocode.gazetteer import Candidate, Gazetteer

GOLDEN = Path(__file__).with_name("golden_addresses.csv")


def golden_rows() -> list[dict[str, str]]:
    with GOLDEN.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def answered(best: Candidate | None) -> str:
    """What an answer names, in the golden set's notation."""
    if best is None:
        return "none"
    if best.level in ("room", "building") and best.entry is not None:
        return best.entry.code
    if best.level == "door" and best.door is not None:
        return f"door:{best.door.label}"
    if best.level in ("community", "township") and best.area is not None:
        return f"{best.level}:{best.area.code}"
    return f"{best.level}:?"


def test_golden_set_is_hand_written_and_large_enough() -> None:
    rows = golden_rows()
    assert len(rows) >= 200
    assert len({r["address"] for r in rows}) == len(rows)


def test_golden_match_rate_and_no_certain_wrong_answer(demo_gazetteer: Gazetteer) -> None:
    right, wrong_certain, misses = 0, [], []
    rows = golden_rows()
    for row in rows:
        result = demo_gazetteer.match(row["address"])
        got = answered(result.best)
        if got == row["expected"]:
            right += 1
            continue
        misses.append((row["address"], row["expected"], got, result.certain))
        if result.certain:
            wrong_certain.append((row["address"], row["expected"], got))
    rate = right / len(rows)
    assert not wrong_certain, wrong_certain
    assert rate >= 0.95, (rate, misses)


def test_ambiguous_answers_are_never_certain(demo_gazetteer: Gazetteer) -> None:
    # "3号楼" alone is in dozens of compounds; "幸福社区1号楼" in several of its compounds.
    for text in ("3号楼", "幸福社区1号楼", "城关街道2号楼"):
        result = demo_gazetteer.match(text)
        assert not result.certain, text


def test_typo_is_found_but_not_certain(demo_gazetteer: Gazetteer) -> None:
    result = demo_gazetteer.match("人明路309号")
    assert answered(result.best) == "door:人民路309号"
    assert result.best is not None and result.best.matched_on == "fuzzy"
    assert not result.certain


def test_unknown_number_on_a_known_road_is_the_nearest_door_and_not_certain(
    demo_gazetteer: Gazetteer,
) -> None:
    result = demo_gazetteer.match("人民路311号")  # 309 exists on the same (odd) side
    assert result.best is not None and result.best.level == "road"
    assert result.best.door is not None and result.best.door.label == "人民路309号"
    assert not result.certain


def test_community_answer_names_the_area_and_its_grids_not_a_building(
    demo_gazetteer: Gazetteer,
) -> None:
    best = demo_gazetteer.match("城关街道幸福社区").best
    assert best is not None and best.level == "community" and best.entry is None
    assert best.area is not None and best.area.code == "419901001004"
    # 幸福社区 has 8 grids in the demo county (data/boundaries/README.md)
    assert len(best.area.grids) == 8
    assert all(g.startswith("419901001004") for g in best.area.grids)
