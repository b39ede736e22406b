"""One endpoint, several formats (app/formats.py): ``f=`` wins, else the Accept header, else the
route's default; a format the route does not serve is a 400 naming those it does; an error is
rendered for the format asked for (the HTML error page for ``html``)."""

from __future__ import annotations

import csv
import io

import pytest

from app.errors import BadRequest
from app.formats import Format, negotiate
from tests.factories import C1, COUNTY, G11, G12, G21, tiny_county

J, G, C, H = Format.JSON, Format.GEOJSON, Format.CSV, Format.HTML


@pytest.mark.parametrize(
    ("f", "accept", "allowed", "expected"),
    [
        (None, "", (G, J, C), G),  # nothing asked: the default
        (None, "*/*", (J, C), J),
        (None, "text/csv", (J, C), C),
        (None, "application/geo+json", (J, G, C), G),
        # a browser's navigation: HTML where the route serves it, else the default
        (None, "text/html,application/xhtml+xml,*/*;q=0.8", (J, C, H), H),
        (None, "text/html,application/xhtml+xml,*/*;q=0.8", (J, C), J),
        (None, "text/csv;q=0.5, application/json", (C, J), J),  # q decides, not order
        (None, "text/csv;q=0, */*", (C, J), C),  # q=0 excluded: */* takes the default
        (None, "text/*", (J, C, H), C),  # the first served text/... type
        (None, "image/png", (J, C), J),  # nothing served matches: the default
        ("csv", "application/json", (J, C), C),  # f wins over Accept
        (" CSV ", "", (J, C), C),
    ],
)
def test_negotiate(f, accept, allowed, expected) -> None:  # type: ignore[no-untyped-def]
    assert negotiate(f, accept, allowed) == expected


@pytest.mark.parametrize("f", ["xml", "mvt", ""])
def test_a_format_the_route_does_not_serve_is_refused_naming_those_it_does(f) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadRequest) as refused:
        negotiate(f, "text/csv", (J, C))
    assert refused.value.message == f"f: 不支持的格式 {f!r}；此地址可选 json、csv"


@pytest.fixture
def county(db):  # type: ignore[no-untyped-def]
    tiny_county(db)  # two households in G11, none elsewhere
    db.commit()


def _csv(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.text.startswith("\ufeff")  # Excel reads it as UTF-8
    return list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))


def test_the_grids_layer_in_each_format(client, county, token_for) -> None:  # type: ignore[no-untyped-def]
    admin = token_for("county_admin")
    geo = client.get("/api/v1/layers/grids", headers=admin)
    assert geo.headers["content-type"] == "application/geo+json"
    plain = client.get("/api/v1/layers/grids?f=json", headers=admin)
    assert plain.headers["content-type"] == "application/json"
    assert plain.json() == geo.json()

    rows = _csv(client.get("/api/v1/layers/grids?f=csv", headers=admin))
    assert [(r["code"], r["households"], r["leader"]) for r in rows] == [
        (G11, "2", "张伟"),
        (G12, "0", ""),
        (G21, "0", ""),
    ]
    assert rows[0]["community_name"] == "幸福社区" and rows[0]["band"] == "below"
    assert rows[0]["wkt"].startswith("MULTIPOLYGON (((113")
    by_accept = client.get("/api/v1/layers/grids", headers={**admin, "Accept": "text/csv"})
    assert _csv(by_accept) == rows

    page = client.get(
        f"/api/v1/layers/grids?area={C1}", headers={**admin, "Accept": "text/html"},
        follow_redirects=False,
    )  # fmt: skip
    assert page.status_code == 303 and page.headers["location"] == f"/maps/coverage?area={C1}"


def test_an_unknown_format_is_400_naming_the_allowed_ones(client, county, token_for) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/layers/grids?f=shp", headers=token_for("county_admin"))
    assert r.status_code == 400
    assert r.json() == {
        "detail": "f: 不支持的格式 'shp'；此地址可选 geojson、json、csv、html",
        "code": "BadRequest",
        "context": {"field": "f", "allowed": ["geojson", "json", "csv", "html"]},
    }
    r = client.get(f"/api/v1/households?grid={G11}&f=geojson", headers=token_for("dispatcher"))
    assert r.status_code == 400 and r.json()["detail"].endswith("此地址可选 json、csv")


