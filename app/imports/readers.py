"""Read planners' files into a GeoDataFrame in CGCS2000 lon/lat, whatever they arrive as.

GeoJSON (DataV/Aliyun boundary files included: nested ``parent: {adcode}`` becomes the column
``parent.adcode``) is parsed feature by feature, so a feature with a null, empty or unreadable
geometry is one row with a reason rather than a failed file. GeoPackage, Shapefile (GBK-encoded
.dbf included) and KML go through pyogrio/GDAL; CSV and Excel (.xlsx) tables with coordinate
columns, a WKT column or no geometry at all (a code table, a household roster) through the csv
module and openpyxl. ``crs`` may be any EPSG code or gcj02/bd09: phone and web-map coordinates are
shifted back before anything is stored (docs/domain.md#coordinates).

What cannot be read in a row (empty, non-numeric or out-of-range coordinates, a broken geometry,
bytes the encoding cannot read, a line with the wrong number of fields) is put in
``ReadResult.problems`` by row position, for the import to reject with its number and reason; only a
file that cannot be opened at all is refused (docs/imports.md).
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely
from shapely.geometry import shape

from app.errors import InvalidInput
from gis.crs import parse_coord_system, to_wgs84
from gis.projection import STORAGE_EPSG

FORMATS = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".shp": "Shapefile",
    ".kml": "KML",
    ".csv": "CSV",
    ".xlsx": "Excel",
    ".zip": "Shapefile (zip)",
}
SHAPEFILE_PARTS = "请将 .shp 与同名的 .dbf、.shx、.prj 打包为一个 zip 上传"

_LNG = ("lng", "lon", "longitude", "x", "经度")
_LAT = ("lat", "latitude", "y", "纬度")
_WKT = ("wkt", "geometry", "geom")
_BAD_CHAR = "\ufffd"


@dataclass
class ReadResult:
    frame: gpd.GeoDataFrame
    notes: list[str] = field(default_factory=list)
    # Row position (0-based) → why the row cannot be imported as read.
    problems: dict[int, str] = field(default_factory=dict)


def read_any(
    path: Path,
    *,
    crs: str | None = None,
    layer: str | None = None,
    encoding: str | None = None,
) -> ReadResult:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InvalidInput(f"不支持的文件类型 {suffix}；支持：{'、'.join(sorted(FORMATS))}")
    if not path.exists():
        raise InvalidInput(f"文件不存在：{path}")
    notes: list[str] = []
    problems: dict[int, str] = {}
    if suffix == ".csv":
        frame = _read_csv(path, encoding=encoding, notes=notes, problems=problems)
    elif suffix == ".xlsx":
        frame = _read_excel(path, layer=layer, problems=problems)
    elif suffix in (".geojson", ".json"):
        frame = _read_geojson(path, encoding=encoding, notes=notes, problems=problems)
    else:
        if suffix == ".shp":
            _check_shapefile_parts(path)
        frame = _read_ogr(path, layer=layer, encoding=encoding, notes=notes)
    frame.columns = _unique_names(frame.columns)
    if frame.geometry.name != "geometry" and "geometry" in frame.columns:
        frame = frame.set_geometry("geometry")
    _check_text(frame, problems)
    _check_coordinates(frame, problems)
    frame = _to_storage_crs(frame, crs, notes)
    return ReadResult(frame=frame, notes=notes, problems=problems)


def _unique_names(columns: Any) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for c in columns:
        name = str(c).strip() or "未命名"
        n = seen.get(name, 0)
        seen[name] = n + 1
        out.append(name if n == 0 else f"{name}.{n}")
    return out


def _check_shapefile_parts(path: Path) -> None:
    """A .shp alone is only the shapes: the attributes are in the .dbf and the index in the .shx."""
    stems = {p.suffix.lower() for p in path.parent.glob(f"{path.stem}.*")}
    if ".dbf" not in stems or ".shx" not in stems:
        raise InvalidInput(SHAPEFILE_PARTS)


def _frame(
    rows: list[dict[str, Any]], geoms: list[Any], crs: Any = None, columns: list[str] | None = None
) -> gpd.GeoDataFrame:
    df = pd.DataFrame(rows, columns=columns, dtype=object)
    df = df.drop(columns=[c for c in df.columns if str(c) == "geometry"])
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, index=df.index), crs=crs)


# --------------------------------------------------------------------------- OGR formats
def _read_ogr(
    path: Path, *, layer: str | None, encoding: str | None, notes: list[str]
) -> gpd.GeoDataFrame:
    kwargs: dict[str, object] = {}
    if layer:
        kwargs["layer"] = layer
    if path.suffix.lower() == ".shp":
        encoding = encoding or _shapefile_encoding(path)
        if encoding:
            kwargs["encoding"] = encoding
            notes.append(f"属性编码按 {encoding} 读取")
    elif encoding:
        kwargs["encoding"] = encoding
    try:
        frame = pyogrio.read_dataframe(path, **kwargs)
    except Exception as exc:  # GDAL raises a variety of errors for damaged or truncated files
        raise InvalidInput(f"文件无法读取（可能已损坏或被截断）：{exc}") from exc
    if not isinstance(frame, gpd.GeoDataFrame):  # a layer without geometry (a table in a .gpkg)
        frame = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([None] * len(frame)))
    return frame


def _shapefile_encoding(path: Path) -> str | None:
    """The .cpg if present; otherwise sniff the .dbf: not UTF-8 means GBK (what Chinese desktop GIS
    writes without saying so)."""
    if any(p.suffix.lower() == ".cpg" for p in path.parent.glob(f"{path.stem}.*")):
        return None  # GDAL honours it
    dbf = next((p for p in path.parent.glob(f"{path.stem}.*") if p.suffix.lower() == ".dbf"), None)
    if dbf is None:
        return None
    raw = dbf.read_bytes()
    try:
        raw.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        return "GBK"


# --------------------------------------------------------------------------- text
def _decode(raw: bytes, encoding: str | None, notes: list[str], what: str) -> str:
    """The file's text: UTF-8 (with or without BOM), else GBK; bytes neither reads become U+FFFD,
    so the rows holding them are rejected one by one (``_check_text``)."""
    if encoding:
        try:
            return raw.decode(encoding, errors="replace")
        except LookupError as exc:
            raise InvalidInput(
                f"未知的编码 {encoding}；常用：UTF-8、GBK", field="encoding"
            ) from exc
    for candidate in ("utf-8-sig", "gbk"):
        try:
            text = raw.decode(candidate)
        except UnicodeDecodeError:
            continue
        if candidate == "gbk":
            notes.append(f"{what} 非 UTF-8，按 GBK 读取")
        return text
    utf8 = raw.decode("utf-8-sig", errors="replace")
    gbk = raw.decode("gbk", errors="replace")
    best, name = (utf8, "UTF-8") if utf8.count(_BAD_CHAR) <= gbk.count(_BAD_CHAR) else (gbk, "GBK")
    notes.append(
        f"{what} 含有按 UTF-8 和 GBK 都无法识别的字节，按 {name} 读取；含这些字节的行被拒绝"
    )
    return best


def _check_text(frame: gpd.GeoDataFrame, problems: dict[int, str]) -> None:
    for column in frame.columns:
        if column == frame.geometry.name or frame[column].dtype != object:
            continue
        values = frame[column].to_numpy()
        for pos, value in enumerate(values):
            if isinstance(value, str) and (_BAD_CHAR in value or "\x00" in value):
                problems.setdefault(
                    pos, f"字段 {column} 含有无法识别的字符：文件编码有误（可用 --encoding 指定）"
                )


# --------------------------------------------------------------------------- GeoJSON
def _read_geojson(
    path: Path, *, encoding: str | None, notes: list[str], problems: dict[int, str]
) -> gpd.GeoDataFrame:
    text = _decode(path.read_bytes(), encoding, notes, "GeoJSON")
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InvalidInput(
            f"GeoJSON 文件无法读取（可能已损坏或被截断，不是有效的 JSON）：{exc}"
        ) from exc
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        features = doc.get("features")
    elif isinstance(doc, dict) and doc.get("type") == "Feature":
        features = [doc]
    elif isinstance(doc, list):
        features = doc
    else:
        raise InvalidInput("GeoJSON 应为 FeatureCollection（含 features 数组）或 Feature")
    if not isinstance(features, list):
        raise InvalidInput("GeoJSON 的 features 应为数组")
    crs = _geojson_crs(doc, notes)
    rows: list[dict[str, Any]] = []
    geoms: list[Any] = []
    for pos, feature in enumerate(features):
        props: dict[str, Any] = {}
        geom = None
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems[pos] = "不是 GeoJSON Feature"
        else:
            raw_props = feature.get("properties")
            if isinstance(raw_props, dict):
                props = _flatten(raw_props)
            elif raw_props is not None:
                problems[pos] = "properties 应为对象"
            geom, reason = _geojson_geometry(feature.get("geometry"))
            if reason:
                problems[pos] = reason
        rows.append(props)
        geoms.append(geom)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    return _frame(rows, geoms, crs=crs, columns=columns)


def _geojson_crs(doc: Any, notes: list[str]) -> Any:
    """RFC 7946 GeoJSON is WGS 84 lon/lat, which the storage CRS is read as; an old-style ``crs``
    member (as GDAL writes for EPSG:4490) is honoured."""
    member = doc.get("crs") if isinstance(doc, dict) else None
    name = member.get("properties", {}).get("name") if isinstance(member, dict) else None
    if not isinstance(name, str):
        return None
    try:
        return pyproj.CRS.from_user_input(name)
    except pyproj.exceptions.CRSError:
        notes.append(f"GeoJSON 声明的坐标系 {name} 无法识别，已忽略")
        return None


def _flatten(props: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects become dotted columns (DataV's ``parent: {adcode}`` → ``parent.adcode``);
    arrays (``center``, ``acroutes``) stay as JSON text."""
    out: dict[str, Any] = {}
    for key, value in props.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        elif isinstance(value, list):
            out[name] = json.dumps(value, ensure_ascii=False)
        elif isinstance(value, bool) or value is None:
            out[name] = value
        elif isinstance(value, int | float):
            out[name] = _number_text(value)
        else:
            out[name] = str(value)
    return out


