"""Task admission (网格事务准入, docs/party.md#task-admission): the kinds of work a county lets
departments give to grid workers, and the tasks given.

- ``task_kinds``: the county's admission list (准入清单); a kind taken off the list stays (old tasks
  keep their kind) with ``active`` false, and no new task of it is accepted.
- ``grid_tasks``: a task a department (a unit) or the county office gave a grid worker in a grid.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.base import Base

TASK_STATES = ("open", "done")
TASK_STATE_LABELS = {"open": "待办", "done": "已完成"}


class TaskKind(Base):
    __tablename__ = "task_kinds"
    __table_args__ = (
        CheckConstraint("county_code ~ '^[0-9]{6}$'", name="county_code"),
        UniqueConstraint("county_code", "name", name="uq_task_kinds_county_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    county_code: Mapped[str] = mapped_column(String(6))
    name: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text, server_default="")
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class GridTask(Base):
    __tablename__ = "grid_tasks"
    __table_args__ = (
        CheckConstraint("state IN ('open', 'done')", name="state"),
        CheckConstraint("grid_code ~ '^[0-9]{15}$'", name="grid_code"),
        Index("ix_grid_tasks_grid_code", "grid_code"),
        Index("ix_grid_tasks_assignee", "assignee", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind_id: Mapped[int] = mapped_column(ForeignKey("task_kinds.id"), index=True)
    grid_code: Mapped[str] = mapped_column(String(15))
    assignee: Mapped[str] = mapped_column(String(64))
    # The department that gave the task (NULL: the county or township office itself).
    unit_code: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("units.code", onupdate="CASCADE")
    )
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, server_default="")
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(8), server_default="open")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
