"""Run a coverage audit over an area, store it with its findings, compare with the last run."""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import Counter
from typing import Any

import shapely
from shapely.geometry import mapping
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.audits import db_findings, loaders
from app.audits.kinds import KIND_LABELS
from app.audits.models import AuditRun
from app.audits.schemas import (
    AuditPublic,
    AuditRuns,
    AuditRunSummary,
    Changes,
    CheckStatus,
    Comparison,
    FindingPublic,
    FixedFinding,
)
from app.auth.scope import AreaScope, scope_of
from app.duties.rules import load_book
from app.duties.service import duty_findings
from app.errors import NotFound
from app.visits.cadence import load_rules
from app.visits.coverage import AreaInfo, resolve_area
from app.visits.service import BEIJING
from gis.coverage import CoverageTolerances, audit_coverage

Row = dict[str, Any]
# Joins a finding's objects for the trip to the database (codes and ids never contain it).
_SEP = "\x1f"


def finding_key(kind: str, objects: list[str]) -> str:
    return kind + ":" + ",".join(objects)


def audited(scope: AreaScope, area_code: str) -> AreaScope:
    """What an audit of ``area_code`` looks at: the area itself, or for a grid its community (a
    grid is audited within its community; only findings touching the grid are kept), within the
    caller's jurisdiction (403 outside it)."""
    looked_at = area_code[:12] if len(area_code) == 15 else area_code
    return scope_of(scope.principal, app_filters=scope.app_filters).narrow(looked_at)


def collect_findings(
    session: Session,
    *,
    area: AreaInfo,
    scope: AreaScope,
    tolerances: CoverageTolerances,
    coverage_target: float,
    now: dt.datetime,
) -> tuple[list[Row], list[CheckStatus]]:
    """Geometry findings (gis.coverage over data loaded from PostGIS) plus database findings,
    over what ``scope`` covers (``audited``)."""
    today = now.astimezone(BEIJING).date()
    rules = load_rules()
    found = audit_coverage(
        loaders.load_communities(session, scope),
        loaders.load_grids(session, scope),
        buildings=loaders.load_buildings(session, scope),
        households=loaders.load_households(session, scope),
        micro_grids=loaders.load_micro_grids(session, scope),
        tolerances=tolerances,
    )
    rows: list[Row] = found.to_dict("records")
    rows += db_findings.leaderless_grids(session, scope, today)
    rows += db_findings.low_visit_coverage(session, scope, today, coverage_target, rules)
    rows += db_findings.overdue_special_households(session, scope.prefix, today, rules)
    checks = [
        CheckStatus(
            check="geometry", label="边界几何（缝隙、重叠、碎片、越界、无效图形）", status="ok"
        ),
        CheckStatus(check="households", label="住户与楼栋归属、网格户数", status="ok"),
        CheckStatus(
            check="micro_grids",
            label="微网格（越出网格、相互重叠、网格内缝隙、住户未入微网格、户数）",
            status="ok",
        ),
        CheckStatus(check="leaders", label="网格长配备", status="ok"),
        CheckStatus(
            check="visits",
            label="走访覆盖率与特殊群体走访",
            status="ok",
            note=f"目标覆盖率 {100 * coverage_target:.0f}%（近365天）",
        ),
    ]
    cases = db_findings.overdue_cases(session, scope, now)
    if cases is None:
        checks.append(
            CheckStatus(
                check="cases",
                label="超期案件",
                status="not_available",
                note="事件模块（incidents 表）尚未安装，未检查超期案件",
            )
        )
    else:
        rows += cases
        checks.append(CheckStatus(check="cases", label="超期案件", status="ok"))
    rows += duty_findings(session, scope, now, load_book())
    checks.append(
        CheckStatus(
            check="duties",
            label="履职规则（四必到、月入户天数、专职网格员、联系干部走访）",
            status="ok",
            note="规则见 app/duties/rules.json（可按县设定）",
        )
    )
    if area.level == "grid":
        rows = _within_grid(session, rows, area.code)
    return rows, checks


def _within_grid(session: Session, rows: list[Row], grid_code: str) -> list[Row]:
    wkb = session.scalar(
        text("SELECT ST_AsBinary(geom) FROM grids WHERE code = :c AND status = 'active'"),
        {"c": grid_code},
    )
    grid = shapely.from_wkb(bytes(wkb))
    return [
        r
        for r in rows
        if grid_code in r["objects"]
        or (r["geometry"] is not None and shapely.intersects(grid, r["geometry"]))
    ]


