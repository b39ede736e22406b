"""No input makes a 500; every error has one shape per kind of client; a database out of reach is
a 503 (app/errors.py, app/params.py)."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import jwt
import psycopg
import psycopg_pool
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy import exc as sa_exc

from app.errors import install_error_handlers
from app.main import create_app
from app.settings import Settings

HUGE = "99999999999999999999"  # past bigint
INT4_PAST = str(2**31)  # past integer, within bigint
INT8_PAST = str(2**63)


def assert_error(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    """The JSON API's error: {"detail": "<Chinese message>", "code": ..., ...}."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["code"], str)
    return body


# --- integers that overflow a column --------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/incidents/{HUGE}",
        f"/api/v1/incidents/{INT8_PAST}",
        f"/api/v1/incidents/{HUGE}/history",
        f"/api/v1/incidents/{HUGE}/photos/0",
        f"/api/v1/households/{INT4_PAST}",
        f"/api/v1/plans/{INT4_PAST}",
        f"/api/v1/plans/{HUGE}/validation",
        f"/api/v1/audits/{HUGE}",
        "/api/v1/incidents/0",
        "/api/v1/plans/-1",
    ],
)
def test_an_id_out_of_range_in_the_path_is_404(client, token_for, path):
    body = assert_error(client.get(path, headers=token_for("county_admin")), 404)
    assert body["code"] == "NotFound"
    assert "未找到" in body["detail"]


def test_an_id_out_of_range_in_a_write_path_is_404(client, token_for):
    admin = token_for("county_admin")
    assert_error(client.post(f"/api/v1/plans/{HUGE}/lock", headers=admin), 404)
    response = client.post(
        f"/api/v1/incidents/{HUGE}/transitions", json={"action": "accept"}, headers=admin
    )
    assert_error(response, 404)


@pytest.mark.parametrize(
    "query",
    [f"offset={HUGE}", f"offset={INT4_PAST}", "offset=-1", f"limit={HUGE}"],
)
def test_an_offset_out_of_range_is_422_naming_it(client, token_for, query):
    response = client.get(f"/api/v1/incidents?{query}", headers=token_for("county_admin"))
    body = assert_error(response, 422)
    field = query.split("=")[0]
    assert [e["field"] for e in body["errors"]] == [field]
    assert body["detail"].startswith("输入有误：" + field)


def test_an_id_out_of_range_in_the_query_is_422(client, token_for):
    response = client.get(f"/api/v1/access-log?household={HUGE}", headers=token_for("auditor"))
    body = assert_error(response, 422)
    assert body["errors"] == [{"field": "household", "message": "应不大于 2147483647"}]


def test_ids_out_of_range_in_a_body_are_422(client, token_for):
    response = client.post(
        "/api/v1/visits",
        json={"household_id": int(HUGE), "visited_at": "2026-03-01T10:00", "lng": 113.6},
        headers=token_for("grid_worker", "419901001"),
    )
    body = assert_error(response, 422)
    assert {"field": "household_id", "message": "应不大于 2147483647"} in body["errors"]


def test_ogc_ids_and_offsets_out_of_range(client):
    """OGC API answers in its own exception shape: {"code", "description"}."""
    response = client.get(f"/ogc/collections/grids/items/{HUGE}")
    assert response.status_code == 404
    assert response.json()["code"] == "NotFound"
    # Within bigint but past the grids' integer ids: still nothing there.
    response = client.get(f"/ogc/collections/grids/items/{INT4_PAST}")
    assert response.status_code == 404
    assert response.json() == {
        "code": "NotFound",
        "description": f"集合 grids 中没有要素 {INT4_PAST}",
    }
    # A parameter out of range is a 400 under /ogc (OGC API – Features answers 400, never 422).
    response = client.get(f"/ogc/collections/grids/items?offset={HUGE}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "BadRequest" and "offset" in body["description"]


def test_open311_ids_out_of_range(client):
    """Open311 answers with its error list, as JSON or XML after the extension."""
    response = client.get(f"/open311/v2/requests/{HUGE}.json")
    assert response.status_code == 404
    assert response.json() == [{"code": 404, "description": "服务请求不存在"}]
    response = client.get(f"/open311/v2/requests/{HUGE}.xml")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/xml")
    assert "<error><code>404</code><description>服务请求不存在</description>" in response.text
    response = client.get(f"/open311/v2/requests.json?service_request_id=1,{HUGE}")
    assert response.status_code == 422
    assert response.json()[0]["code"] == 422
    assert "service_request_id" in response.json()[0]["description"]


# --- NUL bytes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/geocode?address=%E6%96%87%E5%8C%96%00%E7%A4%BE%E5%8C%BA",
        "/api/v1/incidents?category=a%00b",
        "/api/v1/layers/cases?category=%00",
        "/api/v1/visits/due?grid=4199%00",
    ],
)
def test_a_nul_byte_in_the_query_is_422(client, token_for, path):
    body = assert_error(client.get(path, headers=token_for("county_admin")), 422)
    assert "空字符" in body["detail"]


