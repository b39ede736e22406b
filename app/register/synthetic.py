"""Synthetic persons for the demo county, tests and benchmarks: deterministic, labelled, never
real (docs/register.md#demo). ID numbers are valid by GB 11643 (the check digit computed by
python-stdnum) over real address codes, with birth dates and sequence numbers drawn from a seeded
generator; the registered address says 合成数据 so no one mistakes a row for a person."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

from stdnum.cn import ric

LABEL = "合成数据（演示，非真实人员）"
# Address codes python-stdnum knows for every birth year from 1930 (so the numbers pass the
# birth-place check too).
_PLACES = ("110101", "110102", "110105", "110108", "120101", "310101", "310104", "310110")
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鑫宇浩然子涵欣怡梓萱一诺雨桐思远俊杰嘉怡晨阳文博"


@dataclass(frozen=True)
class SyntheticPerson:
    name: str
    id_number: str
    gender: str
    birth_date: dt.date
    phone: str


def id_number(rng: random.Random, birth: dt.date, gender: str) -> str:
    seq = rng.randrange(0, 500) * 2 + (1 if gender == "1" else 0)
    body = f"{rng.choice(_PLACES)}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def person(rng: random.Random, *, surname: str | None = None, age: tuple[int, int] = (0, 90),
           today: dt.date = dt.date(2026, 1, 1)) -> SyntheticPerson:  # fmt: skip
    gender = rng.choice("12")
    birth = today - dt.timedelta(days=rng.randrange(age[0] * 365, age[1] * 365 + 1))
    given = "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))
    return SyntheticPerson(
        name=(surname or rng.choice(_SURNAMES)) + given,
        id_number=id_number(rng, birth, gender),
        gender=gender,
        birth_date=birth,
        phone=f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
    )


def people(count: int, seed: int) -> Iterator[SyntheticPerson]:
    """``count`` persons with distinct ID numbers, the same for the same seed."""
    rng = random.Random(seed)
    seen: set[str] = set()
    while len(seen) < count:
        p = person(rng, age=(18, 90))
        if p.id_number not in seen:
            seen.add(p.id_number)
            yield p
