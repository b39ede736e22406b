import pytest

from app.geocode.gazetteer import ACCEPT, Gazetteer, GazetteerEntry


def _e(bid, township, community, compound, building, lng, lat, aliases=()):
    county = "示范县"
    return GazetteerEntry(
        building_id=bid,
        code=f"B{bid:03d}",
        township=township,
        community=community,
        compound=compound,
        building=building,
        address=f"{county}{township}{community}{compound}{building}",
        aliases=tuple(aliases),
        lng=lng,
        lat=lat,
    )


CG, LJ = "城关街道", "李集镇"
ENTRIES = [
    # 阳光花园 in 幸福社区: centroid (115.002, 33.00025) is nearest building 2.
    _e(1, CG, "幸福社区", "阳光花园", "1号楼", 115.000, 33.000),
    _e(2, CG, "幸福社区", "阳光花园", "2号楼", 115.002, 33.000),
    _e(3, CG, "幸福社区", "阳光花园", "3号楼", 115.004, 33.000, ("阳光花园3栋", "阳光花园三号楼")),
    _e(13, CG, "幸福社区", "阳光花园", "综合楼", 115.002, 33.001),
    _e(4, CG, "幸福社区", "翠竹苑", "1号楼", 115.010, 33.010),
    _e(5, CG, "幸福社区", "翠竹苑", "A座", 115.011, 33.010),
    # the same compound name in another community
    _e(6, CG, "和平社区", "阳光花园", "3号楼", 115.100, 33.100, ("阳光花园3栋",)),
    _e(7, CG, "和平社区", "阳光花园", "5号楼", 115.101, 33.100),
    _e(8, CG, "和平社区", "和平小区", "1号楼", 115.110, 33.100),
    _e(9, CG, "和平社区", "粮站宿舍", "1号楼", 115.120, 33.100, ("老粮站家属院1号楼",)),
    # rural: compound = natural village, buildings = house numbers
    _e(10, LJ, "李庄村", "李庄", "12号", 115.300, 33.300),
    _e(11, LJ, "李庄村", "李庄", "13号", 115.301, 33.300),
    _e(12, LJ, "王营村", "王营", "1号", 115.400, 33.400),
]


@pytest.fixture(scope="module")
def gaz():
    return Gazetteer(ENTRIES)


def _top(result):
    c = result.candidates[0]
    return c.entry.building_id, c.level, c.matched_on


@pytest.mark.parametrize(
    "text",
    [
        "示范县城关街道幸福社区阳光花园3号楼",
        "示范县 城关街道 幸福社区 阳光花园 ３号楼",
        "示范县城关街道幸福社区阳光花园3号楼。",
    ],
)
def test_exact_full_address(gaz, text):
    r = gaz.match(text)
    assert _top(r) == (3, "building", "exact")
    assert r.candidates[0].score == 100
    assert len(r.candidates) == 1 and not r.ambiguous


def test_exact_address_with_unit_and_room_is_room_level(gaz):
    r = gaz.match("示范县城关街道幸福社区阳光花园3号楼2单元501室")
    assert _top(r) == (3, "room", "exact")
    assert (r.unit, r.room) == ("2", "501")


def test_exact_prefix_is_not_a_different_house_number(gaz):
    # "…李庄12号" is an address; "…李庄123号" must not match it as a prefix.
    r = gaz.match("示范县李集镇李庄村李庄123号")
    assert all(c.matched_on != "exact" or c.level == "compound" for c in r.candidates)
    assert r.candidates[0].level == "compound"


def test_alias(gaz):
    r = gaz.match("阳光花园三号楼")
    assert _top(r) == (3, "building", "alias")
    assert r.candidates[0].score == 98


def test_alias_shared_by_two_buildings_is_ambiguous(gaz):
    r = gaz.match("阳光花园3栋")
    assert {c.entry.building_id for c in r.candidates} == {3, 6}
    assert r.ambiguous


@pytest.mark.parametrize(
    "text",
    [
        "幸福社区阳光花园3号楼",
        "幸福社区阳光花园3栋",
        "幸福社区阳光花园三幢",
        "幸福社区阳光花园03#楼",
        "城关街道幸福社区阳光花园小区三号楼",
        "幸福社区居委会阳光花园3号楼",
    ],
)
def test_structured_numeral_variants(gaz, text):
    r = gaz.match(text)
    assert _top(r) == (3, "building", "exact")
    assert not r.ambiguous


def test_structured_letter_building(gaz):
    assert _top(gaz.match("翠竹苑a座")) == (5, "building", "exact")


def test_building_without_number_by_name(gaz):
    assert _top(gaz.match("幸福社区阳光花园综合楼")) == (13, "building", "exact")


def test_compound_alias_from_entry_alias(gaz):
    assert _top(gaz.match("老粮站家属院1号楼2单元")) == (9, "room", "alias")


def test_fuzzy_typo_in_compound(gaz):
    r = gaz.match("幸福社区阳光花苑3号楼")
    assert _top(r) == (3, "building", "fuzzy")
    assert ACCEPT <= r.candidates[0].score < 95


def test_compound_only_gives_representative_building(gaz):
    r = gaz.match("幸福社区阳光花园")
    assert _top(r) == (2, "compound", "exact")  # nearest the compound's centroid


