"""OGC API – Features at /ogc: landing, conformance, collections (areas of every level, grids with
their history, buildings, barriers, plans, open and public incidents), items (bbox, limit, offset,
paging links, datetime), single items, Part 2 CRSs and axis order, Part 3 queryables and CQL2
filters, the 400s, and the HTML pages. GDAL and QGIS reading it: tests/ogc/test_clients.py."""

from __future__ import annotations

from typing import Any

import pytest
from geoalchemy2.shape import from_shape
from pyproj import Transformer
from shapely.geometry import MultiLineString, box
from sqlalchemy import text, update

from app.barriers.models import Barrier
from app.grids.models import Grid
from tests.factories import C1, C2, G11, G12, G21, add_grid, tiny_county
from tests.incidents.conftest import IN_G11

OGC = "/ogc"
ITEMS = f"{OGC}/collections/grids/items"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
# The tiny county lies at 113.00–113.02 E: the 3-degree zone with central meridian 114 E is zone 38,
# EPSG:4526 with the zone number in the false easting, EPSG:4547 without.
GK_ZONE, GK_CM = 4526, 4547


def _codes(page: dict[str, Any]) -> list[str]:
    return sorted(f["properties"]["code"] for f in page["features"])


def _bad(client, path: str, **params: str) -> str:  # type: ignore[no-untyped-def]
    """The request is a 400 with an OGC exception body; its description."""
    r = client.get(path, params=params)
    assert r.status_code == 400, (params, r.status_code, r.text)
    body = r.json()
    assert body["code"] == "BadRequest" and set(body) == {"code", "description"}
    return str(body["description"])


# --------------------------------------------------------------------------- landing, conformance
def test_landing_and_conformance(client) -> None:  # type: ignore[no-untyped-def]
    landing = client.get(f"{OGC}/").json()
    rels = {link["rel"]: link["href"] for link in landing["links"]}
    assert rels["data"].endswith("/ogc/collections") and rels["data"].startswith("http")
    assert rels["conformance"].endswith("/ogc/conformance")
    # QGIS's OAPIF provider needs the API definition named on the landing page.
    assert rels["service-desc"].endswith("/openapi.json") and rels["service-doc"].endswith("/docs")
    assert client.get(rels["service-desc"]).json()["openapi"].startswith("3.")
    assert rels["alternate"].endswith("/ogc/?f=html")
    conf = client.get(f"{OGC}/conformance").json()["conformsTo"]
    # Exactly what is implemented (docs/ogc.md), nothing more.
    assert sorted(conf) == sorted(
        [
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
            "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
            "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
            "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
            "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
            "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
            "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
            "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
        ]
    )


# --------------------------------------------------------------------------- collections
PUBLIC = {
    "areas",
    "areas-county",
    "areas-township",
    "areas-community",
    "grids",
    "buildings",
    "public-incidents",
}


