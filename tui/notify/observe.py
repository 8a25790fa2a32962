"""A plain picture of the fleet for the engine and the scripts.

Taken from the store's fleet model right after a task-list read (the same
read, the same tracker and the same `tui.tau.merge.session_info` the screens
use), so a notification, a ``watch`` line and a row on screen never disagree.
Pure values: the engine compares two pictures.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from ..model import TaskSessionInfo
from ..store import Store
from ..tau.merge import ServerLiveness, session_info


@dataclass(frozen=True, slots=True)
class SessionState:
    task_id: int
    info: TaskSessionInfo
    #: s: the newest sign of life: a message, a phase change, a streamed event.
    last_event: float | None
    project: str = ""


@dataclass(frozen=True, slots=True)
class TaskState:
    id: int
    title: str
    state: str
    project: str
    priority: int
    updated_at: int  # ms


@dataclass(frozen=True, slots=True)
class FleetState:
    taken_at: float  # s
    server_up: bool
    server_detail: str
    tasks: dict[int, TaskState]
    #: (task id, session id) → its state; a session on two tasks appears twice.
    sessions: dict[tuple[int, str], SessionState]


def liveness(store: Store) -> ServerLiveness:
    live = store.live
    return ServerLiveness(up=live.up, epoch=live.epoch, tracker=live)


async def observe(store: Store, task_ids: Iterable[int] | None = None, *,
                  every_session: bool = False) -> FleetState:
    """Read the task list, then picture it. ``task_ids``: only these tasks.
    ``every_session``: also read the sessions of long-finished tasks (the
    fleet model keeps only the unfinished and recent ones current)."""
    await store.read_task_list()
    fleet = store._fleet  # noqa: SLF001 - the facade's own model, read after its read
    wanted = None if task_ids is None else set(task_ids)
    tables = fleet.tasks
    tids = [t for t in tables.rows if wanted is None or t in wanted]
    if every_session or wanted is not None:
        missing = frozenset(sid for t in tids for sid, _, _ in tables.links.get(t, ())
                            if sid not in fleet.sessions.rows)
        if missing:
            async with store._lock:  # noqa: SLF001
                await fleet.refresh_tau(missing)
    lv = liveness(store)
    rows, stats = fleet.sessions.rows, fleet.sessions.stats
    tasks: dict[int, TaskState] = {}
    sessions: dict[tuple[int, str], SessionState] = {}
    for tid in tids:
        r = tables.rows[tid]
        tasks[tid] = TaskState(id=tid, title=str(r[2] or ""), state=str(r[3] or "?"),
                               project=str(r[1] or ""), priority=int(r[4] or 0),
                               updated_at=int(r[8] or 0))
        for sid, role, created in tables.links.get(tid, ()):
            info = session_info(sid, role, created, rows.get(sid), stats.get(sid), lv)
            last = float(info.last_activity) if info.last_activity is not None else None
            detail = lv.detail(sid) if info.is_live else None
            if detail is not None:
                for ms in (detail.phase_started_ms, detail.last_event_ms, detail.turn_started_ms):
                    if ms:
                        last = max(last or 0.0, ms / 1000)
            sessions[(tid, sid)] = SessionState(task_id=tid, info=info, last_event=last,
                                                project=tasks[tid].project)
    view = store.live.view()
    return FleetState(taken_at=time.time(), server_up=view.up, server_detail=view.detail,
                      tasks=tasks, sessions=sessions)
