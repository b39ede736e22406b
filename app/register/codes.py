"""The register's code tables, in one place (docs/register.md#code-tables).

``SPECIAL_GROUPS`` merges the seven household flags this product has always had with the special
groups of the national comprehensive-governance data standard (GB/T 31000-2015: 特殊人群, 重点青少年,
留守人员, 流动人口). The household flags (app/buildings/models.py) and the visit labels
(app/visits/service.py) are read from here, so a code exists once. The codes are stable
identifiers stored in rows; labels are what people read.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Group:
    code: str
    label: str
    source: str  # "ours", "national" or "ours+national"


SPECIAL_GROUP_TABLE: tuple[Group, ...] = (
    Group("hardship", "困难家庭", "ours"),
    Group("critically_ill", "危重病人家庭", "ours"),
    Group("empty_nest_elderly", "空巢老人", "ours"),
    Group("left_behind_child", "留守儿童", "ours+national"),
    Group("petitioner", "信访户", "ours"),
    Group("disabled", "残疾人", "ours"),
    Group("community_correction", "社区矫正人员", "ours+national"),
    Group("released_prisoner", "刑满释放人员", "national"),
    Group("severe_mental_disorder", "严重精神障碍患者", "national"),
    Group("drug_user", "吸毒人员", "national"),
    Group("aids_risk", "艾滋病危险性行为人员", "national"),
    Group("key_youth", "重点青少年", "national"),
    Group("left_behind_woman", "留守妇女", "national"),
    Group("left_behind_elderly", "留守老人", "national"),
    Group("floating_population", "流动人口", "national"),
)

SPECIAL_GROUPS: tuple[str, ...] = tuple(g.code for g in SPECIAL_GROUP_TABLE)
GROUP_LABELS: dict[str, str] = {g.code: g.label for g in SPECIAL_GROUP_TABLE}

# The tag a person carries because of their residence type (set and cleared with it, never by hand).
FLOATING_TAG = "floating_population"

RESIDENCE_TYPES: dict[str, str] = {
    "registered": "户籍人口",
    "floating": "流动人口",
    "overseas": "境外人员",
}

# Relation to the household head (GB/T 4761-2008 家庭关系代码, the two-digit codes kept as given).
RELATIONS: dict[str, str] = {
    "02": "户主",
    "10": "配偶",
    "20": "子",
    "30": "女",
    "40": "孙子女",
    "50": "父母",
    "60": "祖父母",
    "70": "兄弟姐妹",
    "97": "其他亲属",
    "99": "非亲属",
}
HEAD = "02"

# Sex (GB/T 2261.1-2003).
GENDERS: dict[str, str] = {"1": "男", "2": "女"}

HOUSE_USES: dict[str, str] = {
    "self_occupied": "自住",
    "rented": "出租",
    "vacant": "空置",
}
OCCUPIED_USES = ("self_occupied", "rented")

ORG_KINDS: dict[str, str] = {
    "enterprise": "企业",
    "public_institution": "事业单位",
    "government": "机关",
    "social_org": "社会组织",
    "shop": "商业门点",
    "other": "其他",
}
# Kinds that count toward a grid's load beside its households (the seeds: "300户左右（含商业门点）").
LOAD_KINDS = ("shop",)

PERSON_STATUSES: dict[str, str] = {
    "active": "在册",
    "moved_out": "已迁出",
    "deceased": "已死亡",
}
RECORD_STATUSES: dict[str, str] = {"active": "在册", "closed": "已注销"}

KINDS: dict[str, str] = {
    "person": "人口",
    "house": "房屋",
    "organisation": "单位",
    "household": "住户",
}
ACTIONS: dict[str, str] = {
    "create": "新增",
    "update": "变更",
    "move": "迁移",
    "remove": "注销",
}
