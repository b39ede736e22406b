"""The one import core behind ``gridgov import`` and ``POST /api/v1/imports/{kind}``.

A dry run does all the work inside a savepoint and rolls it back, so its report is exactly what a
commit would do, database rules included. A commit writes the good rows in the caller's transaction.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.imports.kinds import IMPORTERS
from app.imports.readers import read_any
from app.imports.report import ImportReport


def run_import(
    session: Session,
    *,
    kind: str,
    path: Path,
    crs: str | None = None,
    layer: str | None = None,
    encoding: str | None = None,
    commit: bool = False,
    source_name: str | None = None,
) -> ImportReport:
    if kind not in IMPORTERS:
        raise InvalidInput(f"未知的导入类别 {kind}；可选：{'、'.join(IMPORTERS)}")
    read = read_any(path, crs=crs, layer=layer, encoding=encoding)
    report = ImportReport(kind=kind, source=source_name or path.name, notes=read.notes)
    report.total = len(read.frame)
    nested = session.begin_nested()
    try:
        IMPORTERS[kind](session, read.frame, report)
        session.flush()
    except BaseException:
        nested.rollback()
        raise
    if commit:
        nested.commit()
        report.committed = True
    else:
        nested.rollback()
    return report
