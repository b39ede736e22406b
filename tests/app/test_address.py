import random
import re

import pytest

from app.geocode.address import (
    ParsedAddress,
    area_key,
    building_key,
    cn_to_int,
    compound_key,
    normalize,
    parse_address,
)

P = ParsedAddress

PARSE_CASES = [
    # full administrative chain, urban and rural (the demo county's style)
    (
        "示范县城关街道幸福社区阳光花园3号楼",
        P(
            county="示范县",
            township="城关街道",
            community="幸福社区",
            compound="阳光花园",
            building="3",
        ),
    ),
    (
        "示范县李集镇李庄村李庄12号",
        P(county="示范县", township="李集镇", community="李庄村", compound="李庄", building="12"),
    ),
    (
        "广东省深圳市南山区粤海街道科技园社区阳光公寓A座2单元1801",
        P(
            province="广东省",
            city="深圳市",
            county="南山区",
            township="粤海街道",
            community="科技园社区",
            compound="阳光公寓",
            building="A",
            unit="2",
            room="1801",
        ),
    ),
    (
        "中国浙江省杭州市西湖区",
        P(province="浙江省", city="杭州市", county="西湖区"),
    ),
    (
        "北京市朝阳区建国路街道幸福社区阳光花园3号楼",
        P(
            province="北京市",
            county="朝阳区",
            township="建国路街道",
            community="幸福社区",
            compound="阳光花园",
            building="3",
        ),
    ),
    # building markers and numerals
    ("阳光花园3栋", P(compound="阳光花园", building="3")),
    ("阳光花园3幢", P(compound="阳光花园", building="3")),
    ("阳光花园三号楼", P(compound="阳光花园", building="3")),
    ("阳光花园十二栋", P(compound="阳光花园", building="12")),
    ("阳光花园03号楼", P(compound="阳光花园", building="3")),
    ("阳光花园3#楼", P(compound="阳光花园", building="3")),
    ("阳光花园3#2单元501", P(compound="阳光花园", building="3", unit="2", room="501")),
    ("翠竹苑a座", P(compound="翠竹苑", building="A")),
    # full-width digits, spaces and punctuation
    (
        "阳光花园 ３号楼，二单元 ５０１室",
        P(compound="阳光花园", building="3", unit="2", room="501"),
    ),
    ("阳光花园（3号楼）2单元-501", P(compound="阳光花园", building="3", unit="2", room="501")),
    # shorthand and floors
    ("1-2-501", P(building="1", unit="2", room="501")),
    ("阳光花园1－2－501", P(compound="阳光花园", building="1", unit="2", room="501")),
    ("阳光花园3号楼2-501", P(compound="阳光花园", building="3", unit="2", room="501")),
    ("阳光3-501", P(compound="阳光", building="3", room="501")),
    ("5楼501", P(room="501")),
    ("阳光花园3号楼5楼501", P(compound="阳光花园", building="3", room="501")),
    ("阳光花园3楼501", P(compound="阳光花园", building="3", room="501")),
    ("阳光花园3号楼501号", P(compound="阳光花园", building="3", room="501")),
    ("阳光花园3号楼2单元12层1201", P(compound="阳光花园", building="3", unit="2", room="1201")),
    # long official forms are shortened; villager groups
    (
        "城关街道办事处幸福社区居委会阳光花园小区3栋",
        P(township="城关街道", community="幸福社区", compound="阳光花园小区", building="3"),
    ),
    ("李庄村委会3组12号", P(community="李庄村", group="3", building="12")),
    ("李庄村三组", P(community="李庄村", group="3")),
    # missing parts
    ("幸福社区", P(community="幸福社区")),
    ("红旗社区3号楼", P(community="红旗社区", building="3")),
    ("城关镇镇东社区", P(township="城关镇", community="镇东社区")),
    ("幸福新村3栋", P(compound="幸福新村", building="3")),
    ("阳光花园二期3号楼", P(compound="阳光花园二期", building="3")),
    ("阳光花园2期3号楼", P(compound="阳光花园2期", building="3")),
    ("3#", P(building="3")),
    # extra words and garbage
    ("请问阳光花园在哪", P(compound="请问阳光花园", remainder="在哪")),
    (
        "阳光花园3号楼 电话13800138000",
        P(compound="阳光花园", building="3", remainder="电话13800138000"),
    ),
    ("asdf", P(remainder="ASDF")),
    ("!!!???", P()),
    ("", P()),
    ("12345678901", P(remainder="12345678901")),
]


@pytest.mark.parametrize(
    ("text", "expected"), PARSE_CASES, ids=[c[0] or "empty" for c in PARSE_CASES]
)
def test_parse_address(text, expected):
    assert parse_address(text) == expected


def test_parse_is_frozen():
    p = parse_address("阳光花园3号楼")
    with pytest.raises(AttributeError):
        p.building = "4"  # type: ignore[misc]


@pytest.mark.parametrize("seed", range(20))
def test_parse_never_raises_on_arbitrary_text(seed):
    rng = random.Random(seed)
    alphabet = "0123456789０１２-#－—，。 省市县区镇乡村社区街道号楼栋幢座单元室组十百零二三AbＸ园苑庄\t\n🙂"
    for _ in range(50):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        p = parse_address(text)
        assert isinstance(p, ParsedAddress)
        for value in vars(p).values():
            assert value is None or (isinstance(value, str) and value)
        for number in (p.building, p.unit):
            assert number is None or re.fullmatch(r"[0-9]+|[A-Z]", number)


@pytest.mark.parametrize("bad", [None, 123, "3号楼".encode()])
def test_parse_non_string_gives_empty(bad):
    assert parse_address(bad) == ParsedAddress()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (" 阳光花园 ３号楼，２单元 ", "阳光花园3号楼2单元"),
        ("ａ座３＃", "A座3#"),
        ("1—2–501", "1-2-501"),
        ("陽光花園3號樓", "陽光花园3号楼"),  # only the common address characters are folded
        ("--3--", "3"),
    ],
)
def test_normalize(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("三", 3),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("二十三", 23),
        ("两百", 200),
        ("一百零五", 105),
        ("五零一", 501),
        ("〇三", 3),
        ("07", 7),
        ("", None),
        ("三A", None),
    ],
)
def test_cn_to_int(numeral, value):
    assert cn_to_int(numeral) == value


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("3号楼", "3"),
        ("三栋", "3"),
        ("3#", "3"),
        ("A座", "A"),
        ("12号", "12"),
        ("综合楼", "综合楼"),
    ],
)
def test_building_key(name, key):
    assert building_key(name) == key


@pytest.mark.parametrize(
    ("a", "b"),
    [("阳光花园小区", "阳光花园"), ("阳光花园二期", "阳光花园2期"), ("李庄三组", "李庄3组")],
)
def test_compound_key_equivalences(a, b):
    assert compound_key(a) == compound_key(b)


def test_compound_key_keeps_short_names():
    assert compound_key("新小区") == "新小区"


@pytest.mark.parametrize(
    ("a", "b"),
    [("幸福社区居委会", "幸福社区"), ("李庄村委会", "李庄村"), ("城关街道办事处", "城关街道")],
)
def test_area_key_equivalences(a, b):
    assert area_key(a) == area_key(b)
