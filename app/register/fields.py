"""The fields of each kind of register record: label, how a proposed value is read, and which
code table it takes (docs/register.md#fields). Proposals, diffs, pages and the exchange files all
read this one table."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stdnum import exceptions as stdnum_errors
from stdnum.cn import uscc

from app.errors import InvalidInput
from app.register import codes

Parse = Callable[[Any, str], Any]


def _text(limit: int, *, required: bool = False) -> Parse:
    def parse(value: Any, field: str) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise InvalidInput(f"{field}：不能为空", field=field)
            return None
        if not isinstance(value, str | int | float):
            raise InvalidInput(f"{field}：应为文本", field=field)
        text = str(value).strip()
        if len(text) > limit:
            raise InvalidInput(f"{field}：至多 {limit} 个字符", field=field)
        return text

    return parse


def _code(table: dict[str, str], *, required: bool = False) -> Parse:
    def parse(value: Any, field: str) -> Any:
        if value is None or value == "":
            if required:
                raise InvalidInput(f"{field}：不能为空", field=field)
            return None
        text = str(value).strip()
        if text in table:
            return text
        by_label = {label: code for code, label in table.items()}
        if text in by_label:
            return by_label[text]
        choices = "、".join(f"{c}（{label}）" for c, label in table.items())
        raise InvalidInput(f"{field}：无效的代码 {text}；可选：{choices}", field=field)

    return parse


def _int(*, low: int = 0, high: int = 2**31 - 1) -> Parse:
    def parse(value: Any, field: str) -> Any:
        if value is None or value == "":
            return None
        try:
            number = int(str(value).strip())
        except ValueError as exc:
            raise InvalidInput(f"{field}：应为整数", field=field) from exc
        if not low <= number <= high:
            raise InvalidInput(f"{field}：应在 {low}–{high} 之间", field=field)
        return number

    return parse


def _float(low: float, high: float) -> Parse:
    def parse(value: Any, field: str) -> Any:
        if value is None or value == "":
            return None
        try:
            number = float(str(value).strip())
        except ValueError as exc:
            raise InvalidInput(f"{field}：应为数字", field=field) from exc
        if not low <= number <= high:
            raise InvalidInput(f"{field}：应在 {low:g}–{high:g} 之间", field=field)
        return number

    return parse


_PHONE = re.compile(r"^[0-9+\-() ]{5,20}$")


def _phone(value: Any, field: str) -> Any:
    text = _text(32)(value, field)
    if text is not None and not _PHONE.match(text):
        raise InvalidInput(f"{field}：电话号码应为 5–20 位数字（可含 - 和空格）", field=field)
    return text


def _bool(value: Any, field: str) -> Any:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "是", "y", "yes"):
        return True
    if text in ("0", "false", "否", "n", "no", ""):
        return False
    raise InvalidInput(f"{field}：应为 是/否", field=field)


def _date(value: Any, field: str) -> Any:
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(str(value).strip()[:10]).isoformat()
    except ValueError as exc:
        raise InvalidInput(f"{field}：应为日期（YYYY-MM-DD）", field=field) from exc


def _groups(value: Any, field: str) -> Any:
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else re.split(r"[;；|,，、]", str(value))
    out: list[str] = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        code = _code(codes.GROUP_LABELS)(text, field)
        if code not in out:
            out.append(code)
    return sorted(out, key=codes.SPECIAL_GROUPS.index)


def _grid(value: Any, field: str) -> Any:
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not re.fullmatch(r"[0-9]{15}", text):
        raise InvalidInput(f"{field}：网格编码应为15位数字", field=field)
    return text


def _credit_code(value: Any, field: str) -> Any:
    text = _text(18)(value, field)
    if text is None:
        return None
    try:
        return uscc.validate(text)
    except stdnum_errors.ValidationError as exc:
        raise InvalidInput(
            f"{field}：统一社会信用代码无效（GB 32100，18位，末位校验码）", field=field
        ) from exc


@dataclass(frozen=True)
class Spec:
    label: str
    parse: Parse
    table: dict[str, str] | None = None


_ID_TYPES = {
    "111": "居民身份证",
    "414": "普通护照",
    "516": "港澳居民来往内地通行证",
    "511": "台湾居民来往大陆通行证",
    "990": "其他",
}
ID_TYPES = _ID_TYPES

PERSON: dict[str, Spec] = {
    "name": Spec("姓名", _text(50)),
    "id_number": Spec("证件号码", _text(30)),  # checked in app/register/idnumbers.py
    "id_type": Spec("证件类型", _code(_ID_TYPES), _ID_TYPES),
    "gender": Spec("性别", _code(codes.GENDERS), codes.GENDERS),
    "birth_date": Spec("出生日期", _date),
    "phone": Spec("联系电话", _phone),
    "ethnicity": Spec("民族", _text(2)),
    "residence_type": Spec("人口类型", _code(codes.RESIDENCE_TYPES), codes.RESIDENCE_TYPES),
    "registered_address": Spec("户籍地详址", _text(300)),
    "household_id": Spec("所属住户", _int(low=1)),
    "relation": Spec("与户主关系", _code(codes.RELATIONS), codes.RELATIONS),
    "house_id": Spec("居住房屋", _int(low=1)),
    "grid_code": Spec("所属网格", _grid),
    "special_groups": Spec("重点人群", _groups, codes.GROUP_LABELS),
    "party_member": Spec("党员", _bool),
    "status": Spec("状态", _code(codes.PERSON_STATUSES), codes.PERSON_STATUSES),
}

HOUSE: dict[str, Spec] = {
    "building_id": Spec("楼栋", _int(low=1)),
    "unit": Spec("单元", _text(16)),
    "room": Spec("室", _text(16)),
    "room_id": Spec("标准地址（室）", _int(low=1)),
    "door_number_id": Spec("标准地址（门牌）", _int(low=1)),
    "use": Spec("房屋用途", _code(codes.HOUSE_USES), codes.HOUSE_USES),
    "landlord_person_id": Spec("房主（登记人口）", _int(low=1)),
    "landlord_name": Spec("房主姓名", _text(50)),
    "landlord_phone": Spec("房主电话", _phone),
    "area_m2": Spec("建筑面积（㎡）", _float(0, 100000)),
    "grid_code": Spec("所属网格", _grid),
    "status": Spec("状态", _code(codes.RECORD_STATUSES), codes.RECORD_STATUSES),
}

ORGANISATION: dict[str, Spec] = {
    "kind": Spec("单位类别", _code(codes.ORG_KINDS), codes.ORG_KINDS),
    "name": Spec("单位名称", _text(200)),
    "credit_code": Spec("统一社会信用代码", _credit_code),
    "address": Spec("单位地址", _text(300)),
    "building_id": Spec("楼栋", _int(low=1)),
    "lon": Spec("经度", _float(73, 136)),
    "lat": Spec("纬度", _float(3, 54)),
    "contact_name": Spec("联系人", _text(50)),
    "contact_phone": Spec("联系电话", _phone),
    "employees": Spec("从业人数", _int(low=0, high=10_000_000)),
    "grid_code": Spec("所属网格", _grid),
    "status": Spec("状态", _code(codes.RECORD_STATUSES), codes.RECORD_STATUSES),
}

HOUSEHOLD_MOVE: dict[str, Spec] = {
    "building_id": Spec("迁入楼栋", _int(low=1)),
    "unit": Spec("单元", _text(16)),
    "room": Spec("室", _text(16)),
}

SPECS: dict[str, dict[str, Spec]] = {
    "person": PERSON,
    "house": HOUSE,
    "organisation": ORGANISATION,
    "household": HOUSEHOLD_MOVE,
}

# Required on create, per kind.
REQUIRED: dict[str, tuple[str, ...]] = {
    "person": ("name", "id_number"),
    "house": ("building_id",),
    "organisation": ("kind", "name"),
    "household": ("building_id",),
}


def label(kind: str, field: str) -> str:
    spec = SPECS.get(kind, {}).get(field)
    return spec.label if spec else field


def read_fields(kind: str, fields: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """The proposed ``fields`` of a ``kind`` record, each read by its spec (422 naming the field:
    ``fields.<name>``); unknown fields are refused, not ignored."""
    specs = SPECS[kind]
    unknown = sorted(set(fields) - set(specs))
    if unknown:
        raise InvalidInput(
            f"fields：未知字段 {'、'.join(unknown)}；可用：{'、'.join(specs)}",
            field=f"fields.{unknown[0]}",
        )
    out = {name: specs[name].parse(value, f"fields.{name}") for name, value in fields.items()}
    if creating:
        for name in REQUIRED[kind]:
            if out.get(name) in (None, ""):
                raise InvalidInput(
                    f"fields.{name}：新增{codes.KINDS[kind]}时必须填写{specs[name].label}",
                    field=f"fields.{name}",
                )
    if not out and not creating:
        raise InvalidInput("fields：没有要变更的字段", field="fields")
    return out