def test_a_nul_byte_in_the_path_is_422_in_each_shape(client, token_for):
    admin = token_for("county_admin")
    body = assert_error(client.get("/api/v1/auth/users/a%00b", headers=admin), 422)
    assert "空字符" in body["detail"]
    response = client.get("/ogc/collections/gr%00ids")
    assert response.status_code == 422 and response.json()["code"] == "InvalidParameterValue"
    response = client.get("/open311/v2/tokens/a%00b.json")
    assert response.status_code == 422 and "空字符" in response.json()[0]["description"]


def test_a_nul_character_in_a_json_body_is_422(client, token_for):
    response = client.post(
        "/api/v1/open311-clients",
        content=b'{"name": "\\u516c\\u4f17\\u53f7\\u0000"}',
        headers={**token_for("county_admin"), "content-type": "application/json"},
    )
    body = assert_error(response, 422)
    assert "空字符" in body["detail"]


# --- bodies nested too deep -------------------------------------------------------------------


def test_a_json_body_nested_200000_deep_is_refused_not_a_500(client, token_for):
    response = client.post(
        "/api/v1/incidents",
        content=b"[" * 200_000,
        headers={**token_for("county_admin"), "content-type": "application/json"},
    )
    assert response.status_code in (413, 422), response.text
    assert isinstance(response.json()["detail"], str)


def _bare_app() -> FastAPI:
    """An app with only the error handling, and routes that fail the ways nothing else should."""
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/api/v1/recursion")
    def recursion() -> None:
        raise RecursionError("maximum recursion depth exceeded while decoding a JSON array")

    @app.get("/api/v1/bug")
    def bug() -> None:
        raise ZeroDivisionError("division by zero in a secret place")

    @app.get("/ogc/bug")
    def ogc_bug() -> None:
        raise KeyError("jur")

    @app.get("/api/v1/file-name")
    def file_name() -> None:
        Path("upload\x00.csv").stat()  # what a NUL in an uploaded file's name would do

    @app.get("/api/v1/unreachable/{kind}")
    def unreachable(kind: str) -> None:
        raise UNREACHABLE[kind]

    return app


# What the driver, the pool and SQLAlchemy raise when the database is out of reach.
UNREACHABLE: dict[str, Exception] = {
    "psycopg": psycopg.OperationalError("connection refused"),
    "psycopg-pool": psycopg_pool.PoolTimeout("couldn't get a connection after 30 sec"),
    "sqlalchemy": sa_exc.OperationalError("SELECT 1", {}, psycopg.OperationalError("gone")),
    "queue-pool": sa_exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"),
    "disconnection": sa_exc.DisconnectionError("connection invalidated"),
}


@pytest.mark.parametrize("kind", sorted(UNREACHABLE))
def test_every_way_the_database_is_unreachable_is_a_503(kind):
    with TestClient(_bare_app()) as client:
        response = client.get(f"/api/v1/unreachable/{kind}")
    body = assert_error(response, 503)
    assert body["detail"] == "数据库暂时无法访问，请稍后重试"
    assert response.headers["retry-after"] == "30"


def test_a_recursion_error_is_a_422_as_a_last_line():
    with TestClient(_bare_app()) as client:
        body = assert_error(client.get("/api/v1/recursion"), 422)
    assert body["detail"] == "请求内容嵌套层数过多，无法解析"


def test_a_nul_the_os_refuses_is_a_422():
    with TestClient(_bare_app()) as client:
        body = assert_error(client.get("/api/v1/file-name"), 422)
    assert "空字符" in body["detail"]


def test_an_unexpected_error_is_a_logged_500_without_the_trace(caplog):
    with TestClient(_bare_app(), raise_server_exceptions=False) as client:
        with caplog.at_level(logging.ERROR, logger="app.errors"):
            response = client.get("/api/v1/bug")
        body = assert_error(response, 500)
        reference = body["context"]["reference"]
        assert body["detail"].startswith(f"服务器内部错误（编号 {reference}）")
        assert "ZeroDivisionError" not in response.text and "secret" not in response.text
        # The log has the reference and the whole trace, for the administrator.
        (record,) = [r for r in caplog.records if reference in r.getMessage()]
        assert record.exc_info is not None and record.exc_info[0] is ZeroDivisionError
        response = client.get("/ogc/bug")
        assert response.status_code == 500
        assert response.json()["code"] == "ServerError"
        assert "jur" not in response.json()["description"]


