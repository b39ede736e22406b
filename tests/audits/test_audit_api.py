"""Audit endpoints: formats, history, errors; the HTML report opens offline in Chromium."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from pathlib import Path

import pytest

from tests.audits.conftest import G3

KINDS = {
    "gap",
    "overlap",
    "sliver",
    "household_outside",
    "building_split",
    "no_leader",
    "special_group_overdue",
}


@pytest.fixture
def auditor(token_for):
    return token_for("auditor", "419901")


def _runs(db) -> int:
    from sqlalchemy import text

    return db.scalar(text("SELECT count(*) FROM audit_runs WHERE area_code LIKE '419901%'"))


def test_json_run_then_read_back(client, messy, auditor):
    r = client.post("/api/v1/audits?area=419901", headers=auditor)
    assert r.status_code == 201, r.text
    run = r.json()
    assert r.headers["location"] == f"/api/v1/audits/{run['id']}"
    # The API runs with the default band (250–500): each grid also has too few households; and
    # the fixture's grids have no full-time worker, a duty finding (docs/duties.md).
    kinds = {f["kind"] for f in run["findings"]}
    assert kinds - {"household_band", "low_visit_coverage", "no_full_time_worker"} == KINDS
    again = client.get(f"/api/v1/audits/{run['id']}", headers=auditor).json()
    assert again["findings"] == run["findings"]
    second = client.post("/api/v1/audits?area=419901", headers=auditor).json()
    assert second["comparison"]["previous_run_id"] == run["id"]
    # Nothing changed between the two runs.
    assert second["comparison"]["by_kind"] == {"new": {}, "resolved": {}}


def test_get_reads_and_never_runs(client, db, messy, auditor):
    assert _runs(db) == 0
    listing = client.get("/api/v1/audits?area=419901", headers=auditor)
    assert listing.status_code == 200
    assert listing.json()["runs"] == []
    assert listing.json()["kind_labels"]["gap"] == "网格缝隙"
    # The old way to get a report now reads the latest run; with none, a message saying what to do.
    none = client.get("/api/v1/audits?area=419901&f=html", headers=auditor)
    assert none.status_code == 404 and "请先运行审计" in none.text  # an HTML error page
    assert _runs(db) == 0
    made = client.post("/api/v1/audits?area=419901", headers=auditor).json()
    assert _runs(db) == 1
    report = client.get("/api/v1/audits?area=419901&f=html", headers=auditor)
    assert report.status_code == 200 and f"审计编号 {made['id']}" in report.text
    runs = client.get("/api/v1/audits?area=419901", headers=auditor).json()["runs"]
    assert _runs(db) == 1
    assert [(r["id"], r["area_code"], r["previous_run_id"]) for r in runs] == [
        (made["id"], "419901", None)
    ]
    # The fixture's defects: one of each, and three grids short of households (band 250–500).
    assert runs[0]["counts"]["gap"] == 1 and runs[0]["counts"]["no_leader"] == 1
    assert runs[0]["changes"] == {"new": {}, "resolved": {}}


def test_a_second_run_tells_what_changed_by_kind(client, db, messy, auditor):
    from sqlalchemy import text

    from tests.audits.conftest import G3

    first = client.post("/api/v1/audits?area=419901", headers=auditor).json()
    # G3 gets a leader again: its "no leader" finding is resolved by the next run.
    db.execute(text("UPDATE staff_assignments SET end_date = NULL WHERE grid_code = :g"), {"g": G3})
    second = client.post("/api/v1/audits?area=419901", headers=auditor).json()
    assert second["comparison"]["previous_run_id"] == first["id"]
    assert second["comparison"]["by_kind"] == {"new": {}, "resolved": {"no_leader": 1}}
    runs = client.get("/api/v1/audits?area=419901", headers=auditor).json()["runs"]
    assert [r["id"] for r in runs] == [second["id"], first["id"]]
    assert runs[0]["changes"] == {"new": {}, "resolved": {"no_leader": 1}}
    assert runs[0]["total"] == runs[1]["total"] - 1


def test_a_reader_who_may_not_run_gets_403_and_nothing_is_stored(client, db, messy, token_for):
    dispatcher = token_for("dispatcher", "419901")
    refused = client.post("/api/v1/audits?area=419901", headers=dispatcher)
    assert refused.status_code == 403
    assert _runs(db) == 0
    assert client.get("/api/v1/audits?area=419901", headers=dispatcher).status_code == 200
    worker = token_for("grid_worker", "419901")
    assert client.get("/api/v1/audits?area=419901", headers=worker).status_code == 403


def test_geojson_and_csv(client, messy, auditor):
    gj = client.post("/api/v1/audits?area=419901&f=geojson", headers=auditor)
    assert gj.headers["content-type"].startswith("application/geo+json")
    fc = gj.json()
    assert fc["type"] == "FeatureCollection"
    assert {f["properties"]["kind"] for f in fc["features"]} >= KINDS
    assert all(f["geometry"]["type"] for f in fc["features"])
    text = client.get("/api/v1/audits?area=419901&f=csv", headers=auditor).text  # the latest
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert {r["kind"] for r in rows} >= KINDS
    assert any(r["wkt"].startswith("POLYGON") for r in rows)


@pytest.mark.parametrize(
    "url, role, jurisdiction, status",
    [
        ("/api/v1/audits?area=419901999", "auditor", "419901", 404),
        ("/api/v1/audits?area=419999", "auditor", "419901", 403),
        ("/api/v1/audits/999999", "auditor", "419901", 404),
        # A province is a valid area code, outside a county auditor's jurisdiction.
        ("/api/v1/audits?area=41", "auditor", "419901", 403),
        ("/api/v1/audits?area=4199x", "auditor", "419901", 422),
        ("/api/v1/audits?area=419901", "auditor", "419902", 403),
        ("/api/v1/audits?area=419901", "grid_worker", "419901", 403),
        (f"/api/v1/audits?area={G3}", "auditor", "419901", 200),
    ],
)
def test_errors(client, messy, token_for, url, role, jurisdiction, status):
    headers = token_for(role, jurisdiction)
    if "/audits?" in url:  # running: POST (201 when it runs)
        got = client.post(url, headers=headers).status_code
        assert got == (201 if status == 200 else status)
    else:
        assert client.get(url, headers=headers).status_code == status


def _external_refs(html: str) -> list[str]:
    return re.findall(r"""<(?:script|link|img|iframe)[^>]+(?:src|href)=["']?(https?:)?//""", html)


def test_html_report_is_self_contained_and_draws_the_findings(
    client, messy, auditor, tmp_path: Path
):
    html = client.post("/api/v1/audits?area=419901&f=html", headers=auditor).text
    assert _external_refs(html) == []
    assert "cdn.jsdelivr" not in html and "code.jquery" not in html
    assert "L.map(" in html and "网格覆盖审计报告" in html
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    dom = subprocess.run(
        [
            "/usr/bin/chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=3000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    # Leaflet drew each finding kind as SVG paths carrying our class names.
    for kind in KINDS:
        assert re.search(rf'class="[^"]*finding-{kind}', dom), kind
    assert 'class="legend' in dom and "leaflet-control-scale" in dom


def test_report_rendered_outside_the_api_is_offline_too(db, messy):
    from app.audits.report import render_html
    from app.audits.service import report_base, run_audit
    from app.auth.policy import system_principal
    from app.auth.scope import scope_of

    scope = scope_of(system_principal("cli")).narrow("419901")
    audit = run_audit(db, scope=scope)
    html = render_html(audit, report_base(db, scope, "419901"))
    assert _external_refs(html) == [] and "finding-gap" in html
