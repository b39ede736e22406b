"""``gridgov run`` keeps its background worker alive: a child process restarted when it exits.

The child runs in its own session (process group), so a Ctrl+C in the terminal reaches only
``gridgov run``, which then stops the child deliberately (SIGTERM, then SIGKILL after a grace
period); the worker in turn stops by itself if its supervisor disappears (``--parent``).
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Sequence

from app.backoff import Backoff

log = logging.getLogger("gridgov.run")


def supervise(
    cmd: Sequence[str],
    stop: threading.Event,
    *,
    name: str = "后台任务",
    min_delay: float = 1.0,
    max_delay: float = 60.0,
    healthy_after: float = 60.0,
    grace: float = 30.0,
) -> int:
    """Run ``cmd`` until ``stop`` is set, restarting it whenever it exits, after a capped
    exponential back-off with jitter (reset once a child has run ``healthy_after`` seconds).
    Each exit is logged with its code. Returns how many restarts there were."""
    backoff = Backoff(base=min_delay, cap=max_delay)
    restarts = 0
    while not stop.is_set():
        started = time.monotonic()
        child = subprocess.Popen(list(cmd), start_new_session=True)
        log.info("%s已启动（进程 %d）", name, child.pid)
        while child.poll() is None:
            if stop.wait(0.2):
                _terminate(child, grace)
                log.info("%s已停止（进程 %d）", name, child.pid)
                return restarts
        ran = time.monotonic() - started
        if ran >= healthy_after:
            backoff.reset()
        delay = backoff.next()
        log.warning(
            "%s（进程 %d）已退出，退出码 %s，运行了 %.1f 秒；%.1f 秒后重启",
            name,
            child.pid,
            child.returncode,
            ran,
            delay,
        )
        if stop.wait(delay):
            break
        restarts += 1
    return restarts


def _terminate(child: subprocess.Popen[bytes], grace: float) -> None:
    child.terminate()
    try:
        child.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