def test_unknown_building_in_known_compound_falls_back_to_compound(gaz):
    r = gaz.match("幸福社区阳光花园9号楼")
    assert _top(r) == (2, "compound", "exact")
    assert r.candidates[0].score < gaz.match("幸福社区阳光花园").candidates[0].score


def test_community_only(gaz):
    r = gaz.match("和平社区")
    top = r.candidates[0]
    assert (top.level, top.matched_on, top.entry.community) == ("community", "exact", "和平社区")


def test_rural_community_and_house_number_without_compound(gaz):
    assert _top(gaz.match("李集镇李庄村12号")) == (10, "building", "exact")
    assert _top(gaz.match("示范县李集镇李庄村李庄13号")) == (11, "building", "exact")


def test_same_compound_in_two_communities_is_ambiguous(gaz):
    r = gaz.match("阳光花园3幢")
    assert [c.entry.building_id for c in r.candidates[:2]] == [3, 6]
    assert all(c.level == "building" for c in r.candidates[:2])
    assert r.ambiguous


def test_community_resolves_the_ambiguity(gaz):
    r = gaz.match("和平社区阳光花园3幢")
    assert _top(r) == (6, "building", "exact")
    assert not r.ambiguous
    assert r.candidates[0].score - r.candidates[1].score > 20  # 幸福社区's building 3 penalised


def test_contradicting_township_lowers_score(gaz):
    agree = gaz.match("城关街道幸福社区阳光花园3号楼").candidates[0]
    contradict = gaz.match("李集镇幸福社区阳光花园3号楼").candidates[0]
    assert contradict.entry.building_id == 3
    assert contradict.score < agree.score - 20


def test_nothing_found_but_closest_offers_candidates(gaz):
    r = gaz.match("火星基地九号舱")
    assert r.candidates == [] and not r.ambiguous and r.best is None
    closest = gaz.closest("火星基地九号舱", limit=3)
    assert len(closest) == 3
    assert all(c.score < ACCEPT for c in closest)


def test_closest_ranks_near_miss_first(gaz):
    closest = gaz.closest("翠竹园", limit=2)
    assert closest[0].entry.compound == "翠竹苑"


@pytest.mark.parametrize(
    ("text", "unit", "room", "bid"),
    [
        ("幸福社区阳光花园1-2-501", "2", "501", 1),
        ("幸福社区阳光花园2号楼3单元", "3", None, 2),
        ("幸福社区阳光花园2号楼5楼501", None, "501", 2),
    ],
)
def test_room_and_unit_echoed(gaz, text, unit, room, bid):
    r = gaz.match(text)
    assert (r.unit, r.room) == (unit, room)
    assert _top(r) == (bid, "room", "exact")


def test_limit(gaz):
    assert len(gaz.match("阳光花园3幢", limit=1).candidates) == 1
    assert gaz.match("阳光花园3幢", limit=0).candidates == []


def test_scores_in_range_and_sorted(gaz):
    for text in ("阳光花园", "李庄", "阳光", "幸福社区阳光花苑", "和平"):
        scores = [c.score for c in gaz.closest(text, limit=10)]
        assert scores == sorted(scores, reverse=True)
        assert all(0 <= s <= 100 for s in scores)


def test_empty_gazetteer():
    g = Gazetteer([])
    assert g.match("阳光花园3号楼").candidates == []
    assert g.closest("阳光花园3号楼") == []


@pytest.mark.parametrize("text", ["", "   ", "!!!", "3", "1-2-501"])
def test_unplaceable_text_gives_no_candidates(gaz, text):
    assert gaz.match(text).candidates == []


def test_extra_words_around_compound_still_match(gaz):
    r = gaz.match("请问阳光花园在哪")
    assert {c.entry.compound for c in r.candidates[:2]} == {"阳光花园"}
    assert r.candidates[0].level == "compound" and r.ambiguous  # in two communities


def test_short_name_inside_unrelated_road_is_not_a_match(gaz):
    # "和平小区" compares as "和平"; a road address containing it must not be accepted.
    assert gaz.match("和平东路88号").candidates == []


def test_closest_without_compounds_uses_communities():
    g = Gazetteer(
        [_e(1, LJ, "李庄村", "", "12号", 115.3, 33.3), _e(2, LJ, "王营村", "", "1号", 115.4, 33.4)]
    )
    assert _top(g.match("李庄村12号")) == (1, "building", "exact")
    closest = g.closest("火星基地", limit=5)
    assert [c.level for c in closest] == ["community", "community"]


def test_fragment_of_a_name_scores_below_a_full_name(gaz):
    fragment = gaz.match("翠竹").candidates[0]
    assert fragment.entry.compound == "翠竹苑"
    assert fragment.score < 80 < gaz.match("翠竹苑").candidates[0].score


def test_entries_with_empty_address_alias_or_community_match_nothing_by_themselves():
    blank = GazetteerEntry(1, "B1", "", "", "", "1号楼", "", ("", "  "), 115.0, 33.0)
    named = _e(2, CG, "幸福社区", "阳光花园", "3号楼", 115.1, 33.1)
    g = Gazetteer([blank, named])
    assert g.match("火星基地").candidates == []
    assert _top(g.match("阳光花园3号楼")) == (2, "building", "exact")
