"""Name material for the synthetic demo county 示范县.

Every name here is generated from syllable lists: none is meant to be a real place, estate, developer
or person. Generic words (幸福, 建设, 李庄 …) recur in real China, which is why they read as plausible.
"""

from __future__ import annotations

import numpy as np

TOWNSHIPS = [
    # (serial, name, kind, communities: list of (name, kind))
    (
        "001",
        "城关街道",
        "street",
        ["幸福社区", "人民社区", "文化社区", "建设社区", "解放社区", "和平社区"],
    ),
    (
        "002",
        "东城街道",
        "street",
        ["新华社区", "光明社区", "朝阳社区", "东风社区", "育才社区", "滨河社区"],
    ),
    ("100", "柳林镇", "town", ["柳林社区", "李庄村", "王营村", "张湾村", "刘楼村"]),
    ("101", "河口镇", "town", ["赵岗村", "陈寨村", "杨桥村", "孙堂村"]),
    ("200", "石桥乡", "township", ["周集村", "吴庙村", "郑屯村", "马店村"]),
]

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌波辉鹏宇浩俊峰凤梅琴云飞"
    "鑫博海林亮成龙春雪晓慧丹颖欣然子怡佳豪宏振德福荣翠秋香玲新民彦卫东"
)

_URBAN_PREFIX = [
    "阳光", "幸福", "锦绣", "金色", "世纪", "明珠", "滨河", "和谐", "丽景", "御景", "银杏", "紫荆",
    "盛世", "书香", "学府", "康乐", "怡和", "新城", "东方", "春晖", "香榭", "润泽", "翠湖", "碧水",
    "枫林", "兰亭", "文昌", "凤凰", "锦江", "嘉禾", "祥和", "安居", "富康", "龙腾", "瑞景", "天和",
    "长安", "翠", "桂", "梧桐", "青年", "振兴", "荷塘", "悦",
]  # fmt: skip
_URBAN_SUFFIX = [
    "花园", "家园", "小区", "苑", "名苑", "佳苑", "雅居", "华庭", "新村", "公寓", "嘉园", "丽都",
    "名都", "府",
]  # fmt: skip
_WORK_UNITS = [
    "县医院", "供电局", "粮食局", "教育局", "棉纺厂", "农机站", "邮电局", "水利局", "化肥厂",
    "供销社", "财政局", "交通局", "卫生局", "电力局", "林业局", "食品厂",
]  # fmt: skip
_VILLAGE_PREFIX = ["", "", "", "前", "后", "东", "西", "南", "北", "大", "小", "新"]
_VILLAGE_SUFFIX = [
    "庄", "营", "湾", "楼", "岗", "寨", "桥", "集", "庙", "屯", "店", "洼", "坡", "园", "台",
    "堂", "寺", "林", "沟", "口",
]  # fmt: skip
_VILLAGE_SURNAMES = "李王张刘陈杨赵黄周吴徐孙马朱胡郭何高罗郑梁谢宋唐许韩冯邓曹彭"

_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """Chinese numeral for 1–99 (3 → 三, 12 → 十二, 40 → 四十)."""
    if not 1 <= n <= 99:
        raise ValueError(f"cn_number covers 1–99, got {n}")
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + ("" if ones == 0 else _DIGITS[ones])


class NameMaker:
    """Draws names from the lists, keeping estate and village names unique in the whole county."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def _pick(self, seq: list[str] | str) -> str:
        return seq[int(self.rng.integers(len(seq)))]

    def person(self, surname: str | None = None) -> str:
        given = self._pick(GIVEN) + (self._pick(GIVEN) if self.rng.random() < 0.65 else "")
        return (surname or self._pick(SURNAMES)) + given

    def estate(self, era: str) -> str:
        """Name of an urban compound (小区); old walk-up estates are often work-unit compounds."""
        for _ in range(1000):
            if era == "old" and self.rng.random() < 0.4:
                name = self._pick(_WORK_UNITS) + "家属院"
            else:
                name = self._pick(_URBAN_PREFIX) + self._pick(_URBAN_SUFFIX)
                if len(name) == 2:  # 翠苑 reads better as 翠苑小区
                    name += "小区"
            if name not in self.used:
                self.used.add(name)
                return name
        raise RuntimeError("ran out of estate names")

    def hamlet(self, first: str | None = None) -> str:
        """Name of a natural village (自然村); ``first`` is taken as is if still free."""
        if first is not None and first not in self.used:
            self.used.add(first)
            return first
        for _ in range(1000):
            name = (
                self._pick(_VILLAGE_PREFIX)
                + self._pick(_VILLAGE_SURNAMES)
                + self._pick(_VILLAGE_SUFFIX)
            )
            if name not in self.used:
                self.used.add(name)
                return name
        raise RuntimeError("ran out of village names")

    def new_estate(self) -> str:
        """A compound surveyed after the roster was made (used for the GCJ-02 survey file)."""
        for _ in range(1000):
            name = self._pick(_URBAN_PREFIX) + self._pick(["新苑", "新城", "佳园", "御府"])
            if name not in self.used:
                self.used.add(name)
                return name
        raise RuntimeError("ran out of estate names")