def test_collections_by_role(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    public = {c["id"] for c in client.get(f"{OGC}/collections").json()["collections"]}
    assert public == PUBLIC
    r = client.post("/api/v1/plans", json={"community_code": C1}, headers=token_for("planner"))
    plan_id = r.json()["id"]
    staff = client.get(f"{OGC}/collections", headers=token_for("planner")).json()["collections"]
    # Planners draw boundaries: plans and barriers yes, cases no (the policy table).
    assert {c["id"] for c in staff} == PUBLIC | {"barriers", "micro-grids", f"plan-{plan_id}"}
    dispatcher = client.get(f"{OGC}/collections", headers=token_for("dispatcher")).json()
    assert {c["id"] for c in dispatcher["collections"]} == PUBLIC | {
        "barriers",
        "micro-grids",
        "incidents",
        f"plan-{plan_id}",
    }
    grids = next(c for c in staff if c["id"] == "grids")
    assert grids["extent"]["spatial"]["bbox"] == [[113.0, 34.0, 113.02, 34.01]]
    assert grids["extent"]["spatial"]["crs"] == CRS84
    # The history starts with the oldest version (the factory's grids date from 2026-01-01).
    assert grids["extent"]["temporal"]["interval"] == [["2026-01-01T00:00:00Z", None]]
    rels = {(link["rel"], link["type"]) for link in grids["links"]}
    assert ("items", "application/geo+json") in rels
    assert ("http://www.opengis.net/def/rel/ogc/1.0/queryables", "application/schema+json") in rels
    # Part 2: storage CRS and the CRSs offered, the data's Gauss-Krüger zone among them.
    assert grids["storageCrs"] == f"{EPSG}4490"
    assert grids["crs"] == [
        CRS84,
        f"{EPSG}4326",
        f"{EPSG}4490",
        f"{EPSG}{GK_ZONE}",
        f"{EPSG}{GK_CM}",
    ]
    plan_items = client.get(
        f"{OGC}/collections/plan-{plan_id}/items", headers=token_for("planner")
    ).json()
    assert _codes(plan_items) == [G11, G12]
    r = client.get(f"{OGC}/collections/plan-{plan_id}/items")  # anonymous
    assert r.status_code == 404 and r.json()["code"] == "NotFound"


def test_areas_per_level(db, client) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    by_level = {
        level: _codes(client.get(f"{OGC}/collections/areas-{level}/items").json())
        for level in ("county", "township", "community")
    }
    assert by_level == {"county": ["419901"], "township": ["419901001"], "community": [C1, C2]}
    every = client.get(f"{OGC}/collections/areas/items").json()
    assert every["numberMatched"] == 4
    coll = client.get(f"{OGC}/collections/areas-township").json()
    assert coll["title"] == "行政区划：乡镇/街道"


def test_barriers_for_staff_only(db, client, token_for) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    db.add(
        Barrier(
            name="人民路",
            class_="arterial",
            geom=from_shape(MultiLineString([[(113.01, 34.0), (113.01, 34.01)]]), srid=4490),
        )
    )
    db.flush()
    assert client.get(f"{OGC}/collections/barriers/items").status_code == 404
    page = client.get(f"{OGC}/collections/barriers/items", headers=token_for("planner")).json()
    (road,) = page["features"]
    assert road["properties"] == {"name": "人民路", "class": "arterial"}
    assert road["geometry"]["type"] == "MultiLineString"
    rivers = client.get(
        f"{OGC}/collections/barriers/items",
        params={"filter": "class = 'river'"},
        headers=token_for("planner"),
    ).json()
    assert rivers["features"] == []


def test_incidents_open_scoped_and_public(api, report, token_for) -> None:  # type: ignore[no-untyped-def]
    case = report("0401", IN_G11)  # 垃圾堆积: not sensitive
    dispute = report("0101", IN_G11)  # 邻里纠纷: sensitive, never public
    staff = api.get(f"{OGC}/collections/incidents/items", headers=token_for("dispatcher")).json()
    assert sorted(f["properties"]["case_no"] for f in staff["features"]) == sorted(
        [case["case_no"], dispute["case_no"]]
    )
    (exact,) = [f for f in staff["features"] if f["id"] == case["id"]]
    assert exact["geometry"]["coordinates"] == [113.002, 34.005]
    # Anyone: the public projection (docs/public.md): no sensitive case, the cell's centre.
    public = api.get(f"{OGC}/collections/public-incidents/items").json()
    (shown,) = public["features"]
    assert shown["properties"]["case_no"] == case["case_no"]
    assert shown["geometry"]["coordinates"] == [113.0025, 34.0055]
    assert set(shown["properties"]) == {"case_no", "category_code", "state", "reported_at"}
    assert api.get(f"{OGC}/collections/incidents/items").status_code == 404
    # A township dispatcher elsewhere sees none of these cases.
    other = token_for("dispatcher", jurisdiction="419901002")
    assert api.get(f"{OGC}/collections/incidents/items", headers=other).json()["features"] == []
    filtered = api.get(
        f"{OGC}/collections/incidents/items",
        params={"filter": "category_code = '0101'"},
        headers=token_for("dispatcher"),
    ).json()
    assert [f["properties"]["case_no"] for f in filtered["features"]] == [dispute["case_no"]]
    typed = api.get(
        f"{OGC}/collections/incidents/items",
        params={
            "filter": "supervised = false AND deadline > TIMESTAMP('2000-01-01T00:00:00Z') "
            "AND state IN ('reported', 'accepted', 'registered')"
        },
        headers=token_for("dispatcher"),
    ).json()
    assert typed["numberMatched"] == 2


# --------------------------------------------------------------------------- items
def test_items_bbox_limit_paging(db, client) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    r = client.get(ITEMS, params={"limit": 2})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    assert r.headers["content-crs"] == f"<{CRS84}>"
    page = r.json()
    assert page["type"] == "FeatureCollection"
    assert (page["numberMatched"], page["numberReturned"]) == (3, 2)
    nxt = next(link["href"] for link in page["links"] if link["rel"] == "next")
    second = client.get(nxt).json()
    assert second["numberReturned"] == 1 and not any(k["rel"] == "next" for k in second["links"])
    assert any(link["rel"] == "prev" for link in second["links"])
    assert sorted(_codes(page) + _codes(second)) == [G11, G12, G21]
    # A page larger than the server's maximum is served at the maximum, not refused.
    big = client.get(ITEMS, params={"limit": 20000})
    assert big.status_code == 200 and big.json()["numberReturned"] == 3
    assert "limit=10000" in next(k["href"] for k in big.json()["links"] if k["rel"] == "self")
    # RFC 7946: no "crs" member in geometries.
    assert all("crs" not in f["geometry"] for f in big.json()["features"])
    east = client.get(ITEMS, params={"bbox": "113.012,34.001,113.015,34.002"})
    assert _codes(east.json()) == [G21]


def test_datetime_selects_versions(db, client) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    db.execute(update(Grid).where(Grid.code == G21).values(status="retired", valid_to="2026-06-01"))
    db.flush()
    add_grid(db, G21, box(113.01, 34.0, 113.02, 34.01), version=2)
    db.execute(
        update(Grid).where(Grid.code == G21, Grid.version == 2).values(valid_from="2026-06-01")
    )
    db.flush()

    def versions(**params: str) -> list[int]:
        feats = client.get(ITEMS, params=params).json()["features"]
        return sorted(f["properties"]["version"] for f in feats if f["properties"]["code"] == G21)

    assert versions() == [2]
    assert versions(datetime="2026-03-01") == [1]
    assert versions(datetime="2026-03-01T12:00:00Z") == [1]
    assert versions(datetime="2026-07-01") == [2]
    assert versions(datetime="2026-03-01/..") == [1, 2]
    assert versions(datetime="../2026-05-31") == [1]
    assert versions(datetime="2026-06-01/2026-12-31") == [2]
    # The history of one code, as a filter over the interval.
    assert versions(datetime="2000-01-01/..", filter="valid_to IS NOT NULL") == [1]


def test_single_item_and_unknown(db, client) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    first = client.get(ITEMS, params={"limit": 1}).json()["features"][0]
    one = client.get(f"{ITEMS}/{first['id']}")
    assert one.status_code == 200 and one.json()["properties"] == first["properties"]
    assert one.headers["content-crs"] == f"<{CRS84}>"
    missing = client.get(f"{ITEMS}/999999")
    assert missing.status_code == 404 and missing.json()["code"] == "NotFound"
    assert "999999" in missing.json()["description"]
    r = client.get(f"{OGC}/collections/nope/items")
    assert r.status_code == 404 and "nope" in r.json()["description"]


# --------------------------------------------------------------------------- 400s
def test_unknown_and_malformed_parameters_are_400(db, client) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    message = _bad(client, ITEMS, colour="red", limit="2")
    assert "colour" in message and "limit" not in message.split("（")[0]
    assert "sortby" in _bad(client, f"{OGC}/collections", sortby="name")
    assert "bbox" in _bad(client, f"{OGC}/collections/grids", bbox="1,2,3,4")
    assert "limit" in _bad(client, f"{OGC}/conformance", limit="1")
    assert "limit" in _bad(client, ITEMS, limit="abc")
    assert "limit" in _bad(client, ITEMS, limit="0")
    assert "offset" in _bad(client, ITEMS, offset="-1")
    assert "f " in _bad(client, ITEMS, f="xml")
    for bad in ("1,2,3", "a,b,c,d", "3,0,1,1", "nan,0,1,1"):
        assert "bbox" in _bad(client, ITEMS, bbox=bad)
    assert "datetime" in _bad(client, ITEMS, datetime="March")
    assert "datetime" in _bad(client, ITEMS, datetime="2026-05-01/2026-01-01")
    # A parameter given twice.
    r = client.get(f"{ITEMS}?limit=1&limit=2")
    assert r.status_code == 400 and "limit" in r.json()["description"]
    # A single item takes f and crs only.
    assert "bbox" in _bad(client, f"{ITEMS}/1", bbox="1,2,3,4")


# --------------------------------------------------------------------------- Part 2: CRS
def _ring(feature: dict[str, Any]) -> set[tuple[float, float]]:
    geom = feature["geometry"]
    ring = geom["coordinates"][0][0] if geom["type"] == "MultiPolygon" else geom["coordinates"][0]
    return {(round(x, 3), round(y, 3)) for x, y in ring}


def test_crs_axis_order_and_reprojection(db, client) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    params = {"filter": f"code = '{G11}'"}
    crs84 = client.get(ITEMS, params=params).json()["features"][0]
    assert {(round(x, 6), round(y, 6)) for x, y in crs84["geometry"]["coordinates"][0][0]} == {
        (113.0, 34.0),
        (113.005, 34.0),
        (113.005, 34.01),
        (113.0, 34.01),
    }
    # EPSG:4490 and EPSG:4326 are (latitude, longitude) by their definition, as Part 2 requires.
    for code in (4490, 4326):
        r = client.get(ITEMS, params={**params, "crs": f"{EPSG}{code}"})
        assert r.headers["content-crs"] == f"<{EPSG}{code}>"
        got = r.json()["features"][0]["geometry"]["coordinates"][0][0]
        assert {(round(a, 6), round(b, 6)) for a, b in got} == {
            (34.0, 113.0),
            (34.0, 113.005),
            (34.01, 113.005),
            (34.01, 113.0),
        }
    # The short form EPSG:4490 is understood too.
    short = client.get(ITEMS, params={**params, "crs": "EPSG:4490"})
    assert short.headers["content-crs"] == f"<{EPSG}4490>"
    # Gauss-Krüger zone 38: (northing, easting) in metres, the zone number before the easting.
    to_gk = Transformer.from_crs(4490, GK_ZONE, always_xy=True)
    r = client.get(ITEMS, params={**params, "crs": f"{EPSG}{GK_ZONE}"})
    assert r.headers["content-crs"] == f"<{EPSG}{GK_ZONE}>"
    got = r.json()["features"][0]["geometry"]["coordinates"][0][0]
    for north, east in got:
        assert 38_400_000 < east < 38_500_000 and 3_760_000 < north < 3_770_000
    corners = {to_gk.transform(x, y) for x, y in [(113.0, 34.0), (113.005, 34.01)]}
    for e, n in corners:
        assert min(abs(n - a) + abs(e - b) for a, b in got) < 0.002  # within 2 mm
    cm = client.get(ITEMS, params={**params, "crs": f"{EPSG}{GK_CM}"}).json()
    north, east = cm["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 400_000 < east < 500_000  # the same zone without its number
    # A CRS the collection is not offered in: 400 naming those it is.
    message = _bad(client, ITEMS, crs=f"{EPSG}3857")
    assert "3857" in message and f"{EPSG}{GK_ZONE}" in message
    assert "crs" in _bad(client, ITEMS, crs=f"{EPSG}4527")  # another zone
    assert "crs" in _bad(client, ITEMS, crs="WGS84")
    item = client.get(f"{ITEMS}/{crs84['id']}", params={"crs": f"{EPSG}4490"})
    assert item.headers["content-crs"] == f"<{EPSG}4490>"
    assert item.json()["geometry"]["coordinates"][0][0][0][0] > 30  # latitude first


def test_bbox_crs(db, client) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    # Inside G21 only, written (latitude, longitude) for EPSG:4326 and EPSG:4490.
    for code in (4326, 4490):
        page = client.get(
            ITEMS, params={"bbox": "34.001,113.012,34.002,113.015", "bbox-crs": f"{EPSG}{code}"}
        ).json()
        assert _codes(page) == [G21]
    # The same box in lon/lat order under EPSG:4326 is outside the world's latitudes: a 400.
    message = _bad(
        client, ITEMS, bbox="113.012,34.001,113.015,34.002", **{"bbox-crs": f"{EPSG}4326"}
    )
    assert "纬度,经度" in message
    # In Gauss-Krüger metres (northing, easting), a box 20 m around a point of G21.
    e, n = Transformer.from_crs(4490, GK_ZONE, always_xy=True).transform(113.015, 34.005)
    gk = f"{n - 20},{e - 20},{n + 20},{e + 20}"
    page = client.get(ITEMS, params={"bbox": gk, "bbox-crs": f"{EPSG}{GK_ZONE}"}).json()
    assert _codes(page) == [G21]
    assert "bbox" in _bad(client, ITEMS, bbox="1,2,3,4", **{"bbox-crs": f"{EPSG}{GK_ZONE}"})
    assert "bbox-crs" in _bad(client, ITEMS, **{"bbox-crs": f"{EPSG}4490"})


def test_postgis_knows_every_offered_crs(db) -> None:  # type: ignore[no-untyped-def]
    """ST_Transform needs each CRS in spatial_ref_sys: the geographic ones and every CGCS2000
    3-degree zone, numbered (4513–4533) and by central meridian (4534–4554)."""
    wanted = {4326, 4490, *range(4513, 4555)}
    have = set(
        db.scalars(
            text("SELECT srid FROM spatial_ref_sys WHERE srid = ANY(:s)"), {"s": list(wanted)}
        )
    )
    assert have == wanted


# --------------------------------------------------------------------------- Part 3
def test_queryables(db, client) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    r = client.get(f"{OGC}/collections/grids/queryables")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/schema+json")
    schema = r.json()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith("/ogc/collections/grids/queryables")
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert schema["properties"]["code"] == {"title": "编码", "type": "string"}
    assert schema["properties"]["version"] == {"title": "版本", "type": "integer"}
    assert schema["properties"]["valid_from"] == {
        "title": "生效日期",
        "type": "string",
        "format": "date",
    }
    assert set(schema["properties"]) == {
        "code",
        "name",
        "type",
        "community_code",
        "status",
        "version",
        "valid_from",
        "valid_to",
    }
    assert client.get(f"{OGC}/collections/nope/queryables").status_code == 404


@pytest.mark.parametrize(
    ("cql", "expected"),
    [
        (f"code = '{G21}'", [G21]),
        (f"code <> '{G21}'", [G11, G12]),
        (f"community_code = '{C1}'", [G11, G12]),
        ("name LIKE '幸福社区%'", [G11, G12]),
        ("name LIKE '%第_网格' AND community_code = '419901001002'", [G21]),
        ("name NOT LIKE '幸福%'", [G21]),
        (f"code IN ('{G11}', '{G21}')", [G11, G21]),
        (f"code NOT IN ('{G11}', '{G21}')", [G12]),
        ("version BETWEEN 1 AND 2", [G11, G12, G21]),
        ("version > 1", []),
        ("type = 'comprehensive' AND NOT (code = '419901001001001')", [G12, G21]),
        (f"code = '{G11}' OR code = '{G12}'", [G11, G12]),
        ("valid_to IS NULL", [G11, G12, G21]),
        ("valid_from >= DATE('2000-01-01')", [G11, G12, G21]),
        ("valid_from < '2000-01-01'", []),
    ],
)
def test_cql2_filters(db, client, cql: str, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    r = client.get(ITEMS, params={"filter": cql, "filter-lang": "cql2-text"})
    assert r.status_code == 200, r.text
    assert _codes(r.json()) == expected
    assert r.json()["numberMatched"] == len(expected)


def test_filter_with_bbox_and_paging_links(db, client) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    cql = "name LIKE '%网格'"
    page = client.get(ITEMS, params={"filter": cql, "limit": 1}).json()
    assert page["numberMatched"] == 3
    nxt = next(link["href"] for link in page["links"] if link["rel"] == "next")
    assert client.get(nxt).json()["numberMatched"] == 3  # the filter travels with the link
    both = client.get(ITEMS, params={"filter": cql, "bbox": "113.0,34.0,113.004,34.01"}).json()
    assert _codes(both) == [G11]


@pytest.mark.parametrize(
    ("cql", "says"),
    [
        ("code = ", "CQL2"),
        ("code === 'x'", "CQL2"),
        ("leader_phone = '13812345678'", "code"),  # not a queryable: named, with those that are
        ("version = 'one'", "整数"),
        ("code = 3", "文本"),
        ("valid_from > 'soon'", "日期"),
        ("S_INTERSECTS(geom, POINT(113 34))", "不支持"),
        ("version + 1 = 2", "不支持"),
        ("", "为空"),
    ],
)
def test_bad_filters_are_400(db, client, cql: str, says: str) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    assert says in _bad(client, ITEMS, filter=cql)


def test_filter_language_and_crs(db, client) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    assert "cql2-text" in _bad(client, ITEMS, filter="code = 'x'", **{"filter-lang": "cql2-json"})
    assert "filter-crs" in _bad(client, ITEMS, **{"filter-crs": f"{EPSG}4490"})
    ok = client.get(ITEMS, params={"filter": f"code = '{G11}'", "filter-crs": CRS84})
    assert _codes(ok.json()) == [G11]


def test_filter_values_are_bound_not_spliced(db, client) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    r = client.get(ITEMS, params={"filter": "name = 'x; DROP TABLE grids; --' OR code = ')--'"})
    assert r.status_code == 200 and r.json()["features"] == []
    assert client.get(ITEMS).json()["numberMatched"] == 3  # and the table is still there


# --------------------------------------------------------------------------- HTML
def test_html_pages(db, client) -> None:  # type: ignore[no-untyped-def]
    tiny_county(db)
    first = client.get(ITEMS, params={"limit": 1}).json()["features"][0]
    pages = {
        f"{OGC}/": "数据集合",
        f"{OGC}/conformance": "符合的标准",
        f"{OGC}/collections": "网格（现行",
        f"{OGC}/collections/grids": "可输出的坐标系",
        f"{OGC}/collections/grids/queryables": "生效日期",
        ITEMS: "共 3 个要素",
        f"{ITEMS}/{first['id']}": first["properties"]["name"],
    }
    for path, label in pages.items():
        r = client.get(path, params={"f": "html"})
        assert r.status_code == 200, (path, r.text)
        assert r.headers["content-type"].startswith("text/html")
        assert label in r.text, path
        assert "网格化服务管理平台" in r.text  # the project's base template
    # A browser asking for HTML gets the page without f=html; GDAL's Accept gets JSON.
    page = client.get(f"{OGC}/collections", headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.headers["content-type"].startswith("text/html")
    data = client.get(f"{OGC}/collections", headers={"Accept": "application/json"})
    assert data.headers["content-type"].startswith("application/json")
    # The items page pages on in HTML, and a page in another CRS says which.
    html = client.get(ITEMS, params={"f": "html", "limit": 1}).text
    assert "f=html" in html.split('id="ogc-next"')[0].rsplit("href=", 1)[1]
    gk = client.get(ITEMS, params={"f": "html", "crs": f"{EPSG}{GK_ZONE}"}).text
    assert f"坐标系 EPSG:{GK_ZONE}" in gk and 'id="ogc-map"' not in gk
    # Errors stay OGC exceptions, whatever the format asked for.
    r = client.get(f"{OGC}/collections/nope", params={"f": "html"})
    assert r.status_code == 404 and r.json()["code"] == "NotFound"
    assert C2 not in client.get(f"{OGC}/collections/areas-township/items?f=html").text
