"""Read planners' files into a GeoDataFrame in CGCS2000 lon/lat, whatever they arrive as.

GeoJSON, GeoPackage, Shapefile (GBK-encoded .dbf included), KML through pyogrio/GDAL; CSV with
coordinate columns (or a WKT column) through pandas. ``crs`` may be any EPSG code or gcj02/bd09:
phone and web-map coordinates are shifted back before anything is stored
(docs/domain.md#coordinates).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

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
    ".zip": "Shapefile (zip)",
}

_LNG = ("lng", "lon", "longitude", "x", "经度")
_LAT = ("lat", "latitude", "y", "纬度")


@dataclass
class ReadResult:
    frame: gpd.GeoDataFrame
    notes: list[str] = field(default_factory=list)


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
    if suffix == ".csv":
        frame = _read_csv(path, encoding=encoding, notes=notes)
    else:
        frame = _read_ogr(path, layer=layer, encoding=encoding, notes=notes)
    frame = _to_storage_crs(frame, crs, notes)
    return ReadResult(frame=frame, notes=notes)


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
        return pyogrio.read_dataframe(path, **kwargs)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InvalidInput(f"文件无法读取（可能已损坏或被截断）：{exc}") from exc
    except Exception as exc:  # GDAL raises a variety of errors for truncated files
        raise InvalidInput(f"文件无法读取（可能已损坏或被截断）：{exc}") from exc


def _shapefile_encoding(path: Path) -> str | None:
    """The .cpg if present; otherwise sniff the .dbf: not UTF-8 means GBK (what Chinese desktop GIS
    writes without saying so)."""
    cpg = path.with_suffix(".cpg")
    if cpg.exists():
        return None  # GDAL honours it
    dbf = path.with_suffix(".dbf")
    if not dbf.exists():
        return None
    raw = dbf.read_bytes()
    try:
        raw.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError:
        return "GBK"


def _read_csv(path: Path, *, encoding: str | None, notes: list[str]) -> gpd.GeoDataFrame:
    raw = path.read_bytes()
    if encoding is None:
        try:
            raw.decode("utf-8")
            encoding = "utf-8-sig"
        except UnicodeDecodeError:
            encoding = "gbk"
            notes.append("CSV 非 UTF-8，按 GBK 读取")
    try:
        df = pd.read_csv(path, dtype=str, encoding=encoding, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"CSV 无法解析：{exc}") from exc
    cols = {c.strip().lower(): c for c in df.columns}
    if "wkt" in cols:
        geom = shapely.from_wkt(df[cols["wkt"]].replace("", None), on_invalid="ignore")
        return gpd.GeoDataFrame(df.drop(columns=[cols["wkt"]]), geometry=geom, crs=None)
    lng = next((cols[c] for c in _LNG if c in cols), None)
    lat = next((cols[c] for c in _LAT if c in cols), None)
    if lng is None or lat is None:
        # A CSV without coordinates (e.g. a household roster keyed by building) is fine.
        return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries([None] * len(df)), crs=None)
    x = pd.to_numeric(df[lng], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(df[lat], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    geom = np.full(len(df), None, dtype=object)
    geom[ok] = shapely.points(x[ok], y[ok])
    return gpd.GeoDataFrame(df.drop(columns=[lng, lat]), geometry=list(geom), crs=None)


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
            except pyproj.exceptions.CRSError as exc:
                raise InvalidInput(
                    f"--crs {crs!r} 无法识别；请用 EPSG 编码（如 4490、4326、4547）或 gcj02、bd09"
                ) from exc
        if frame.crs is None:
            frame = frame.set_crs(declared)
        elif not frame.crs.equals(declared) and shifted is None:
            notes.append(f"文件自带坐标系 {frame.crs.to_string()}，与 --crs {crs} 不同，以文件为准")
    if frame.crs is None:
        frame = frame.set_crs(STORAGE_EPSG)
        if frame.geometry.notna().any():
            notes.append("文件未声明坐标系，按 CGCS2000 经纬度（EPSG:4490）读取")
    epsg = frame.crs.to_epsg()
    if epsg not in (4490, 4326):
        notes.append(f"坐标已由 {frame.crs.to_string()} 转换为 CGCS2000（EPSG:4490）")
        frame = frame.to_crs(STORAGE_EPSG)
    else:
        frame = frame.set_crs(STORAGE_EPSG, allow_override=True)
    if shifted is not None:
        has = frame.geometry.notna() & ~frame.geometry.is_empty
        if has.any():
            frame.loc[has, "geometry"] = shapely.transform(
                frame.geometry[has].to_numpy(), lambda xy: _unshift(xy, shifted)
            )
        notes.append(f"坐标已由 {shifted.upper()} 纠偏为 CGCS2000")
    return frame


def _unshift(xy: np.ndarray, system: str) -> np.ndarray:
    x, y = to_wgs84(xy[:, 0], xy[:, 1], system)
    return np.column_stack([x, y])
