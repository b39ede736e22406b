"""The register's exchange files: GB/T 31000-shaped CSV and Excel, in and out
(docs/register.md#exchange).

Columns carry the data-item names of GB/T 31000-2015 (社会治安综合治理 基础数据规范) for persons
(实有人口), houses (实有房屋) and organisations (实有单位) as far as we could establish them, and
code values as the standard's code tables give them (性别 GB/T 2261.1, 与户主关系 GB/T 4761, 证件
代码 GA/T 517); ``COLUMNS`` is the mapping, written out in docs/register.md with what is ours.

Import is idempotent by the ID number's keyed hash (persons), the address (houses) and the credit
code or name in the grid (organisations): a row already current is ``unchanged``, a differing one
``changed`` (a new version and a history row), a new one ``added``; a row that cannot be read is
``rejected`` with its number, the field and the reason, and the rest still go in. A dry run reports
the same and writes nothing. The administrator's file is the review: imported rows do not wait as
proposals (their history rows name no proposal).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.auth.scope import AreaScope
from app.errors import GridgovError, InvalidInput
from app.grids.service import grid_of_point_sql
from app.register import codes, fields, idnumbers
from app.register.apply import link_household, sync_household_groups
from app.register.keys import RegisterKeys

# (our field, the column name in the file). The names are GB/T 31000's data items where we could
# establish them; docs/register.md#exchange marks the ones that are ours.
COLUMNS: dict[str, list[tuple[str, str]]] = {
    "person": [
        ("id_type", "证件代码"),
        ("id_number", "证件号码"),
        ("name", "姓名"),
        ("gender", "性别"),
        ("birth_date", "出生日期"),
        ("ethnicity", "民族"),
        ("residence_type", "人口类型"),
        ("registered_address", "户籍地详址"),
        ("phone", "联系方式"),
        ("building_code", "现住址楼栋编码"),
        ("unit", "现住址单元号"),
        ("room", "现住址房间号"),
        ("relation", "与户主关系"),
        ("special_groups", "重点人群类别"),
        ("party_member", "是否党员"),
        ("status", "人员状态"),
        ("grid_code", "所属网格编码"),
    ],
    "house": [
        ("building_code", "房屋楼栋编码"),
        ("unit", "单元号"),
        ("room", "房间号"),
        ("use", "房屋用途"),
        ("landlord_name", "房主姓名"),
        ("landlord_phone", "房主联系方式"),
        ("area_m2", "建筑面积"),
        ("status", "房屋状态"),
        ("grid_code", "所属网格编码"),
    ],
    "organisation": [
        ("name", "单位名称"),
        ("credit_code", "统一社会信用代码"),
        ("kind", "单位类别"),
        ("address", "单位地址"),
        ("building_code", "楼栋编码"),
        ("lon", "经度"),
        ("lat", "纬度"),
        ("contact_name", "联系人"),
        ("contact_phone", "联系方式"),
        ("employees", "从业人数"),
        ("status", "单位状态"),
        ("grid_code", "所属网格编码"),
    ],
}
# Code columns written as "code" in the file (the standard's code values), read as code or label.
_LABEL_COLUMNS = {"special_groups"}


@dataclass
class Report:
    kind: str
    dry_run: bool
    rows: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def render(self) -> str:
        head = "试运行（未写入）" if self.dry_run else "已导入"
        lines = [
            f"{head}：{codes.KINDS[self.kind]} {self.rows} 行 — 新增 {self.added}，变更 "
            f"{self.changed}，未变 {self.unchanged}，拒绝 {len(self.rejected)}"
        ]
        lines += [f"  第 {r['row']} 行 {r['field']}：{r['message']}" for r in self.rejected[:20]]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "added": self.added,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


# ---- reading files --------------------------------------------------------------------------------


def read_rows(name: str, data: bytes) -> Iterator[dict[str, str]]:
    """The rows of a CSV (UTF-8, with or without BOM, or GB18030) or .xlsx file, by header."""
    suffix = Path(name).suffix.lower()
    if suffix == ".xlsx":
        line = 0
        try:  # a read-only workbook is read while its rows are: a damaged sheet fails midway
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            rows = book.worksheets[0].iter_rows(values_only=True)
            header = [str(c or "").strip() for c in next(rows, ())]
            line = 1
            for values in rows:
                line += 1
                yield {
                    h: ("" if v is None else str(v).strip())
                    for h, v in zip(header, values, strict=False)
                }
        except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
            where = f"第 {line + 1} 行" if line else ""
            raise InvalidInput(f"无法读取 Excel 文件{where}：{exc}", field="file") from exc
        return
    if suffix not in (".csv", ".txt"):
        raise InvalidInput("仅支持 .csv 或 .xlsx 文件", field="file")
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        content = data.decode("gb18030", errors="replace")
    reader = csv.DictReader(io.StringIO(content, newline=""))  # a bare CR ends a row
    try:
        yield from reader
    except csv.Error as exc:  # e.g. a quote never closed: a field past the reader's limit
        raise InvalidInput(
            f"无法读取 CSV 文件第 {reader.line_num} 行：{exc}（请检查引号是否成对）", field="file"
        ) from exc


# ---- import -------------------------------------------------------------------------------------


def _grids(session: Session, scope: AreaScope) -> set[str]:
    return set(
        session.execute(
            text(f"SELECT code FROM grids WHERE status = 'active' AND {scope.sql('code')}"),
            scope.params(),
        ).scalars()
    )


def _households(session: Session, codes_: set[str]) -> dict[tuple[str, str, str], Any]:
    if not codes_:
        return {}
    rows = session.execute(
        text(
            f"SELECT b.code AS building_code, h.unit, h.room, h.id, "
            f"{grid_of_point_sql('h.location')} AS grid_code FROM households h "
            "JOIN buildings b ON b.id = h.building_id WHERE b.code = ANY(:codes)"
        ),
        {"codes": sorted(codes_)},
    ).all()
    return {(r.building_code, r.unit, r.room): r for r in rows}


def _buildings(session: Session, codes_: set[str]) -> dict[str, Any]:
    if not codes_:
        return {}
    rows = session.execute(
        text(
            f"SELECT b.code, b.id, {grid_of_point_sql('b.location')} AS grid_code "
            "FROM buildings b WHERE b.code = ANY(:codes)"
        ),
        {"codes": sorted(codes_)},
    ).all()
    return {r.code: r for r in rows}


def _read(kind: str, raw: dict[str, str]) -> dict[str, Any]:
    """One row's values under our names, each checked by its field spec (InvalidInput names the
    column)."""
    values: dict[str, Any] = {}
    specs = fields.SPECS[kind]
    for name, column in COLUMNS[kind]:
        value = (raw.get(column) or "").strip()
        if name == "building_code" or (kind == "person" and name in ("unit", "room")):
            values[name] = value or None
            continue
        if name == "id_number":
            values[name] = value
            continue
        if value == "" and name not in ("special_groups", "party_member"):
            continue
        try:
            values[name] = specs[name].parse(value, column)
        except InvalidInput as exc:
            raise InvalidInput(exc.message, field=column) from exc
    return values


def import_rows(
    session: Session,
    *,
    scope: AreaScope,
    keys: RegisterKeys | None,
    kind: str,
    rows: Iterable[dict[str, str]],
    dry_run: bool,
    by: str,
) -> Report:
    if kind == "person":
        if keys is None:
            raise InvalidInput("登记簿未配置密钥，不能导入人口")
        return _import_persons(session, scope, keys, rows, dry_run, by)
    return _import_places(session, scope, kind, rows, dry_run, by)


_PERSON_FIELDS = (
    "name", "gender", "birth_date", "id_type", "phone", "ethnicity", "residence_type",
    "registered_address", "household_id", "relation", "grid_code", "special_groups",
    "party_member", "status",
)  # fmt: skip


def _import_persons(
    session: Session,
    scope: AreaScope,
    keys: RegisterKeys,
    rows: Iterable[dict[str, str]],
    dry_run: bool,
    by: str,
) -> Report:
    report = Report("person", dry_run)
    grids = _grids(session, scope)
    parsed: list[tuple[int, dict[str, Any]]] = []
    for number, raw in enumerate(rows, start=2):  # row 1 is the header
        report.rows += 1
        try:
            values = _read("person", raw)
            if not values.get("name"):
                raise InvalidInput("姓名不能为空", field="姓名")
            checked = idnumbers.check(
                values.pop("id_number"), id_type=values.get("id_type") or "111", field="证件号码"
            )
            values["id_type"] = checked.id_type
            values.setdefault("gender", checked.gender)
            if checked.birth_date and not values.get("birth_date"):
                values["birth_date"] = checked.birth_date.isoformat()
            values["_number"] = checked.number
            parsed.append((number, values))
        except GridgovError as exc:
            report.rejected.append(
                {"row": number, "field": exc.detail.get("field", ""), "message": exc.message}
            )
    homes = _households(session, {v["building_code"] for _, v in parsed if v.get("building_code")})
    ready: list[dict[str, Any]] = []
    seen: set[bytes] = set()
    for number, values in parsed:
        try:
            address = values.pop("building_code", None)
            unit, room = values.pop("unit", None) or "", values.pop("room", None) or ""
            if address:
                home = homes.get((address, unit, room))
                if home is None:
                    raise InvalidInput(
                        f"现住址 {address} {unit}单元{room} 没有对应的住户", field="现住址楼栋编码"
                    )
                values["household_id"] = home.id
                values.setdefault("grid_code", home.grid_code)
            grid = values.get("grid_code")
            if not grid:
                raise InvalidInput("须填写所属网格编码或现住址", field="所属网格编码")
            if grid not in grids:
                raise InvalidInput(f"网格 {grid} 不在您的辖区或不是在用网格", field="所属网格编码")
            groups = [g for g in values.get("special_groups") or [] if g != codes.FLOATING_TAG]
            if values.get("residence_type", "registered") == "floating":
                groups.append(codes.FLOATING_TAG)
            values["special_groups"] = sorted(groups, key=codes.SPECIAL_GROUPS.index)
            values.setdefault("residence_type", "registered")
            values.setdefault("status", "active")
            values.setdefault("party_member", False)
            number_ = values.pop("_number")
            values["_hash"] = idnumbers.lookup_hash(keys, number_, values["id_type"])
            values["_masked"] = idnumbers.mask(number_)
            if values["_hash"] in seen:
                raise InvalidInput("同一文件中此证件号码重复出现", field="证件号码")
            seen.add(values["_hash"])
            values["_number"] = number_
            values["_row"] = number
            ready.append(values)
        except GridgovError as exc:
            report.rejected.append(
                {"row": number, "field": exc.detail.get("field", ""), "message": exc.message}
            )
    existing = _existing_persons(session, [v["_hash"] for v in ready])
    new, changed = [], []
    for values in ready:
        old = existing.get(values["_hash"])
        if old is None:
            new.append(values)
        elif not scope.covers(old.grid_code):
            report.rejected.append(
                {
                    "row": values["_row"],
                    "field": "证件号码",
                    "message": "此人已在其他辖区登记或有待审核的新增申请",
                }
            )
        elif any(
            _same(getattr(old, f), values.get(f, getattr(old, f))) is False for f in _PERSON_FIELDS
        ):
            values["_id"] = old.id
            changed.append(values)
        else:
            report.unchanged += 1
    elsewhere = _held_elsewhere(session, [v["_hash"] for v in new])
    if elsewhere:
        for values in new:
            if values["_hash"] in elsewhere:
                report.rejected.append(
                    {
                        "row": values["_row"],
                        "field": "证件号码",
                        "message": "此人已在其他辖区登记或有待审核的新增申请",
                    }
                )
        new = [v for v in new if v["_hash"] not in elsewhere]
    report.added, report.changed = len(new), len(changed)
    if dry_run:
        return report
    added_ids = insert_persons(session, keys, new)
    for values in changed:
        sets = [f"{f} = :{f}" for f in _PERSON_FIELDS if f in values]
        session.execute(
            text(
                f"UPDATE persons SET {', '.join(sets)}, version = version + 1, updated_at = now() "
                "WHERE id = :_id"
            ),
            {f: values[f] for f in _PERSON_FIELDS if f in values} | {"_id": values["_id"]},
        )
    touched = added_ids + [v["_id"] for v in changed]
    history_sql(session, "person", "persons", touched, by)
    sync_household_groups(session, {v.get("household_id") for v in new + changed})
    return report


def _held_elsewhere(session: Session, hashes: list[bytes]) -> set[bytes]:
    """The hashes registered (or proposed) outside the caller's area: the unique ID holds across
    the whole database, so such a row is rejected rather than failing the file."""
    out: set[bytes] = set()
    for start in range(0, len(hashes), 20000):
        out.update(
            bytes(h)
            for h in session.execute(
                text(
                    "SELECT h FROM unnest(CAST(:hashes AS bytea[])) h "
                    "WHERE EXISTS (SELECT 1 FROM register_id_holder(h))"
                ),
                {"hashes": hashes[start : start + 20000]},
            ).scalars()
        )
    return out


def _same(a: Any, b: Any) -> bool:
    if hasattr(a, "isoformat"):
        a = a.isoformat()
    if isinstance(a, list):
        a = list(a)
    return bool(a == b)


def _existing_persons(session: Session, hashes: list[bytes]) -> dict[bytes, Any]:
    out: dict[bytes, Any] = {}
    for start in range(0, len(hashes), 20000):
        chunk = hashes[start : start + 20000]
        for row in session.execute(
            text(
                "SELECT id_hash, id, " + ", ".join(_PERSON_FIELDS) + " FROM persons "
                "WHERE id_hash = ANY(:hashes)"
            ),
            {"hashes": chunk},
        ):
            out[bytes(row.id_hash)] = row
    return out


def insert_persons(session: Session, keys: RegisterKeys, new: list[dict[str, Any]]) -> list[int]:
    ids: list[int] = []
    for start in range(0, len(new), 5000):
        chunk = new[start : start + 5000]
        cols = {f: [v.get(f) for v in chunk] for f in _PERSON_FIELDS}
        cols["special_groups"] = [json.dumps(v["special_groups"]) for v in chunk]
        rows = session.execute(
            text(
                """
                INSERT INTO persons (name, gender, birth_date, id_type, phone, ethnicity,
                    residence_type, registered_address, household_id, relation, grid_code,
                    special_groups, party_member, status, id_hash, id_cipher, id_masked)
                SELECT t.name, t.gender, CAST(t.birth_date AS date), t.id_type, t.phone,
                       t.ethnicity, t.residence_type, t.registered_address, t.household_id,
                       t.relation, t.grid_code,
                       ARRAY(SELECT jsonb_array_elements_text(CAST(t.groups AS jsonb))),
                       t.party_member, t.status, t.id_hash, t.id_cipher, t.id_masked
                  FROM unnest(CAST(:name AS text[]), CAST(:gender AS text[]),
                              CAST(:birth_date AS text[]), CAST(:id_type AS text[]),
                              CAST(:phone AS text[]), CAST(:ethnicity AS text[]),
                              CAST(:residence_type AS text[]), CAST(:registered_address AS text[]),
                              CAST(:household_id AS int[]), CAST(:relation AS text[]),
                              CAST(:grid_code AS text[]), CAST(:groups AS text[]),
                              CAST(:party_member AS bool[]), CAST(:status AS text[]),
                              CAST(:id_hash AS bytea[]), CAST(:id_cipher AS bytea[]),
                              CAST(:id_masked AS text[]))
                    AS t(name, gender, birth_date, id_type, phone, ethnicity, residence_type,
                         registered_address, household_id, relation, grid_code, groups,
                         party_member, status, id_hash, id_cipher, id_masked)
                RETURNING id
                """
            ),
            {
                **{f: cols[f] for f in _PERSON_FIELDS if f != "special_groups"},
                "groups": cols["special_groups"],
                "id_hash": [v["_hash"] for v in chunk],
                "id_cipher": [idnumbers.seal(keys, v["_number"]) for v in chunk],
                "id_masked": [v["_masked"] for v in chunk],
            },
        ).scalars()
        ids.extend(rows)
    return ids


def history_sql(session: Session, kind: str, table: str, ids: list[int], by: str) -> None:
    """History rows for records written in bulk (as app/register/apply.py writes one)."""
    if not ids:
        return
    data = "to_jsonb(t) - 'id_cipher' - 'id_hash' - 'location'"
    if kind == "person":
        data = f"({data} - 'id_masked') || jsonb_build_object('id_number', t.id_masked)"
    session.execute(
        text(
            "INSERT INTO register_history (kind, record_id, version, grid_code, data, changed_by) "
            f"SELECT :kind, t.id, t.version, t.grid_code, {data}, :by FROM {table} t "
            "WHERE t.id = ANY(:ids)"
        ),
        {"kind": kind, "ids": ids, "by": by},
    )


_PLACE_FIELDS = {
    "house": ("grid_code", "building_id", "unit", "room", "use", "landlord_name",
              "landlord_phone", "area_m2", "status"),
    "organisation": ("grid_code", "kind", "name", "credit_code", "address", "building_id",
                     "contact_name", "contact_phone", "employees", "status"),
}  # fmt: skip


def _import_places(
    session: Session,
    scope: AreaScope,
    kind: str,
    rows: Iterable[dict[str, str]],
    dry_run: bool,
    by: str,
) -> Report:
    report = Report(kind, dry_run)
    grids = _grids(session, scope)
    raws = list(rows)
    buildings = _buildings(
        session,
        {(r.get("房屋楼栋编码") or r.get("楼栋编码") or "").strip() for r in raws} - {""},
    )
    table = "houses" if kind == "house" else "organisations"
    touched: list[int] = []
    for number, raw in enumerate(raws, start=2):
        report.rows += 1
        try:
            values = _read(kind, raw)
            code = values.pop("building_code", None)
            if code:
                building = buildings.get(code)
                if building is None:
                    raise InvalidInput(f"楼栋 {code} 不存在", field=COLUMNS[kind][0][1])
                values["building_id"] = building.id
                values.setdefault("grid_code", building.grid_code)
            if kind == "house" and "building_id" not in values:
                raise InvalidInput("须填写房屋楼栋编码", field="房屋楼栋编码")
            if kind == "organisation" and not values.get("name"):
                raise InvalidInput("单位名称不能为空", field="单位名称")
            if kind == "organisation" and not values.get("kind"):
                raise InvalidInput("单位类别不能为空", field="单位类别")
            lon, lat = values.pop("lon", None), values.pop("lat", None)
            if lon is not None and lat is not None and not values.get("grid_code"):
                values["grid_code"] = session.execute(
                    text("SELECT " + grid_of_point_sql("ST_SetSRID(ST_MakePoint(:x, :y), 4490)")),
                    {"x": lon, "y": lat},
                ).scalar()
            grid = values.get("grid_code")
            if not grid or grid not in grids:
                raise InvalidInput("所属网格不在您的辖区或不是在用网格", field="所属网格编码")
            values.setdefault("status", "active")
            if kind == "house":
                values.setdefault("unit", "")
                values.setdefault("room", "")
                values.setdefault("use", "self_occupied")
                key_sql = "building_id = :building_id AND unit = :unit AND room = :room"
            elif values.get("credit_code"):
                key_sql = "credit_code = :credit_code"
            else:
                key_sql = "grid_code = :grid_code AND name = :name"
            old = session.execute(
                text(f"SELECT * FROM {table} WHERE {key_sql} LIMIT 1"), values
            ).first()
            names = [f for f in _PLACE_FIELDS[kind] if f in values]
            point = (
                "ST_SetSRID(ST_MakePoint(:lon, :lat), 4490)"
                if lon is not None and lat is not None
                else "(SELECT location FROM buildings WHERE id = :building_id)"
                if values.get("building_id")
                else "NULL"
            )
            params = {**values, "lon": lon, "lat": lat}
            if old is None:
                report.added += 1
                if dry_run:
                    continue
                extra_c, extra_v = (
                    (", location", f", {point}") if kind == "organisation" else ("", "")
                )
                new_id = session.execute(
                    text(
                        f"INSERT INTO {table} ({', '.join(names)}{extra_c}) VALUES "
                        f"({', '.join(':' + n for n in names)}{extra_v}) RETURNING id"
                    ),
                    params,
                ).scalar_one()
                touched.append(new_id)
                if kind == "house":
                    link_household(session, new_id)
            elif all(_same(getattr(old, n), values[n]) for n in names):
                report.unchanged += 1
            else:
                report.changed += 1
                if dry_run:
                    continue
                sets = ", ".join(f"{n} = :{n}" for n in names)
                if kind == "organisation":
                    sets += f", location = {point}"
                session.execute(
                    text(
                        f"UPDATE {table} SET {sets}, version = version + 1, updated_at = now() "
                        "WHERE id = :_id"
                    ),
                    {**params, "_id": old.id},
                )
                touched.append(old.id)
        except GridgovError as exc:
            report.rejected.append(
                {"row": number, "field": exc.detail.get("field", ""), "message": exc.message}
            )
    history_sql(session, kind, table, touched, by)
    return report


# ---- export -------------------------------------------------------------------------------------


def export_rows(
    session: Session, *, scope: AreaScope, keys: RegisterKeys | None, kind: str
) -> Iterator[list[Any]]:
    """The header, then one row per record in the area (persons with their full ID number: the
    exchange file is for the county's platform, and only administrators may take it)."""
    yield [column for _, column in COLUMNS[kind]]
    if kind == "person":
        sql = (
            "SELECT p.*, b.code AS building_code, h.unit AS h_unit, h.room AS h_room "
            "FROM persons p LEFT JOIN households h ON h.id = p.household_id "
            f"LEFT JOIN buildings b ON b.id = h.building_id WHERE {scope.sql('p.grid_code')} "
            "ORDER BY p.grid_code, p.id"
        )
    elif kind == "house":
        sql = (
            "SELECT t.*, b.code AS building_code FROM houses t JOIN buildings b "
            f"ON b.id = t.building_id WHERE {scope.sql('t.grid_code')} ORDER BY t.grid_code, t.id"
        )
    else:
        sql = (
            "SELECT t.*, ST_X(t.location) AS lon, ST_Y(t.location) AS lat, b.code AS building_code "
            "FROM organisations t LEFT JOIN buildings b ON b.id = t.building_id "
            f"WHERE {scope.sql('t.grid_code')} ORDER BY t.grid_code, t.id"
        )
    result = session.execute(text(sql).execution_options(yield_per=5000), scope.params())
    for row in result:
        out = []
        for name, _column in COLUMNS[kind]:
            if kind == "person" and name == "id_number":
                value: Any = idnumbers.unseal(keys, row.id_cipher) if keys else row.id_masked
            elif kind == "person" and name in ("unit", "room"):
                value = getattr(row, f"h_{name}")
            elif name == "special_groups":
                value = ";".join(row.special_groups or [])
            elif name == "party_member":
                value = "1" if row.party_member else "0"
            else:
                value = getattr(row, name, None)
            if hasattr(value, "isoformat"):
                value = value.isoformat()
            out.append("" if value is None else value)
        yield out


def to_csv(rows: Iterable[list[Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # Excel opens UTF-8 CSV correctly with a BOM
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > 65536:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def to_xlsx(rows: Iterable[list[Any]], title: str) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
