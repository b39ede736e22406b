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


def test_json_run_then_read_back(client, messy, auditor):
    r = client.get("/api/v1/audits?area=419901", headers=auditor)
    assert r.status_code == 200, r.text
    run = r.json()
    # The API runs with the default band (250–500): each grid also has too few households.
    kinds = {f["kind"] for f in run["findings"]}
    assert kinds - {"household_band", "low_visit_coverage"} == KINDS
    again = client.get(f"/api/v1/audits/{run['id']}", headers=auditor).json()
    assert again["findings"] == run["findings"]
    second = client.get("/api/v1/audits?area=419901", headers=auditor).json()
    assert second["comparison"]["previous_run_id"] == run["id"]


def test_geojson_and_csv(client, messy, auditor):
    gj = client.get("/api/v1/audits?area=419901&f=geojson", headers=auditor)
    assert gj.headers["content-type"].startswith("application/geo+json")
    fc = gj.json()
    assert fc["type"] == "FeatureCollection"
    assert {f["properties"]["kind"] for f in fc["features"]} >= KINDS
    assert all(f["geometry"]["type"] for f in fc["features"])
    text = client.get("/api/v1/audits?area=419901&f=csv", headers=auditor).text
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert {r["kind"] for r in rows} >= KINDS
    assert any(r["wkt"].startswith("POLYGON") for r in rows)


@pytest.mark.parametrize(
    "url, role, jurisdiction, status",
    [
        ("/api/v1/audits?area=419901999", "auditor", "419901", 404),
        ("/api/v1/audits?area=419999", "auditor", "419901", 403),
        ("/api/v1/audits/999999", "auditor", "419901", 404),
        ("/api/v1/audits?area=41", "auditor", "419901", 422),
        ("/api/v1/audits?area=419901", "auditor", "419902", 403),
        ("/api/v1/audits?area=419901", "grid_worker", "419901", 403),
        (f"/api/v1/audits?area={G3}", "auditor", "419901", 200),
    ],
)
def test_errors(client, messy, token_for, url, role, jurisdiction, status):
    assert client.get(url, headers=token_for(role, jurisdiction)).status_code == status


def _external_refs(html: str) -> list[str]:
    return re.findall(r"""<(?:script|link|img|iframe)[^>]+(?:src|href)=["']?(https?:)?//""", html)


def test_html_report_is_self_contained_and_draws_the_findings(
    client, messy, auditor, tmp_path: Path
):
    html = client.get("/api/v1/audits?area=419901&f=html", headers=auditor).text
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
    assert "leaflet-control-layers" in dom


def test_report_rendered_outside_the_api_is_offline_too(db, messy):
    from app.audits.report import render_html
    from app.audits.service import report_base, run_audit
    from app.auth.policy import system_principal
    from app.auth.scope import scope_of

    scope = scope_of(system_principal("cli")).narrow("419901")
    audit = run_audit(db, scope=scope)
    html = render_html(audit, report_base(db, scope, "419901"))
    assert _external_refs(html) == [] and "finding-gap" in html
