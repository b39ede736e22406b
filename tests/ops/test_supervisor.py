"""``gridgov run`` keeps its worker alive: real child processes that exit, hang or ignore SIGTERM."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from app.supervise import supervise


def _wait_for(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _start(cmd: list[str], **kw):  # type: ignore[no-untyped-def]
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(
        target=lambda: result.append(supervise(cmd, stop, **kw)), name="test-supervisor"
    )
    thread.start()
    return stop, thread, result


def test_a_worker_that_exits_is_restarted_with_back_off_and_logged(tmp_path: Path, caplog):
    caplog.set_level(logging.INFO, logger="gridgov.run")
    log = tmp_path / "starts"
    child = f"import os, sys; open({str(log)!r}, 'a').write(str(os.getpid()) + '\\n'); sys.exit(3)"
    stop, thread, result = _start([sys.executable, "-c", child], min_delay=0.05, max_delay=0.2)
    try:
        _wait_for(lambda: log.exists() and len(log.read_text().split()) >= 3)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    pids = log.read_text().split()
    assert len(set(pids)) == len(pids) >= 3  # a new process each time
    assert result[0] >= 2
    exits = [r for r in caplog.records if "已退出" in r.getMessage()]
    assert len(exits) >= 2 and all(r.levelno == logging.WARNING for r in exits)
    assert "退出码 3" in exits[0].getMessage() and "秒后重启" in exits[0].getMessage()


def test_stopping_the_supervisor_stops_a_running_worker(tmp_path: Path):
    pidfile = tmp_path / "pid"
    child = f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    stop, thread, result = _start([sys.executable, "-c", child])
    _wait_for(lambda: pidfile.exists() and pidfile.read_text() != "")
    pid = int(pidfile.read_text())
    started = time.monotonic()
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive() and time.monotonic() - started < 5
    assert _gone(pid)
    assert result == [0]  # never restarted


def test_a_worker_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path: Path):
    pidfile = tmp_path / "pid"
    child = (
        "import os, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    )
    stop, thread, _ = _start([sys.executable, "-c", child], grace=0.5)
    _wait_for(lambda: pidfile.exists() and pidfile.read_text() != "")
    pid = int(pidfile.read_text())
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert _gone(pid)


def test_the_worker_is_not_in_the_terminal_process_group(tmp_path: Path):
    """Ctrl+C reaches only `gridgov run`, which then stops the worker itself (no restart race)."""
    pidfile = tmp_path / "pid"
    child = f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    stop, thread, _ = _start([sys.executable, "-c", child])
    try:
        _wait_for(lambda: pidfile.exists() and pidfile.read_text() != "")
        assert os.getpgid(int(pidfile.read_text())) != os.getpgid(0)
    finally:
        stop.set()
        thread.join(timeout=10)


def test_a_worker_whose_supervisor_is_gone_stops(engine, caplog):
    from app.incidents.config import IncidentSettings
    from app.incidents.worker import run_worker

    caplog.set_level(logging.WARNING, logger="gridgov.worker")
    not_my_parent = os.getpid()  # the test process is not its own parent
    done = threading.Event()
    thread = threading.Thread(
        target=lambda: (
            run_worker(engine, IncidentSettings(), parent_pid=not_my_parent),
            done.set(),
        )
    )
    thread.start()
    thread.join(timeout=10)
    assert done.is_set()
    assert any("supervisor" in r.getMessage() for r in caplog.records)


def test_run_worker_cli_accepts_the_supervisor_arguments():
    from app.cli import build_parser

    args = build_parser().parse_args(["worker", "--parent", "123", "--name", "w2"])
    assert (args.parent, args.name, args.once) == (123, "w2", False)


def test_the_worker_logs_the_audit_chain_head(engine, caplog):
    """Tail truncation leaves no break in the chain; the head in shipped logs reveals it."""
    from sqlalchemy import text
    from sqlalchemy.orm import sessionmaker

    from app.audittrail import record_event_now
    from app.incidents.config import IncidentSettings
    from app.incidents.worker import run_worker

    factory = sessionmaker(engine)
    record_event_now(
        factory, actor="ops", address=None, action="test.head", object="x", outcome="success"
    )
    with factory() as s:
        head_id, head_hash = s.execute(
            text("SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1")
        ).one()
    caplog.set_level(logging.INFO, logger="gridgov.worker")
    before = signal.getsignal(signal.SIGINT)
    run_worker(engine, IncidentSettings(), once=True, name="head-test")
    assert f"audit trail head: id {head_id}, hash {head_hash}" in caplog.text
    assert signal.getsignal(signal.SIGINT) is before  # the caller's Ctrl+C works again