def _number_text(value: float) -> str | None:
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if value.is_integer():
            return str(int(value))
    return str(value)


def _geojson_geometry(raw: Any) -> tuple[Any, str | None]:
    if raw is None:
        return None, None  # the importer says what it needed ("缺少几何图形")
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        return None, "几何对象无法识别（geometry 应为含 type 的对象）"
    try:
        geom = shape(raw)
    except Exception as exc:  # shapely raises several kinds for malformed coordinates
        return None, f"几何坐标无法读取（{raw.get('type')}）：{_short(exc)}"
    return geom, None


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 80 else text[:77] + "…"


# --------------------------------------------------------------------------- CSV and Excel
def _read_csv(
    path: Path, *, encoding: str | None, notes: list[str], problems: dict[int, str]
) -> gpd.GeoDataFrame:
    text = _decode(path.read_bytes(), encoding, notes, "CSV")
    lines = csv.reader(io.StringIO(text.replace("\x00", _BAD_CHAR), newline=""), strict=False)
    header: list[str] | None = None
    rows: list[list[str]] = []
    while True:
        try:
            record = next(lines)
        except StopIteration:
            break
        except csv.Error as exc:
            if header is None:
                raise InvalidInput(f"CSV 表头无法解析：{exc}") from exc
            problems[len(rows)] = f"该行无法解析：{exc}"
            rows.append([])
            continue
        if header is None:
            if not any(cell.strip() for cell in record):
                continue  # blank lines before the header
            header = [cell.strip() for cell in record]
            continue
        if not any(cell.strip() for cell in record):
            continue  # a blank line is not a row
        if len(record) != len(header):
            problems[len(rows)] = f"字段数 {len(record)} 与表头的 {len(header)} 个不符"
        rows.append(record)
    if header is None:
        raise InvalidInput("CSV 为空：没有表头")
    return _table(header, rows, problems)


