import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile

from app.auth.deps import SessionDep
from app.auth.policy import Action, Resource
from app.auth.scope import access_whole
from app.imports.service import run_import
from app.imports.upload import receive_upload

router = APIRouter(prefix="/api/v1/imports", tags=["imports"])


@router.post("/{kind}", dependencies=[Depends(access_whole(Resource.IMPORT, Action.CREATE))])
async def upload(
    request: Request,
    session: SessionDep,
    kind: str,
    file: Annotated[
        UploadFile, File(description="GeoJSON, GeoPackage, zipped Shapefile, KML, CSV or Excel")
    ],
    crs: Annotated[str | None, Form()] = None,
    layer: Annotated[str | None, Form()] = None,
    encoding: Annotated[str | None, Form()] = None,
    commit: Annotated[bool, Form()] = False,
    map: Annotated[
        list[str] | None,
        Form(
            description="ours=theirs, e.g. code=XZQDM (repeat, or comma-separated): the file's "
            "field for one of ours"
        ),
    ] = None,
) -> dict[str, Any]:
    """Upload a file: a dry-run report by default; ``commit=true`` writes the good rows at once.

    Accepted: GeoJSON (DataV/Aliyun boundaries included), GeoPackage, zipped Shapefile, KML, CSV
    and Excel (statistical area code tables included); see docs/imports.md."""
    name = Path(file.filename or "upload").name
    with tempfile.TemporaryDirectory() as tmp:
        target = await receive_upload(file, Path(tmp), request.app.state.settings)
        report = run_import(
            session,
            kind=kind,
            path=target,
            crs=crs,
            layer=layer,
            encoding=encoding,
            commit=commit,
            source_name=name,
            mapping=map,
        )
    if commit:
        request.app.state.registry.invalidate()
    return report.as_dict()
