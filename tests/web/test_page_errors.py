"""Pages refuse with the API's own errors: a browser gets the HTML error page with the message, any
other client the JSON error with the same message; a page without a session sends the browser to
the login page. What a page names (breadcrumbs, the area's name) comes from the areas and grids."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import C1, G11, TOWNSHIP

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}  # what a browser sends
JSON = {"Accept": "application/json"}


@pytest.fixture
def county(web_data):  # type: ignore[no-untyped-def]
    """The tiny county (tests/factories.py), committed once for tests/web (conftest.py)."""


def _get(client: TestClient, bearer: dict[str, str], path: str, accept: dict[str, str]) -> Any:
    client.cookies.set("gridgov_token", bearer["Authorization"].removeprefix("Bearer "))
    try:
        return client.get(path, headers=accept, follow_redirects=False)
    finally:
        client.cookies.clear()


def _page_error(response: Any) -> tuple[str, str]:
    """The error page's heading and message, as a person reads them."""
    assert response.headers["content-type"].startswith("text/html")
    heading = re.search(r"<h1>(.*?)</h1>", response.text, re.S)
    message = re.search(r'<p class="error" id="page-error">(.*?)</p>', response.text, re.S)
    assert heading and message, response.text[:500]
    return heading.group(1).strip(), message.group(1).strip()


def test_a_page_the_role_may_not_use_is_the_same_403_for_a_browser_and_for_a_script(
    client, county, token_for
):
    dispatcher = token_for("dispatcher", TOWNSHIP)
    page = _get(client, dispatcher, "/planner", HTML)
    assert page.status_code == 403
    assert _page_error(page) == ("无权访问", "此页面仅限县级管理员、网格规划员使用")
    script = _get(client, dispatcher, "/planner", JSON)
    assert script.status_code == 403
    assert script.json() == {"detail": "此页面仅限县级管理员、网格规划员使用", "code": "Forbidden"}


def test_an_area_outside_the_jurisdiction_is_a_403_page_naming_it(client, county, token_for):
    page = _get(client, token_for("dispatcher", TOWNSHIP), "/maps/coverage?area=419902", HTML)
    assert page.status_code == 403
    assert _page_error(page) == ("无权访问", "您无权查看：区域 419902 不在您的辖区内")


def test_a_malformed_area_code_is_a_422_page_saying_what_a_code_looks_like(
    client, county, token_for
):
    page = _get(client, token_for("county_admin"), "/dashboard?area=12345", HTML)
    assert page.status_code == 422
    assert _page_error(page) == ("请求有误", "区划编码“12345”格式有误（2、4、6、9、12或15位数字）")


def test_the_public_account_gets_a_403_page_not_the_workbench(client, county, token_for):
    page = _get(client, token_for("public"), "/maps/coverage", HTML)
    assert page.status_code == 403
    assert _page_error(page) == ("无权访问", "公众账号无权使用工作台")


@pytest.mark.parametrize("accept", [HTML, JSON], ids=["browser", "script"])
def test_a_page_without_a_session_goes_to_the_login_and_back(client, county, accept):
    r = client.get("/maps/coverage?area=419901001", headers=accept, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/maps/coverage%3Farea%3D419901001"


def test_an_unknown_page_is_a_404_page(client, county, token_for):
    page = _get(client, token_for("county_admin"), "/maps/nowhere", HTML)
    assert page.status_code == 404
    assert _page_error(page) == ("未找到", "没有这个地址：/maps/nowhere")


def test_a_wrong_second_factor_code_says_to_fetch_the_secret_again(client, county, token_for):
    client.cookies.set("gridgov_token", token_for("county_admin")["Authorization"][7:])
    enrol = client.get("/login/totp", headers=HTML)  # a secret to type into the phone
    assert enrol.status_code == 200
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', enrol.text).group(1)  # type: ignore[union-attr]
    r = client.post(
        "/login/totp",
        data={"code": "000000", "csrf_token": csrf},
        headers=HTML,
        follow_redirects=False,
    )
    assert r.status_code == 422
    assert _page_error(r) == (
        "请求有误",
        "动态口令错误，请输入验证器上当前的 6 位数字（返回上一页重新获取密钥）",
    )


def _config(response: Any) -> dict[str, Any]:
    found = re.search(
        r'<script id="gg-config" type="application/json">(.*?)</script>', response.text
    )
    assert found, response.text[:500]
    return dict(json.loads(found.group(1)))


def test_breadcrumbs_name_each_level_from_the_jurisdiction_down_to_the_grid(
    client, county, token_for
):
    county_admin = _config(
        _get(client, token_for("county_admin"), f"/maps/coverage?area={G11}", HTML)
    )
    assert county_admin["crumbs"] == [
        {"code": "419901", "name": "示范县"},
        {"code": "419901001", "name": "城关街道"},
        {"code": "419901001001", "name": "幸福社区"},
        {"code": "419901001001001", "name": "幸福社区第1网格"},
    ]
    township = _config(_get(client, token_for("dispatcher", TOWNSHIP), f"/console?area={C1}", HTML))
    assert township["crumbs"] == [
        {"code": "419901001", "name": "城关街道"},
        {"code": "419901001001", "name": "幸福社区"},
    ]


def test_a_code_with_no_area_keeps_its_code_as_its_name(client, county, token_for):
    crumbs = _config(_get(client, token_for("county_admin"), "/maps/coverage?area=419901009", HTML))
    assert crumbs["crumbs"] == [
        {"code": "419901", "name": "示范县"},
        {"code": "419901009", "name": "419901009"},
    ]


def test_the_dashboard_is_titled_with_the_area_and_a_grid_with_its_community(
    client, county, token_for
):
    admin = token_for("county_admin")
    title = r'<small class="muted">(.*?)</small>'
    page = _get(client, admin, f"/dashboard?area={TOWNSHIP}", HTML)
    assert re.search(title, page.text).group(1) == "城关街道"  # type: ignore[union-attr]
    page = _get(client, admin, f"/dashboard?area={G11}", HTML)
    assert re.search(title, page.text).group(1) == "幸福社区"  # type: ignore[union-attr]
