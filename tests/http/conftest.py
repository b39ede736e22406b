"""Fixtures for the HTTP edge: the tiny county, an app with small limits, and a cookie session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

# The tiny county and a point inside its grid ...001001, as the incident tests have them.
from tests.incidents.conftest import IN_G11, county

__all__ = ["IN_G11", "county"]


@pytest.fixture
def small(app_factory, tmp_path) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """An app whose ordinary routes take at most 4 KB (intake, uploads and batch locate keep their
    own, larger limits)."""
    with TestClient(app_factory(data_dir=tmp_path, body_max_bytes=4096)) as c:
        yield c


@pytest.fixture
def cookie_login(token_for) -> Callable[..., dict[str, str]]:  # type: ignore[no-untyped-def]
    """Puts a real session's token into the client's page cookie (as the login page does) and
    loads the login page once, which sets the CSRF cookie; returns the CSRF header to echo."""

    def login(client: TestClient, role: str = "dispatcher", **kw: Any) -> dict[str, str]:
        token = token_for(role, **kw)["Authorization"].split(" ", 1)[1]
        client.cookies.set("gridgov_token", token)
        assert client.get("/login").status_code == 200
        return {"X-CSRF-Token": client.cookies["gridgov_csrf"]}

    return login
