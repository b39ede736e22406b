"""Open311 GeoReport v2: discovery, services, definitions, POST/GET requests, tokens; JSON and XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

BASE = "/open311/v2"


@pytest.fixture
def api_key(api, token_for):  # type: ignore[no-untyped-def]
    r = api.post(
        "/api/v1/open311-clients", json={"name": "随手拍"}, headers=token_for("county_admin")
    )
    assert r.status_code == 201, r.text
    return r.json()["api_key"]


def _post(api, key, **extra):  # type: ignore[no-untyped-def]
    form = {
        "api_key": key,
        "service_code": "0401",
        "lat": "34.0052",
        "long": "113.0023",
        "description": "垃圾",
        **extra,
    }
    return api.post(f"{BASE}/requests.json", data=form)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_discovery_and_services(api, fmt):
    disc = api.get(f"{BASE}/discovery.{fmt}")
    services = api.get(f"{BASE}/services.{fmt}")
    assert disc.status_code == services.status_code == 200
    if fmt == "json":
        assert (
            disc.json()["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
        )
        codes = {s["service_code"] for s in services.json()}
        assert "0401" in codes and "04" not in codes  # only small classes are services
        assert (
            next(s for s in services.json() if s["service_code"] == "0401")["group"] == "环境卫生"
        )
    else:
        assert services.headers["content-type"].startswith("text/xml")
        root = ET.fromstring(services.content)
        assert root.tag == "services"
        assert "0401" in [s.findtext("service_code") for s in root.findall("service")]
        assert ET.fromstring(disc.content).find("endpoints/endpoint/type").text == "production"


def test_service_definition(api):
    assert api.get(f"{BASE}/services/0401.json").json() == {
        "service_code": "0401",
        "attributes": [],
    }
    assert ET.fromstring(api.get(f"{BASE}/services/0401.xml").content).tag == "service_definition"
    r = api.get(f"{BASE}/services/9999.json")
    assert r.status_code == 404 and r.json()[0]["code"] == 404


def test_post_then_get_request_and_token(api, api_key):
    r = _post(api, api_key, address_string="阳光花园", first_name="明", last_name="王")
    assert r.status_code == 201, r.text
    (created,) = r.json()
    rid, token = created["service_request_id"], created["token"]
    one = api.get(f"{BASE}/requests/{rid}.json").json()[0]
    assert one["status"] == "open" and one["service_code"] == "0401"
    assert one["status_notes"] == "已上报" and one["service_name"] == "垃圾堆积"
    # The centre of the 0.001° cell, not the point reported (tests/public/ has the details).
    assert one["lat"] == 34.0055 and one["long"] == 113.0025
    xml = ET.fromstring(api.get(f"{BASE}/requests/{rid}.xml").content)
    assert xml.tag == "service_requests" and xml.find("request/service_request_id").text == rid
    assert api.get(f"{BASE}/tokens/{token}.json").json() == [
        {"service_request_id": rid, "token": token}
    ]
    assert (
        ET.fromstring(api.get(f"{BASE}/tokens/{token}.xml").content).find("request/token").text
        == token
    )


def test_get_requests_filters(api, api_key, token_for):
    a = _post(api, api_key).json()[0]["service_request_id"]
    b = _post(api, api_key, service_code="0402").json()[0]["service_request_id"]
    # close b through the lifecycle: on-spot is a grid worker's; use void by a dispatcher instead
    r = api.post(
        f"/api/v1/incidents/{b}/transitions",
        json={"action": "void", "version": 1, "note": "重复上报"},
        headers=token_for("dispatcher"),
    )
    assert r.status_code == 200

    def ids(q):  # type: ignore[no-untyped-def]
        return {x["service_request_id"] for x in api.get(f"{BASE}/requests.json", params=q).json()}

    assert {a, b} <= ids({})
    assert ids({"service_code": "0402"}) == {b}
    assert a in ids({"status": "open"}) and b not in ids({"status": "open"})
    assert b in ids({"status": "closed"})
    assert ids({"service_request_id": f"{a},{b}"}) == {a, b}
    assert ids({"start_date": "2001-01-01T00:00:00Z", "end_date": "2001-02-01T00:00:00Z"}) == set()
    closed = ET.fromstring(
        api.get(f"{BASE}/requests.xml", params={"service_request_id": b}).content
    )
    assert closed.find("request/status").text == "closed"


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"api_key": "wrong"}, 401),
        ({"service_code": "9999"}, 422),
        ({"lat": "34.0052", "long": "113.5"}, 422),
    ],
)
def test_post_errors_in_open311_shape(api, api_key, form, status):
    r = _post(api, api_key, **form)
    assert r.status_code == status
    assert r.json()[0]["code"] == status and r.json()[0]["description"]


def test_errors_in_xml_and_unknown_format(api):
    r = api.post(f"{BASE}/requests.xml", data={"service_code": "0401"})
    assert r.status_code == 401 and ET.fromstring(r.content).find("error/code").text == "401"
    assert api.get(f"{BASE}/services.yaml").status_code == 404
    assert api.get(f"{BASE}/requests/999999.json").status_code == 404
    assert api.get(f"{BASE}/requests/99999999999999999999.json").status_code == 404
