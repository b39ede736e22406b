"""The fields each import kind reads, the names files give them, and ``--map ours=theirs``.

One table says, per kind, which of our fields exist and which column names in a file mean them
(our English name, the Chinese header Chinese desktop GIS and spreadsheets use, and the names of
the files that exist: DataV/Aliyun ``adcode``, the statistical area codes' 统计用区划代码 and
城乡分类代码). A file's columns are renamed to ours once, before any importer reads a row, so the
importers know only our names. A field the file lacks is refused with the name we looked for and
the fields the file has (docs/imports.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import geopandas as gpd

from app.errors import InvalidInput

# kind → our field → (label, names a file may use for it, ours first)
FIELDS: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "areas": {
        "code": ("区划编码", ("code", "编码", "区划编码", "区划代码", "统计用区划代码", "adcode")),
        "name": ("名称", ("name", "名称", "Name", "区划名称")),
        "level": ("层级", ("level", "层级")),
        "parent_code": ("上级编码", ("parent_code", "上级编码", "parent.adcode", "parent")),
        "kind": ("类别", ("kind",)),
        "urban_rural": ("城乡分类代码", ("urban_rural", "城乡分类代码", "城乡分类")),
    },
    "grids": {
        "code": ("网格编码", ("code", "网格编码")),
        "community_code": ("社区编码", ("community_code", "社区编码")),
        "type": ("类型", ("type", "类型")),
        "name": ("网格名称", ("name", "网格名称", "Name")),
    },
    "buildings": {
        "code": ("楼栋编码", ("code", "楼栋编码")),
        "name": ("名称", ("name", "名称", "Name")),
        "compound": ("小区", ("compound", "小区")),
        "address": ("地址", ("address", "地址")),
        "aliases": ("别名", ("aliases", "别名")),
        "community_code": ("社区编码", ("community_code", "社区编码")),
        "households": ("户数", ("households", "household_count", "户数")),
    },
    "households": {
        "building_code": ("楼栋编码", ("building_code", "楼栋编码")),
        "unit": ("单元", ("unit", "单元")),
        "room": ("房号", ("room", "房号")),
        "size": ("人数", ("size", "人数")),
        "head_name": ("户主", ("head_name", "户主")),
        "phone": ("电话", ("phone", "电话")),
        "special_groups": ("重点人群", ("special_groups", "重点人群")),
    },
    "staff": {
        "staff_code": ("人员编号", ("staff_code", "code", "人员编号")),
        "name": ("姓名", ("name", "姓名")),
        "role": ("角色", ("role", "角色")),
        "grid_code": ("网格编码", ("grid_code", "网格编码")),
        "employment": ("用工方式", ("employment", "用工方式")),
        "phone": ("电话", ("phone", "电话")),
        "start_date": ("开始日期", ("start_date", "开始日期")),
        "end_date": ("结束日期", ("end_date", "结束日期")),
        "building_code": ("楼栋编码", ("building_code", "楼栋编码")),
    },
    "barriers": {
        "class": ("类型", ("class", "类型")),
        "name": ("名称", ("name", "名称", "Name")),
    },
    # Standard addresses (docs/addresses.md#import)
    "roads": {
        "name": ("道路名称", ("name", "名称", "道路名称", "街路巷", "Name")),
        "county_code": ("县级编码", ("county_code", "县级编码", "区县编码")),
        "aliases": ("别名", ("aliases", "别名", "曾用名")),
        "first_number": ("起始门牌号", ("first_number", "起始门牌号", "起号")),
        "last_number": ("终止门牌号", ("last_number", "终止门牌号", "止号")),
        "odd_side": ("单号一侧", ("odd_side", "单号一侧", "单号侧")),
    },
    "door_numbers": {
        "road": ("道路名称", ("road", "道路名称", "街路巷", "道路")),
        "number": ("门牌号", ("number", "门牌号", "门牌")),
        "suffix": ("支号", ("suffix", "支号")),
        "county_code": ("县级编码", ("county_code", "县级编码", "区县编码")),
        "community_code": ("社区编码", ("community_code", "社区编码")),
        "building_codes": ("楼栋编码", ("building_codes", "楼栋编码", "building_code")),
    },
}

# Fields without which no row of the kind can be imported.
REQUIRED: dict[str, tuple[str, ...]] = {
    "areas": ("code",),
    "grids": ("code",),
    "buildings": ("code",),
    "households": ("building_code",),
    "staff": ("staff_code", "name", "role", "grid_code"),
    "barriers": (),
    "roads": ("name", "county_code"),
    "door_numbers": ("road", "number"),
}


def parse_mapping(items: Iterable[str] | None) -> dict[str, str]:
    """``["code=XZQDM", "name=XZQMC,level=JB"]`` → ``{"code": "XZQDM", ...}`` (ours → theirs)."""
    mapping: dict[str, str] = {}
    for item in items or ():
        for pair in str(item).split(","):
            if not pair.strip():
                continue
            ours, sep, theirs = pair.partition("=")
            if not sep or not ours.strip() or not theirs.strip():
                raise InvalidInput(
                    f"字段对应 {pair.strip()!r} 格式有误：应为 我们的字段=文件中的字段，如 code=XZQDM",
                    field="map",
                )
            mapping[ours.strip()] = theirs.strip()
    return mapping


def _listing(names: Sequence[object]) -> str:
    shown = [str(n) for n in names if str(n) != "geometry"]
    return "、".join(shown) if shown else "（无）"


def normalise(kind: str, frame: gpd.GeoDataFrame, mapping: dict[str, str]) -> gpd.GeoDataFrame:
    """``frame`` with its columns renamed to our field names for ``kind``: first what ``mapping``
    says, then the known names; refused (naming what was looked for and what the file has) when a
    mapped column is missing or a required field has no column."""
    fields = FIELDS[kind]
    columns = [str(c) for c in frame.columns]
    unknown = [ours for ours in mapping if ours not in fields]
    if unknown:
        raise InvalidInput(
            f"--map 中的字段 {'、'.join(unknown)} 不是{kind}的字段；可映射的字段：{'、'.join(fields)}",
            field="map",
        )
    rename: dict[str, str] = {}
    taken: set[str] = set()
    for ours, theirs in mapping.items():
        if theirs not in columns:
            raise InvalidInput(
                f"--map {ours}={theirs}：文件中没有字段 {theirs}；文件的字段有：{_listing(columns)}",
                field="map",
            )
        rename[theirs] = ours
        taken.add(ours)
    for ours, (_label, names) in fields.items():
        if ours in taken:
            continue
        lowered = {c.lower(): c for c in columns if c not in rename}
        found = next((lowered[n.lower()] for n in names if n.lower() in lowered), None)
        if found is not None:
            rename[found] = ours
            taken.add(ours)
    # A column that is ours by name but mapped away (or a second candidate) must not shadow it.
    out = frame.drop(columns=[c for c in columns if c in fields and c not in rename])
    out = out.rename(columns=rename)
    for ours in REQUIRED[kind]:
        if ours not in out.columns:
            label, names = fields[ours]
            raise InvalidInput(
                f"找不到{label}字段：查找的字段名为 {'、'.join(names)}；文件的字段有："
                f"{_listing(columns)}。请用 --map {ours}=文件中的字段名 指定",
                field=ours,
            )
    return out


def field_label(kind: str, ours: str) -> str:
    """``编码（字段 code）`` for messages: our label and the field as the importer knows it."""
    label, _names = FIELDS[kind][ours]
    return f"{label}（字段 {ours}）"
