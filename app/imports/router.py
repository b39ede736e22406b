import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile

from app.auth.deps import require_roles
from app.db import SessionDep
from app.errors import InvalidInput, PayloadTooLarge
from app.imports.readers import FORMATS
from app.imports.service import run_import

router = APIRouter(prefix="/api/v1/imports", tags=["imports"])


@router.post("/{kind}", dependencies=[Depends(require_roles("county_admin", "planner"))])
async def upload(
    request: Request,
    session: SessionDep,
    kind: str,
    file: Annotated[
        UploadFile, File(description="GeoJSON, GeoPackage, zipped Shapefile, KML or CSV")
    ],
    crs: Annotated[str | None, Form()] = None,
    layer: Annotated[str | None, Form()] = None,
    encoding: Annotated[str | None, Form()] = None,
    commit: Annotated[bool, Form()] = False,
) -> dict[str, Any]:
    """Upload a file: a dry-run report by default; ``commit=true`` writes the good rows at once."""
    name = Path(file.filename or "upload").name
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        raise InvalidInput(
            f"不支持的文件类型 {suffix or '（无扩展名）'}；支持：{'、'.join(sorted(FORMATS))}"
        )
    limit = request.app.state.settings.upload_max_bytes
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / name
        size = 0
        with target.open("wb") as out:
            while chunk := await file.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"文件超过 {limit // (1 << 20)} MB 上限")
                out.write(chunk)
        if suffix == ".zip":
            target = _unzip_shapefile(target)
        report = run_import(
            session,
            kind=kind,
            path=target,
            crs=crs,
            layer=layer,
            encoding=encoding,
            commit=commit,
            source_name=name,
        )
    if commit:
        request.app.state.registry.invalidate()
    return report.as_dict()


def _unzip_shapefile(archive: Path) -> Path:
    import zipfile

    try:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(archive.parent / "unzipped")
    except zipfile.BadZipFile as exc:
        raise InvalidInput("ZIP 文件已损坏") from exc
    shps = sorted((archive.parent / "unzipped").rglob("*.shp"))
    if not shps:
        raise InvalidInput("ZIP 中没有 .shp 文件")
    return shps[0]
