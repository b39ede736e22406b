"""Receiving an uploaded file (imports, plan uploads): saved under a size limit, and a zip checked
by what its directory declares — total size, member count, compression ratio — before one byte is
extracted, then extracted under the same limits (a member cannot write more than it declared).
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from fastapi import UploadFile

from app.errors import InvalidInput, PayloadTooLarge
from app.http.limits import human_size
from app.imports.readers import FORMATS, SHAPEFILE_PARTS

_MIB = 1 << 20
# What a zip may hold a dataset as, best first (a Shapefile's .shp beside its .dbf/.shx/.prj).
_DATASETS = (".shp", ".gpkg", ".geojson", ".json", ".kml", ".csv", ".xlsx")
# Tiny members compress absurdly well (a blank .dbf); only members bigger than this are ratio-checked.
_RATIO_FLOOR = _MIB


async def receive_upload(file: UploadFile, directory: Path, settings: Any) -> Path:
    """Save ``file`` into ``directory`` (at most ``upload_max_bytes``) and return the dataset to read:
    the file itself, or the dataset inside a zip."""
    name = Path(file.filename or "upload").name
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        raise InvalidInput(
            f"不支持的文件类型 {suffix or '（无扩展名）'}；支持：{'、'.join(sorted(FORMATS))}"
        )
    if suffix == ".shp":  # one file cannot carry the .dbf, .shx and .prj beside it
        raise InvalidInput(SHAPEFILE_PARTS, field="file")
    limit = int(settings.upload_max_bytes)
    target = directory / name
    size = 0
    with target.open("wb") as out:
        while chunk := await file.read(_MIB):
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"文件超过 {human_size(limit)} 上限")
            out.write(chunk)
    if suffix != ".zip":
        return target
    return unpack_zip(
        target,
        directory / "unzipped",
        max_bytes=int(settings.unzip_max_bytes),
        max_ratio=float(settings.unzip_max_ratio),
        max_files=int(settings.unzip_max_files),
    )


def _safe_member_path(dest: Path, filename: str) -> Path | None:
    parts = [
        p for p in PurePosixPath(filename.replace("\\", "/")).parts if p not in ("/", ".", "..")
    ]
    parts = [p for p in parts if ":" not in p]  # no drive letters
    if not parts:
        return None
    return dest.joinpath(*parts)


def check_zip(zf: zipfile.ZipFile, *, max_bytes: int, max_ratio: float, max_files: int) -> list:
    """Refuse an archive by its directory alone (nothing is decompressed here)."""
    members = [i for i in zf.infolist() if not i.is_dir()]
    if len(members) > max_files:
        raise InvalidInput(f"ZIP 内文件过多：{len(members)} 个，最多 {max_files} 个")
    total = sum(i.file_size for i in members)
    if total > max_bytes:
        raise PayloadTooLarge(
            f"ZIP 解压后共 {human_size(total)}，超过 {human_size(max_bytes)} 上限；请只打包需要导入的图层"
        )
    for info in members:
        if info.file_size > _RATIO_FLOOR:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > max_ratio:
                raise InvalidInput(
                    f"ZIP 中的 {info.filename} 压缩比异常（{ratio:.0f}:1，上限 {max_ratio:.0f}:1），"
                    "疑似压缩炸弹，已拒收"
                )
    return members


def unpack_zip(
    archive: Path, dest: Path, *, max_bytes: int, max_ratio: float, max_files: int
) -> Path:
    try:
        with zipfile.ZipFile(archive) as zf:
            members = check_zip(zf, max_bytes=max_bytes, max_ratio=max_ratio, max_files=max_files)
            dest.mkdir()
            for info in members:
                target = _safe_member_path(dest, info.filename)
                if target is None:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                _extract(zf, info, target)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise InvalidInput(f"ZIP 文件已损坏：{exc}") from exc
    except NotImplementedError as exc:  # e.g. an unsupported compression method
        raise InvalidInput(f"ZIP 文件无法解压：{exc}") from exc
    except RuntimeError as exc:  # encrypted members
        raise InvalidInput("ZIP 文件已加密，请去掉密码后重新打包") from exc
    for suffix in _DATASETS:
        found = sorted(p for p in dest.rglob("*") if p.suffix.lower() == suffix and p.is_file())
        if found:
            return found[0]
    raise InvalidInput(f"ZIP 中没有可导入的文件（{'、'.join(_DATASETS)}）")


def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    # zipfile stops a member at its declared size and checks its CRC; we count as well.
    written = 0
    with zf.open(info) as src, target.open("wb") as out:
        while chunk := src.read(_MIB):
            written += len(chunk)
            if written > info.file_size:
                raise InvalidInput(f"ZIP 中的 {info.filename} 实际大小与声明不符，已拒收")
            out.write(chunk)
