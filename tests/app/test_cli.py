"""The gridgov command against the test server (GRIDGOV_DATABASE_URL), in-process."""

import json
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

from app.cli import main
from app.settings import get_settings


@pytest.fixture
def cli_env(engine, monkeypatch):
    monkeypatch.setenv("GRIDGOV_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_import_is_a_dry_run_unless_commit(cli_env, tmp_path: Path, capsys):
    frame = gpd.GeoDataFrame(
        {"code": ["419903"], "name": ["命令行县"]}, geometry=[box(115, 35, 115.01, 35.01)], crs=4490
    )
    frame.to_file(tmp_path / "a.geojson", driver="GeoJSON")
    assert main(["import", "areas", str(tmp_path / "a.geojson")]) == 0
    out = capsys.readouterr().out
    assert "试运行" in out and "新增 1" in out
    # Nothing was written: the same dry run still says "new".
    assert main(["import", "areas", str(tmp_path / "a.geojson")]) == 0
    assert "新增 1" in capsys.readouterr().out


def test_import_of_a_missing_file_fails_clearly(cli_env, capsys):
    assert main(["import", "areas", "/nonexistent/x.geojson"]) == 2
    assert "文件不存在" in capsys.readouterr().err


def test_locate_prints_json_and_refuses_bad_crs(cli_env, capsys):
    code = main(["locate", "113.5", "34.5"])
    body = json.loads(capsys.readouterr().out)
    assert code in (0, 1) and body["point"]["lng"] == 113.5
    assert main(["locate", "113.5", "34.5", "--crs", "mars"]) == 2
    assert "crs" in capsys.readouterr().err


def test_every_command_is_registered_once(capsys):
    """The platform's commands and each domain's (app/commands.py) reach `gridgov --help`."""
    from app.cli import COMMANDS, build_parser

    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["--help"])
    assert exit_.value.code == 0
    usage = capsys.readouterr().out.splitlines()
    listed = next(line.strip() for line in usage if line.strip().startswith("{run,"))
    assert listed == (
        "{run,migrate,demo,import,locate,geocode,user,db,worker,kpis,audit,audit-log,partition,apply-plans,units,export,generate-province,register}"
    )
    names = [name for name, _ in COMMANDS]
    assert len(names) == len(set(names))
    # A domain's command parses into its own handler (argparse fills in the defaults).
    args = build_parser().parse_args(["audit", "--area", "419901"])
    assert (args.func.__module__, args.format) == ("app.audits.cli", "json")
