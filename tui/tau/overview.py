"""Why a queued task waits, in tau's own words: its ``task_overview`` (TAU.md §7.3).

Only tau's scheduler knows all of it: a file conflict with an in-flight task,
the budget of 8 in-flight tasks, "not scheduled". `task_overview` is cheap for
tau (it opens tasks.db afresh and takes no session lock, §7.6), but it is still
tau's time: it is asked per project only when tasks.db moved since the last
answer, at most once a second per project, and only while a screen that shows
it (the task list, a task) is open. On the list, "moved" is per project
(`ProjectVersions`): under a busy fleet only the projects whose tasks changed
are asked again. Each answer replaces the project's reasons; with no server,
there are none (the disk's dependency is shown).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path

from ..model.snapshots import TaskRow

from .client import Line, ServerUnavailable, connect

#: The states tau's scheduler gives wait reasons for (queued, blocked, and
#: active ones with a dependency: TAU.md §7.3).
WAITING_STATES = frozenset({"ready", "planning", "active", "review", "merging", "refining"})
#: At most one ask per project in this many seconds.
MIN_INTERVAL_S = 1.0
#: An answer that takes longer than this is given up (the next change asks again).
ANSWER_TIMEOUT_S = 3.0


def reason_text(reason: object) -> str:
    """One TaskWaitReason (serde external tagging) as the operator reads it,
    the essential first (a list cell shows the first 14 characters)."""
    if reason == "NotScheduled":
        return "not yet scheduled"
    if not isinstance(reason, dict) or len(reason) != 1:
        return str(reason)[:80]
    (kind, body), = reason.items()
    body = body if isinstance(body, dict) else {}
    if kind == "Dependency":
        return f"waits on #{body.get('task_id', '?')} ({body.get('state', '?')})"
    if kind == "FileConflict":
        files = body.get("files") if isinstance(body.get("files"), list) else []
        shown = ", ".join(str(f).rsplit("/", 1)[-1] for f in files[:3]) + (" …" if len(files) > 3 else "")
        return f"files ∩ #{body.get('with_task_id', '?')}: {shown}"
    if kind == "BudgetExhausted":
        return f"budget {body.get('used', '?')}/{body.get('max', '?')} in flight"
    if kind == "MergeTargetNotFound":
        return f"no merge target {body.get('branch', '?')}"
    return str(kind)[:40]


def parse_overview(obj: Mapping[str, object]) -> dict[int, tuple[str, ...]]:
    """task_id → its reasons, from a ``task_overview`` answer."""
    out: dict[int, tuple[str, ...]] = {}
    waits = obj.get("wait_reasons")
    for entry in waits if isinstance(waits, list) else ():
        if not isinstance(entry, dict):
            continue
        tid, reasons = entry.get("task_id"), entry.get("reasons")
        if isinstance(tid, int) and not isinstance(tid, bool) and isinstance(reasons, list):
            out[tid] = tuple(reason_text(r) for r in reasons[:6])
    return out


class WaitReasons:
    """The newest wait reasons tau's scheduler gave, per project.

    The tasks whose reasons changed are kept (`take_changed`), so that only
    their rows are built again, not the list.
    """

    def __init__(self, socket: Callable[[], Path | None], on_change: Callable[[], None], *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._socket = socket
        self._on_change = on_change
        self._clock = clock
        self._by_project: dict[str, dict[int, tuple[str, ...]]] = {}
        self._asked: dict[str, tuple[object, float]] = {}  # project → (version asked at, when)
        self._want: dict[str, object] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.problem: str | None = None
        self._merged: dict[int, tuple[str, ...]] | None = None
        self._changed: set[int] = set()

    def reasons(self) -> dict[int, tuple[str, ...]]:
        """Task id → its reasons (the caller must not change it)."""
        if self._merged is None:
            merged: dict[int, tuple[str, ...]] = {}
            for per in self._by_project.values():
                merged.update(per)
            self._merged = merged
        return self._merged

    def take_changed(self) -> set[int]:
        """The tasks whose reasons changed since the last call."""
        changed, self._changed = self._changed, set()
        return changed

    def _replace(self, project: str, reasons: dict[int, tuple[str, ...]] | None) -> None:
        old = self._by_project.pop(project, None) or {}
        if reasons is not None:
            self._by_project[project] = reasons
        new = reasons or {}
        self._changed.update(tid for tid in old.keys() | new.keys() if old.get(tid) != new.get(tid))
        self._merged = None

    def want(self, versions: Mapping[str, object]) -> None:
        """These projects are on screen, each at a version of what tau's
        scheduler looks at in it: ask those not asked at it, within the rate."""
        projects = versions.keys()
        for p, version in versions.items():
            asked = self._asked.get(p)
            if asked is None or asked[0] != version:
                self._want[p] = version
        for p in list(self._by_project):
            if p not in projects:
                self._replace(p, None)
                self._asked.pop(p, None)
        if self._want:
            if self._task is None or self._task.done():
                self._task = asyncio.create_task(self._run(), name="tau-task-overview")
            self._wake.set()

    def forget(self) -> None:
        """The server went away: its reasons with it."""
        self._asked.clear()
        if self._by_project:
            for p in list(self._by_project):
                self._replace(p, None)
            self._on_change()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while self._want:
            now = self._clock()
            ready = [p for p in self._want if now - self._asked.get(p, (None, -1e9))[1] >= MIN_INTERVAL_S]
            if not ready:
                wait = min(MIN_INTERVAL_S - (now - self._asked[p][1]) for p in self._want)
                self._wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), max(0.01, wait))
                continue
            for project in ready:
                version = self._want.pop(project)
                self._asked[project] = (version, self._clock())
                await self._ask(project)

    async def _ask(self, project: str) -> None:
        path = self._socket()
        if path is None:
            return
        try:
            conn = await connect(path)
        except ServerUnavailable:
            return
        try:
            await conn.send({"type": "task_overview", "project": project, "recent_limit": 0})
            answer = await asyncio.wait_for(self._first_line(conn), ANSWER_TIMEOUT_S)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            answer = None
        finally:
            await conn.close()
        if not isinstance(answer, dict) or answer.get("type") != "task_overview":
            if isinstance(answer, dict) and answer.get("type") == "error":
                self.problem = f"task_overview for {project}: {str(answer.get('message'))[:120]}"
            return
        self.problem = None
        reasons = parse_overview(answer)
        if reasons != self._by_project.get(project):
            self._replace(project, reasons)
            self._on_change()

    @staticmethod
    async def _first_line(conn) -> object:  # type: ignore[no-untyped-def]
        async for item in conn.lines():
            return item.decode() if isinstance(item, Line) else None
        return None


class ProjectVersions:
    """A version per project that moves when tasks.db changed what tau's
    scheduler weighs in it: one of its tasks' state, priority, held or
    ``updated_at`` (tau bumps it on every change of a task, its files
    included), a task coming or going, a dependency. A session's phase moves
    none (the reasons do not hang on it), though it rebuilds the task's row."""

    def __init__(self) -> None:
        self._seen: dict[int, tuple[str, tuple[object, ...]]] = {}  # task → (project, key)
        self._versions: dict[str, int] = {}
        self._deps: object = None

    @staticmethod
    def _key(row: TaskRow) -> tuple[object, ...]:
        return (row.state, row.priority, row.held, row.updated_at, row.blocked_by)

    def update(self, rows: Mapping[int, TaskRow], rebuilt: AbstractSet[int] | None,
               deps: object) -> dict[str, int]:
        """The versions after a read that rebuilt ``rebuilt`` rows (None: all);
        ``deps`` is the depends_on table as read."""
        seen, versions = self._seen, self._versions
        everything = rebuilt is None or deps != self._deps
        self._deps = deps  # (replaced, never changed in place, by the fleet model)
        bumped: set[str] = set()
        for tid in (list(rows) + [t for t in seen if t not in rows]) if everything else rebuilt:
            row = rows.get(tid)
            old = seen.get(tid)
            if row is None:
                if old is not None:
                    bumped.add(old[0])
                    del seen[tid]
                continue
            key = self._key(row)
            if old is None or old[1] != key or old[0] != row.project:
                bumped.add(row.project)
                if old is not None:
                    bumped.add(old[0])
                seen[tid] = (row.project, key)
        if deps is not None and everything:
            bumped.update(versions)  # a dependency may tie projects together: all again
        for project in bumped:
            versions[project] = versions.get(project, 0) + 1
        return versions
