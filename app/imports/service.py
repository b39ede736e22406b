"""The one import core behind ``gridgov import`` and ``POST /api/v1/imports/{kind}``.

A dry run does all the work inside a savepoint and rolls it back, so its report is exactly what a
commit would do, database rules included. A commit writes the good rows in the caller's transaction.
Rows the reader could not read (app/imports/readers.py) are rejected here with their number and
reason before the importer sees the rest, so no row stops an import (docs/imports.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.orm import Session

from app.addresses.imports import IMPORTERS as ADDRESS_IMPORTERS
from app.errors import InvalidInput
from app.imports.fields import FIELDS, normalise, parse_mapping
from app.imports.kinds import IMPORTERS as KIND_IMPORTERS
from app.imports.readers import read_any
from app.imports.report import ImportReport

IMPORTERS = {**KIND_IMPORTERS, **ADDRESS_IMPORTERS}


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
    mapping: Iterable[str] | dict[str, str] | None = None,
) -> ImportReport:
    """Import ``path`` as ``kind``; ``mapping`` names the file's field for any of ours
    (``{"code": "XZQDM"}`` or ``["code=XZQDM"]``, as ``--map`` gives it)."""
    if kind not in IMPORTERS:
        raise InvalidInput(f"未知的导入类别 {kind}；可选：{'、'.join(IMPORTERS)}")
    fields = mapping if isinstance(mapping, dict) else parse_mapping(mapping)
    read = read_any(path, crs=crs, layer=layer, encoding=encoding)
    frame = normalise(kind, read.frame.reset_index(drop=True), fields)
    report = ImportReport(kind=kind, source=source_name or path.name, notes=read.notes)
    report.total = len(frame)
    if read.problems:
        key = next(iter(FIELDS[kind]))  # the kind's identifying field, for the report's code column
        for pos, reason in sorted(read.problems.items()):
            value = frame[key].iloc[pos] if key in frame.columns and pos < len(frame) else None
            code = str(value).strip()[:40] if isinstance(value, str) and value.strip() else None
            report.reject(pos + 1, code, reason)
        frame = frame.drop(index=[p for p in read.problems if p < len(frame)])
    nested = session.begin_nested()
    try:
        IMPORTERS[kind](session, frame, report)
        session.flush()
    except BaseException:
        nested.rollback()
        raise
    if commit:
        nested.commit()
        report.committed = True
    else:
        nested.rollback()
    report.rejected.sort(key=lambda note: note.feature)
    return report