def _read_excel(path: Path, *, layer: str | None, problems: dict[int, str]) -> gpd.GeoDataFrame:
    try:
        sheets = pd.read_excel(path, sheet_name=None, dtype=object, header=None)
    except Exception as exc:  # openpyxl and zipfile raise many kinds for a damaged workbook
        raise InvalidInput(
            f"Excel 文件无法读取（可能已损坏，或不是 .xlsx）：{_short(exc)}"
        ) from exc
    if not sheets:
        raise InvalidInput("Excel 文件中没有工作表")
    if layer is not None and layer not in sheets:
        raise InvalidInput(f"Excel 中没有工作表 {layer}；有：{'、'.join(map(str, sheets))}")
    sheet = sheets[layer] if layer is not None else next(iter(sheets.values()))
    cells = [[_cell(v) for v in row] for row in sheet.itertuples(index=False)]
    cells = [row for row in cells if any(c.strip() for c in row)]
    if not cells:
        raise InvalidInput("Excel 工作表为空：没有表头")
    header = [c.strip() for c in cells[0]]
    return _table(header, cells[1:], problems)


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a code typed into Excel as a number
    return str(value)


def _table(header: list[str], rows: list[list[str]], problems: dict[int, str]) -> gpd.GeoDataFrame:
    """Rows of text under ``header`` → a frame; a geometry from lng/lat columns or a WKT column."""
    names = _unique_names(header)
    width = len(names)
    fitted = [(r + [""] * width)[:width] for r in rows]
    df = pd.DataFrame(fitted, columns=names, dtype=object)
    lowered = {c.lower(): c for c in names}
    wkt = next((lowered[c] for c in _WKT if c in lowered), None)
    lng = next((lowered[c] for c in _LNG if c in lowered), None)
    lat = next((lowered[c] for c in _LAT if c in lowered), None)
    geoms: list[Any] = [None] * len(df)
    if wkt is not None:
        for pos, value in enumerate(df[wkt]):
            if not str(value).strip():
                continue
            try:
                geoms[pos] = shapely.from_wkt(str(value))
            except Exception as exc:  # shapely.errors.GEOSException and friends
                problems.setdefault(pos, f"{wkt} 列的几何（WKT）无法读取：{_short(exc)}")
        df = df.drop(columns=[wkt])
    elif lng is not None and lat is not None:
        for pos, (x, y) in enumerate(zip(df[lng], df[lat], strict=True)):
            point, reason = _point(lng, str(x), lat, str(y))
            geoms[pos] = point
            if reason:
                problems.setdefault(pos, reason)
        df = df.drop(columns=[lng, lat])
    # A table without coordinates (a code table, a household roster keyed by building) is fine.
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, index=df.index), crs=None)


