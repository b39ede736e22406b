"""The front end's date helpers (web/static/gridgov/format.js) under node's test runner.

tests/js/format.test.mjs holds the cases with hand-written answers; here it runs as a browser in
Shanghai would (TZ=Asia/Shanghai, the zone where toISOString made 07:30 "yesterday") and in two
other zones, since a browser's own zone must not change which day the pages ask for.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
NODE = shutil.which("node")


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC", "America/Los_Angeles"])
def test_date_helpers_answer_in_shanghai_time(zone: str) -> None:
    assert NODE is not None, "node is needed for the front-end tests (.ci/setup test installs it)"
    run = subprocess.run(
        [NODE, "--test", str(HERE / "format.test.mjs")],
        env={**os.environ, "TZ": zone},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "# fail 0" in run.stdout
    assert "# pass 7" in run.stdout