def run_audit(
    session: Session,
    *,
    scope: AreaScope,
    tolerances: CoverageTolerances = CoverageTolerances(),
    coverage_target: float = 0.9,
    now: dt.datetime | None = None,
) -> AuditPublic:
    """Audit the scope's area (the one asked for, or the caller's jurisdiction; county … grid),
    store the run and its findings, return it with a comparison."""
    area = resolve_area(session, scope.prefix)
    now = now or dt.datetime.now(dt.UTC)
    began = time.perf_counter()
    rows, checks = collect_findings(
        session,
        area=area,
        scope=audited(scope, area.code),
        tolerances=tolerances,
        coverage_target=coverage_target,
        now=now,
    )
    previous = session.scalar(
        select(AuditRun.id)
        .where(AuditRun.area_code == area.code)
        .order_by(AuditRun.started_at.desc(), AuditRun.id.desc())
        .limit(1)
    )
    counts = Counter(r["kind"] for r in rows)
    run = AuditRun(
        area_code=area.code,
        area_name=area.name,
        started_at=now,
        seconds=0.0,
        run_by=scope.principal.username,
        summary={"counts": dict(counts), "checks": [c.model_dump() for c in checks]},
        previous_run_id=previous,
    )
    session.add(run)
    session.flush()
    _store_findings(session, run.id, rows)
    # Compared once, when the run is made; listings and reads take it from the summary.
    changes = changes_between(session, run.id, previous)
    run.summary = {**run.summary, "changes": changes.model_dump()}
    run.seconds = round(time.perf_counter() - began, 3)
    session.flush()
    return get_audit(session, run_id=run.id, scope=scope)


def _store_findings(session: Session, run_id: int, rows: list[Row]) -> None:
    """One INSERT from parallel arrays: a county audit stores ~10,000 findings, and a statement
    per finding cost a second."""
    if not rows:
        return
    wkb, area = [], []
    for r in rows:
        geom, a = r["geometry"], r["area_m2"]
        wkb.append(shapely.to_wkb(geom) if geom is not None and not geom.is_empty else None)
        area.append(None if a is None or math.isnan(a) else float(a))
    objects = [list(r["objects"]) for r in rows]
    session.execute(
        text(
            "INSERT INTO audit_findings (run_id, kind, severity, objects, key, geom, area_m2, "
            "message, ordinal) SELECT :run, f.kind, f.severity, string_to_array(f.objects, :sep), "
            "f.key, ST_SetSRID(ST_GeomFromWKB(f.wkb), 4490), f.area, f.message, f.ordinal - 1 "
            "FROM unnest(CAST(:kind AS text[]), CAST(:severity AS text[]), "
            "CAST(:objects AS text[]), CAST(:key AS text[]), CAST(:wkb AS bytea[]), "
            "CAST(:area AS float8[]), CAST(:message AS text[])) "
            "WITH ORDINALITY AS f(kind, severity, objects, key, wkb, area, message, ordinal)"
        ),
        {
            "run": run_id,
            "sep": _SEP,
            "kind": [r["kind"] for r in rows],
            "severity": [r["severity"] for r in rows],
            "objects": [_SEP.join(o) for o in objects],
            "key": [finding_key(r["kind"], o) for r, o in zip(rows, objects, strict=True)],
            "wkb": wkb,
            "area": area,
            "message": [r["message"] for r in rows],
        },
    )


def changes_between(session: Session, run_id: int, previous_id: int | None) -> Changes:
    """Findings of ``run_id`` not in ``previous_id`` (new) and the other way round (resolved),
    counted per kind in the database (a county run holds ~10,000 findings; the run/key index
    answers). No previous run: nothing to compare, both empty."""
    if previous_id is None:
        return Changes()
    rows = session.execute(
        text(
            "SELECT 'new' AS side, f.kind, count(*) AS n FROM audit_findings f "
            "WHERE f.run_id = :run AND NOT EXISTS (SELECT 1 FROM audit_findings p "
            "WHERE p.run_id = :prev AND p.key = f.key) GROUP BY f.kind "
            "UNION ALL "
            "SELECT 'resolved', p.kind, count(*) FROM audit_findings p "
            "WHERE p.run_id = :prev AND NOT EXISTS (SELECT 1 FROM audit_findings f "
            "WHERE f.run_id = :run AND f.key = p.key) GROUP BY p.kind"
        ),
        {"run": run_id, "prev": previous_id},
    ).all()
    out: dict[str, dict[str, int]] = {"new": {}, "resolved": {}}
    for side, kind, n in rows:
        out[side][kind] = int(n)
    return Changes(**out)