def test_households_of_a_grid_as_csv_masked_as_in_json(client, county, token_for) -> None:  # type: ignore[no-untyped-def]
    auditor = token_for("auditor")  # sees special groups, not names or phones
    rows = _csv(client.get(f"/api/v1/households?grid={G11}&f=csv", headers=auditor))
    assert [(r["room"], r["special_groups"], r["masked"]) for r in rows] == [
        ("101", "", "True"),
        ("102", "hardship", "True"),
    ]
    assert rows[0]["grid_code"] == G11
    as_json = client.get(f"/api/v1/households?grid={G11}", headers=auditor)
    assert as_json.headers["content-type"] == "application/json"
    assert as_json.json()["count"] == 2


def test_visit_coverage_as_csv(client, county, token_for) -> None:  # type: ignore[no-untyped-def]
    r = client.get(
        f"/api/v1/visits/coverage?area={COUNTY}&start=2026-01-01&end=2026-02-01&by=community&f=csv",
        headers=token_for("county_admin"),
    )
    rows = _csv(r)
    assert [(row["code"], row["households"], row["visited"]) for row in rows] == [
        (C1, "2", "0"),
        ("419901001002", "0", "0"),
    ]


def test_the_areas_and_buildings_layers_as_csv(client, county, token_for) -> None:  # type: ignore[no-untyped-def]
    admin = token_for("county_admin")
    areas = _csv(client.get("/api/v1/layers/areas?parent=419901001&f=csv", headers=admin))
    assert [(a["code"], a["name"], a["grids"], a["households"]) for a in areas] == [
        (C1, "幸福社区", "2", "2"),
        ("419901001002", "和平社区", "1", "0"),
    ]
    buildings = _csv(client.get("/api/v1/layers/buildings?f=csv", headers=admin))
    assert [(b["code"], b["households"], b["lng"], b["lat"]) for b in buildings] == [
        ("B1", "2", "113.002", "34.005")
    ]


def test_audits_by_accept_header(client, county, token_for) -> None:  # type: ignore[no-untyped-def]
    auditor = token_for("auditor")
    r = client.post(
        f"/api/v1/audits?area={COUNTY}", headers={**auditor, "Accept": "application/geo+json"}
    )
    assert r.status_code == 201, r.text
    assert r.headers["content-type"] == "application/geo+json"
    assert r.json()["type"] == "FeatureCollection"


def test_an_error_is_rendered_for_the_format_asked_for(client, county, token_for) -> None:  # type: ignore[no-untyped-def]
    # Not signed in: refused before anything is read, in the shape the client asked for.
    page = client.get(f"/api/v1/audits?area={COUNTY}&f=html")
    assert page.status_code == 401
    assert page.headers["content-type"].startswith("text/html")
    assert "请先登录" in page.text
    assert client.get(f"/api/v1/audits?area={COUNTY}&f=csv").json()["code"] == "Unauthorized"
    # Signed in, but an area outside the jurisdiction, asked for by a browser.
    outside = client.get(
        "/api/v1/audits?area=419902",
        headers={**token_for("auditor", "419901"), "Accept": "text/html"},
    )
    assert outside.status_code == 403
    assert outside.headers["content-type"].startswith("text/html")
    as_json = client.get("/api/v1/audits?area=419902", headers=token_for("auditor", "419901"))
    assert as_json.status_code == 403 and as_json.json()["code"] == "Forbidden"


@pytest.mark.parametrize(
    ("url", "page"),
    [
        (f"/api/v1/layers/areas?parent={C1}&f=html", f"/maps/coverage?area={C1}"),
        (
            f"/api/v1/visits/coverage?area={C1}&start=2026-03-01&end=2026-03-31&f=html",
            f"/maps/coverage?area={C1}&mode=visits&from=2026-03-01&to=2026-03-31",
        ),
        (
            f"/api/v1/layers/visits?area={C1}&start=2026-03-01&end=2026-03-31&f=html",
            f"/maps/visits?area={C1}",
        ),
        (f"/api/v1/layers/cases?area={COUNTY}&f=html", f"/maps/cases?area={COUNTY}"),
    ],
)
def test_html_is_the_page_that_draws_the_resource(client, county, token_for, url, page) -> None:  # type: ignore[no-untyped-def]
    r = client.get(url, headers=token_for("county_admin"), follow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == page