# --- tokens -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "someone", "role": "county_admin"},  # no jurisdiction
        {"sub": "someone", "jur": "419901"},  # no role
        {"role": "county_admin", "jur": "419901"},  # no subject
    ],
)
def test_a_signed_token_missing_claims_is_401(client, claims):
    token = jwt.encode(claims, Settings(environment="test").secret_key, algorithm="HS256")
    response = client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {token}"})
    body = assert_error(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "登录" in body["detail"]


def test_a_malformed_token_is_401(client):
    response = client.get("/api/v1/incidents", headers={"Authorization": "Bearer not.a.jwt"})
    assert_error(response, 401)


# --- unknown addresses, in each shape ---------------------------------------------------------


def test_unknown_addresses_are_404_in_the_shape_of_their_client(client):
    body = assert_error(client.get("/api/v1/no-such-thing"), 404)
    assert body["detail"] == "没有这个地址：/api/v1/no-such-thing"
    assert client.get("/ogc/no-such-thing").json()["code"] == "NotFound"
    response = client.get("/open311/v2/no-such-thing.json")
    assert response.json() == [
        {"code": 404, "description": "没有这个地址：/open311/v2/no-such-thing.json"}
    ]
    page = client.get("/no-such-page", headers={"accept": "text/html"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "没有这个地址" in page.text and "未找到" in page.text


def test_validation_messages_are_in_chinese_field_by_field(client, token_for):
    body = assert_error(client.get("/api/v1/locate?lng=abc&lat=91"), 422)
    assert body["errors"] == [
        {"field": "lng", "message": "应为数字"},
        {"field": "lat", "message": "应不大于 90"},
    ]
    assert body["detail"] == "输入有误：lng: 应为数字；lat: 应不大于 90"
    response = client.post(
        "/api/v1/incidents",
        json={"category_code": "0101", "description": "井盖缺失", "lng": 113.6, "lat": 34.5},
        headers={**token_for("dispatcher"), "Idempotency-Key": "k" * 129},
    )
    body = assert_error(response, 422)
    assert body["errors"] == [{"field": "idempotency-key", "message": "至多 128 个字符"}]


# --- the database out of reach ----------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: nothing listens


@pytest.fixture
def down_client():  # type: ignore[no-untyped-def]
    """The app on an engine whose server is not there (as when PostgreSQL is down)."""
    url = f"postgresql+psycopg://gridgov@127.0.0.1:{_closed_port()}/gridgov"
    engine = create_engine(url, connect_args={"connect_timeout": 2}, pool_timeout=2)
    app = create_app(Settings(environment="test", locate_refresh_seconds=0), engine=engine)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client
    finally:
        engine.dispose()


def _assert_unavailable(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "30"


def test_the_database_down_is_a_503_with_retry_after(down_client, token_for):
    admin = token_for("county_admin")
    for path in ("/api/v1/locate?lng=113.6&lat=34.5", "/api/v1/incidents", "/api/v1/plans"):
        response = down_client.get(path, headers=admin)
        _assert_unavailable(response)
        assert response.json() == {
            "detail": "数据库暂时无法访问，请稍后重试",
            "code": "ServiceUnavailable",
        }
    response = down_client.post(
        "/api/v1/incidents",
        json={"category_code": "0101", "description": "井盖缺失", "lng": 113.6, "lat": 34.5},
        headers=admin,
    )
    _assert_unavailable(response)


def test_the_database_down_in_ogc_open311_and_pages(down_client, token_for):
    response = down_client.get("/ogc/collections")
    _assert_unavailable(response)
    assert response.json() == {
        "code": "ServiceUnavailable",
        "description": "数据库暂时无法访问，请稍后重试",
    }
    response = down_client.get("/open311/v2/services.json")
    _assert_unavailable(response)
    assert response.json() == [{"code": 503, "description": "数据库暂时无法访问，请稍后重试"}]
    cookie = token_for("county_admin")["Authorization"].removeprefix("Bearer ")
    down_client.cookies.set("gridgov_token", cookie)
    page = down_client.get("/maps/coverage?area=419901", headers={"accept": "text/html"})
    _assert_unavailable(page)
    assert page.headers["content-type"].startswith("text/html")
    assert "服务暂不可用" in page.text and "数据库暂时无法访问" in page.text


# --- the OpenAPI declares the one shape --------------------------------------------------------


def test_the_openapi_declares_the_error_shapes_for_every_operation(client):
    schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    assert components["Error"]["required"] == ["detail"]
    assert set(components["Error"]["properties"]) == {"detail", "code", "errors", "context"}
    assert "HTTPValidationError" not in components
    assert "HTTPValidationError" not in json.dumps(schema)
    # (/healthz answers 503 with its own report, for probes.)
    for path, operations in schema["paths"].items():
        wanted = (
            "OgcException"
            if path.startswith("/ogc")
            else "Open311Errors"
            if path.startswith("/open311")
            else "Error"
        )
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"500", "503"} <= set(responses), (method, path)
            for status, response in responses.items():
                if int(status) >= 400 and not (path == "/healthz" and status == "503"):
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref == f"#/components/schemas/{wanted}", (method, path, status)
    incident = schema["paths"]["/api/v1/incidents/{incident_id}"]["get"]
    assert {"401", "403", "404", "422"} <= set(incident["responses"])
    (param,) = [p for p in incident["parameters"] if p["name"] == "incident_id"]
    assert param["schema"]["minimum"] == 1 and param["schema"]["maximum"] == 2**63 - 1