def _changes(session: Session, run: AuditRun) -> Changes:
    """The comparison stored with the run (runs stored before it was kept: computed now)."""
    stored = (run.summary or {}).get("changes")
    if stored is not None:
        return Changes(**stored)
    return changes_between(session, run.id, run.previous_run_id)


def list_runs(session: Session, *, scope: AreaScope, limit: int = 50) -> AuditRuns:
    """The latest runs of the scope's area and the areas under it, newest first; reads only."""
    runs = session.scalars(
        select(AuditRun)
        .where(scope.clause(AuditRun.area_code))
        .order_by(AuditRun.started_at.desc(), AuditRun.id.desc())
        .limit(limit)
    ).all()
    return AuditRuns(
        area_code=scope.prefix,
        runs=[
            AuditRunSummary(
                id=r.id,
                area_code=r.area_code,
                area_name=r.area_name,
                started_at=r.started_at,
                seconds=r.seconds,
                run_by=r.run_by,
                total=sum(r.summary.get("counts", {}).values()),
                counts=r.summary.get("counts", {}),
                previous_run_id=r.previous_run_id,
                changes=_changes(session, r),
            )
            for r in runs
        ],
        kind_labels=KIND_LABELS,
    )


def latest_run_id(session: Session, *, scope: AreaScope) -> int:
    """The newest stored run of exactly the scope's area (404 if it was never audited)."""
    found = session.scalar(
        select(AuditRun.id)
        .where(AuditRun.area_code == scope.prefix)
        .order_by(AuditRun.started_at.desc(), AuditRun.id.desc())
        .limit(1)
    )
    if found is None:
        raise NotFound(f"区域 {scope.prefix} 尚无审计记录：请先运行审计", area=scope.prefix)
    return found


def get_audit(session: Session, *, run_id: int, scope: AreaScope) -> AuditPublic:
    """A stored run; one of an area outside ``scope`` is answered exactly like a missing one."""
    missing = f"找不到审计记录 {run_id}"
    run = session.get(AuditRun, run_id)
    if run is None:
        raise NotFound(missing, run_id=run_id)
    scope.require(run.area_code, missing=missing)
    findings = _findings(session, run.id)
    previous = session.get(AuditRun, run.previous_run_id) if run.previous_run_id else None
    before = _findings(session, previous.id) if previous else []
    before_keys = {f["key"] for f in before}
    now_keys = {f["key"] for f in findings}
    fixed = [
        FixedFinding(kind=f["kind"], objects=f["objects"], message=f["message"])
        for f in before
        if f["key"] not in now_keys
    ]
    public = [
        FindingPublic(
            kind=f["kind"],
            kind_label=KIND_LABELS.get(f["kind"]) or str(f["kind"]),
            severity=f["severity"],
            objects=f["objects"],
            geometry=mapping(f["geometry"]) if f["geometry"] is not None else None,
            area_m2=f["area_m2"],
            message=f["message"],
            new=previous is not None and f["key"] not in before_keys,
        )
        for f in findings
    ]
    return AuditPublic(
        id=run.id,
        area_code=run.area_code,
        area_name=run.area_name,
        started_at=run.started_at,
        seconds=run.seconds,
        run_by=run.run_by,
        counts=run.summary.get("counts", {}),
        checks=[CheckStatus(**c) for c in run.summary.get("checks", [])],
        comparison=Comparison(
            previous_run_id=previous.id if previous else None,
            previous_started_at=previous.started_at if previous else None,
            new=sum(f.new for f in public),
            unchanged=len(now_keys & before_keys),
            fixed=fixed,
            by_kind=_changes(session, run),
        ),
        findings=public,
    )


def _findings(session: Session, run_id: int) -> list[Row]:
    rows = session.execute(
        text(
            "SELECT kind, severity, objects, key, ST_AsBinary(geom) AS wkb, area_m2, message "
            "FROM audit_findings WHERE run_id = :r ORDER BY ordinal"
        ),
        {"r": run_id},
    ).all()
    return [
        {
            "kind": r.kind,
            "severity": r.severity,
            "objects": list(r.objects),
            "key": r.key,
            "geometry": shapely.from_wkb(bytes(r.wkb)) if r.wkb is not None else None,
            "area_m2": r.area_m2,
            "message": r.message,
        }
        for r in rows
    ]


def report_base(session: Session, scope: AreaScope, area_code: str) -> dict[str, Any]:
    """Communities and grids drawn under the findings on the report's map."""
    scope = audited(scope, area_code)
    return {
        "communities": loaders.load_communities(session, scope),
        "grids": loaders.load_grids(session, scope),
    }
