"""The duty routes as a worker's phone and an auditor call them: every answer and error path."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from tests.duties.conftest import G1, G2, NOW


def test_a_worker_records_an_arrival_once(client, token_for, duty_county):
    s, cases = duty_county["staff"], duty_county["cases"]
    w1 = token_for("grid_worker", "419902", staff_id=s["W1"])
    body = {"incident_id": cases["A"], "lng": 113.0025, "lat": 34.005, "note": "已上门调解"}
    r = client.post("/api/v1/duties/arrivals", json=body, headers={**w1, "Idempotency-Key": "k1"})
    assert r.status_code == 201, r.text
    assert (r.json()["case_no"], r.json()["message"]) == ("DUTYA", "到场已登记")
    again = client.post(
        "/api/v1/duties/arrivals", json=body, headers={**w1, "Idempotency-Key": "k1"}
    )
    assert again.status_code == 200
    assert again.json()["id"] == r.json()["id"] and "已于" in again.json()["message"]
    mine = client.get("/api/v1/duties/mine", headers=w1).json()
    assert "DUTYA" not in [a["case_no"] for a in mine["arrivals"]]


def test_refusals(client, token_for, duty_county):
    s, cases = duty_county["staff"], duty_county["cases"]
    w1 = token_for("grid_worker", "419902", staff_id=s["W1"])
    # A case in G2, which W1 does not serve: 403 naming nothing.
    r = client.post("/api/v1/duties/arrivals", json={"incident_id": cases["D"]}, headers=w1)
    assert r.status_code == 403 and "DUTYD" not in r.text and G2 not in r.text
    r = client.post("/api/v1/duties/arrivals", json={"incident_id": cases["E"]}, headers=w1)
    assert r.status_code == 422 and "四必到" in r.json()["detail"]
    r = client.post("/api/v1/duties/arrivals", json={"incident_id": 987654321}, headers=w1)
    assert r.status_code == 404
    r = client.post(
        "/api/v1/duties/arrivals", json={"incident_id": cases["A"], "lng": 113.0}, headers=w1
    )
    assert r.status_code == 422 and "lng 与 lat 须同时给出" in r.json()["detail"]
    # Outside the worker's jurisdiction altogether: answered as missing.
    other = token_for("grid_worker", "419901", staff_id=s["W1"])
    r = client.post("/api/v1/duties/arrivals", json={"incident_id": cases["A"]}, headers=other)
    assert r.status_code == 404
    # Dispatchers read duties but record no arrival; planners read none.
    disp = token_for("dispatcher", "419902")
    r = client.post("/api/v1/duties/arrivals", json={"incident_id": cases["A"]}, headers=disp)
    assert r.status_code == 403
    assert (
        client.get("/api/v1/duties/findings", headers=token_for("planner", "419902")).status_code
        == 403
    )
    assert client.get("/api/v1/duties/mine").status_code == 401


def test_an_auditor_reads_the_findings_of_their_area(client, token_for, duty_county, db):
    # The route judges against the clock: bring the fixture's cases to today.
    shift = dt.datetime.now(dt.UTC) - NOW
    db.execute(
        text("UPDATE incidents SET reported_at = reported_at + :s WHERE case_no LIKE 'DUTY%'"),
        {"s": shift},
    )
    auditor = token_for("auditor", "419902")
    r = client.get("/api/v1/duties/findings", headers=auditor)
    assert r.status_code == 200
    kinds = sorted({f["kind_label"] for f in r.json()["findings"]})
    assert "四必到未到场" in kinds and "网格无专职网格员" in kinds
    assert (
        client.get(
            "/api/v1/duties/findings", params={"area": "419901"}, headers=auditor
        ).status_code
        == 403
    )
    assert [f["objects"] for f in r.json()["findings"] if f["kind"] == "arrival_overdue"] == [
        ["DUTYD", G2],
        ["DUTYA", G1],
    ]
