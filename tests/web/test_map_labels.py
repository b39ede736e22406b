"""The maps name places (labels.js) and the visits map opens on this month.

Names by zoom: at community zoom the community names and no grid names, at grid zoom the grid
names. The visits map starts on the first day of the current month in Shanghai and, with a visit
made today, shows a coverage above zero and the coverage target.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text

from tests.web.conftest import Watched

pytestmark = pytest.mark.browser

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _names(web: Watched, level: str) -> list[str]:
    return sorted(
        web.page.eval_on_selector_all(f".place-{level} span", "ss => ss.map(s => s.textContent)")
    )


def _zoom(web: Watched, lat: float, lng: float, z: float) -> None:
    web.page.evaluate(f"window.GG_MAP.setView([{lat}, {lng}], {z}, {{animate: false}})")
    web.page.wait_for_timeout(300)


def test_coverage_map_names_communities_then_grids(web: Watched) -> None:
    web.login("admin", "/maps/coverage?area=419901")
    web.page.wait_for_selector("#summary-table")
    web.page.wait_for_load_state("networkidle")
    _zoom(web, 34.005, 113.01, 14)
    assert _names(web, "community") == ["和平社区", "幸福社区"]
    assert _names(web, "grid") == []
    _zoom(web, 34.005, 113.0025, 16.5)
    assert "幸福社区第1网格" in _names(web, "grid")
    assert _names(web, "community") == []
    web.shot("coverage-labels-grid-zoom")
    web.assert_clean()


def test_community_panel_lists_its_grids(web: Watched) -> None:
    web.login("admin", "/maps/coverage?area=419901001001")
    web.page.wait_for_selector("#children li[data-grid]")
    rows = web.page.eval_on_selector_all("#children li", "ls => ls.map(l => l.textContent)")
    # The one building of 幸福社区 (two households) stands in its first grid.
    assert rows == ["幸福社区第1网格 2 户", "幸福社区第2网格 0 户"]
    assert web.page.inner_text("#children-title") == "网格"
    web.assert_clean()


@pytest.fixture
def visited_today(engine: Engine, fresh_county: None) -> Iterator[None]:
    """One of the two households of 幸福社区 visited just now (fresh_county removes it after)."""
    with engine.begin() as conn:
        home, worker = conn.execute(
            text(
                "SELECT h.id, (SELECT id FROM staff WHERE code = 'S2') FROM households h"
                " JOIN buildings b ON b.id = h.building_id WHERE b.code = 'B1'"
                " ORDER BY h.id LIMIT 1"
            )
        ).one()
        conn.execute(
            text(
                "INSERT INTO visits (worker_id, household_id, grid_code, visited_at, kind,"
                " location, recorded_by) VALUES (:w, :h, '419901001001001', now(), 'routine',"
                " ST_SetSRID(ST_MakePoint(113.002, 34.005), 4490), 'test')"
            ),
            {"w": worker, "h": home},
        )
    yield


def test_visits_map_opens_on_this_month(web: Watched, visited_today: None) -> None:
    web.login("admin", "/maps/visits?area=419901001001")
    web.page.wait_for_selector("#visit-stats")
    now = dt.datetime.now(SHANGHAI)
    assert web.page.input_value("#from") == f"{now:%Y-%m}-01"
    assert web.page.input_value("#to") == f"{now:%Y-%m-%d}"
    stats = dict(
        web.page.eval_on_selector_all(
            "#visit-stats tr", "rs => rs.map(r => [...r.cells].map(c => c.textContent))"
        )
    )
    assert stats["已走访"] == "1"
    assert stats["覆盖率"] == "50%"
    assert web.page.inner_text("#visit-target") == "目标：一年内走访住户 90%"
    web.shot("visits-this-month")
    web.assert_clean()


@pytest.fixture
def road(engine: Engine, fresh_county: None) -> Iterator[None]:
    """人民路 across 幸福社区 from west to east (barriers are not part of the tiny county)."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO barriers (name, class, geom) VALUES ('人民路', 'arterial',"
                " ST_GeomFromText('MULTILINESTRING((113.0 34.003, 113.01 34.003))', 4490))"
            )
        )
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM barriers WHERE name = '人民路'"))


def test_road_names_when_zoomed_in(web: Watched, road: None) -> None:
    web.login("admin", "/maps/coverage?area=419901001001")
    web.page.wait_for_selector("#summary-table")
    _zoom(web, 34.005, 113.005, 13)
    web.page.wait_for_load_state("networkidle")
    assert web.page.locator(".road-label").count() == 0
    _zoom(web, 34.004, 113.005, 16)
    web.page.wait_for_selector(".road-label span")
    assert web.page.inner_text(".road-label span") == "人民路"
    web.shot("coverage-road-names")
    web.assert_clean()


@pytest.mark.parametrize(
    ("user", "path", "ready"),
    [
        ("disp", "/console?area=419901", "#count"),
        ("auditor", "/audits?area=419901", "#run"),
        ("disp", "/wall", "#wall-live"),
        ("admin", "/dashboard?area=419901", "#league td"),
    ],
)
def test_every_map_names_communities_then_grids(
    web: Watched, user: str, path: str, ready: str
) -> None:
    """The console, audits, wall and dashboard maps use the same labels by zoom as the coverage map
    (no base map: the names come from the registry's outlines)."""
    if path.startswith("/wall"):
        web.page.set_viewport_size({"width": 1920, "height": 1080})
    web.login(user, path)
    web.page.wait_for_selector(ready)
    if path.startswith("/audits"):  # the audits map names the area of the run shown
        web.page.click("#run")
        web.page.locator("details.kind").first.wait_for()
        # The findings are drawn (and the map fitted) after the list.
        web.page.wait_for_load_state("networkidle")
        web.page.wait_for_timeout(1000)
    web.page.wait_for_function("() => document.querySelectorAll('.place-label').length > 0")
    _zoom(web, 34.005, 113.01, 14)
    web.page.wait_for_function(
        "() => document.querySelectorAll('.place-community').length === 2", timeout=10_000
    )
    assert _names(web, "community") == ["和平社区", "幸福社区"]
    assert _names(web, "grid") == []
    _zoom(web, 34.005, 113.0025, 16.5)
    web.page.wait_for_function("() => document.querySelectorAll('.place-grid').length > 0")
    assert "幸福社区第1网格" in _names(web, "grid")
    assert _names(web, "community") == []
