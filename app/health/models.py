"""Worker heartbeats: each background worker upserts its row once per loop, so the web process
(``/healthz``) can tell a live worker from a dead or stuck one."""

from __future__ import annotations

import datetime as dt
import os
import socket

from sqlalchemy import DateTime, Integer, String, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.base import Base


class WorkerHeartbeat(Base):
    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    beat_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


def beat(session: Session, name: str, started_at: dt.datetime) -> None:
    """Record that worker ``name`` (this process) is alive now."""
    session.execute(
        text(
            "INSERT INTO worker_heartbeats (name, pid, host, started_at, beat_at) "
            "VALUES (:name, :pid, :host, :started, now()) "
            "ON CONFLICT (name) DO UPDATE SET pid = EXCLUDED.pid, host = EXCLUDED.host, "
            "started_at = EXCLUDED.started_at, beat_at = EXCLUDED.beat_at"
        ),
        {
            "name": name,
            "pid": os.getpid(),
            "host": socket.gethostname()[:255],
            "started": started_at,
        },
    )


__all__ = ["WorkerHeartbeat", "beat"]