def _point(xname: str, x: str, yname: str, y: str) -> tuple[Any, str | None]:
    x, y = x.strip(), y.strip()
    if not x and not y:
        return None, None  # no location: the importer says whether it needed one
    values = []
    for name, value, limit in ((xname, x, 180.0), (yname, y, 90.0)):
        if not value:
            return None, f"{name} 为空"
        try:
            number = float(value)
        except ValueError:
            return None, f"{name} 的值 {value[:20]!r} 不是数字"
        if not math.isfinite(number):
            return None, f"{name} 的值 {value[:20]!r} 不是有限的数"
        if abs(number) > limit:
            return None, f"{name} 的值 {value[:20]} 超出 ±{limit:g}"
        values.append(number)
    return shapely.points(values[0], values[1]), None


# --------------------------------------------------------------------------- coordinates
def _check_coordinates(frame: gpd.GeoDataFrame, problems: dict[int, str]) -> None:
    """Geometries with NaN or infinite coordinates cannot be measured or repaired: rejected rows."""
    geoms = frame.geometry.to_numpy()
    present = np.array([g is not None for g in geoms], dtype=bool)
    if not present.any():
        return
    try:
        coords, owner = shapely.get_coordinates(geoms[present], return_index=True)
    except Exception:  # a geometry GEOS cannot walk
        coords, owner = np.empty((0, 2)), np.empty(0, dtype=int)
    bad = np.unique(owner[~np.isfinite(coords).all(axis=1)])
    positions = np.flatnonzero(present)
    for k in bad:
        pos = int(positions[k])
        problems.setdefault(pos, "几何含有非数值坐标（NaN 或无穷大）")
        geoms[pos] = None
    if len(bad):
        frame[frame.geometry.name] = gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs)


def _to_storage_crs(frame: gpd.GeoDataFrame, crs: str | None, notes: list[str]) -> gpd.GeoDataFrame:
    shifted = None
    if crs is not None:
        try:
            system = parse_coord_system(crs).value
        except ValueError:
            system = None
        if system in ("gcj02", "bd09"):
            shifted = system
            declared = pyproj.CRS.from_epsg(4326)
        else:
            try:
                declared = pyproj.CRS.from_user_input(int(crs) if crs.isdigit() else crs)
            except (pyproj.exceptions.CRSError, ValueError, OverflowError) as exc:
                raise InvalidInput(
                    f"--crs {crs!r} 无法识别；请用 EPSG 编码（如 4490、4326、4547）或 gcj02、bd09",
                    field="crs",
                ) from exc
        if frame.crs is None:
            frame = frame.set_crs(declared)
        elif not frame.crs.equals(declared) and shifted is None:
            notes.append(f"文件自带坐标系 {frame.crs.to_string()}，与 --crs {crs} 不同，以文件为准")
    if frame.crs is None:
        frame = frame.set_crs(STORAGE_EPSG)
        if _drawn(frame).any():
            notes.append("文件未声明坐标系，按 CGCS2000 经纬度（EPSG:4490）读取")
    epsg = frame.crs.to_epsg()
    if epsg not in (4490, 4326):
        notes.append(f"坐标已由 {frame.crs.to_string()} 转换为 CGCS2000（EPSG:4490）")
        try:
            frame = frame.to_crs(STORAGE_EPSG)
        except Exception as exc:  # pyproj refuses a CRS it cannot transform from
            raise InvalidInput(f"坐标无法由 {frame.crs.to_string()} 转换：{_short(exc)}") from exc
    else:
        frame = frame.set_crs(STORAGE_EPSG, allow_override=True)
    if shifted is not None:
        has = _drawn(frame)
        if has.any():
            frame.loc[has, "geometry"] = shapely.transform(
                frame.geometry[has].to_numpy(), lambda xy: _unshift(xy, shifted)
            )
        notes.append(f"坐标已由 {shifted.upper()} 纠偏为 CGCS2000")
    return frame


def _drawn(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Which rows have a geometry that is neither missing nor empty."""
    return np.array([g is not None and not g.is_empty for g in frame.geometry], dtype=bool)


def _unshift(xy: np.ndarray, system: str) -> np.ndarray:
    x, y = to_wgs84(xy[:, 0], xy[:, 1], system)
    return np.column_stack([x, y])
