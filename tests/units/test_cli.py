"""``gridgov units derive`` in-process against the test server: a county without areas gets no
unit (nothing is written), and a code that is not a county's is refused with its reason."""

from __future__ import annotations

import pytest

from app.cli import main
from app.settings import get_settings


@pytest.fixture
def cli_env(engine, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GRIDGOV_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_derive_for_a_county_without_areas_creates_nothing(cli_env, capsys):  # type: ignore[no-untyped-def]
    assert main(["units", "derive", "--county", "419977"]) == 0
    assert (
        capsys.readouterr().out.strip() == "承办单位：为 419977 新建 0 个层级单位（已有的保持不变）"
    )


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("419901001", "--county 需要 6 位县级编码，收到 419901001"),
        ("4199010", "区划编码“4199010”格式有误"),
    ],
)
def test_derive_refuses_what_is_not_a_county(cli_env, capsys, code, message):  # type: ignore[no-untyped-def]
    assert main(["units", "derive", "--county", code]) == 2
    assert capsys.readouterr().out.startswith(message)
