"""The fleet model: the task list kept in memory and rebuilt by what changed.

Composes the tasks side (tasks.db) and the sessions side (tau.db) with the
dirty marks they share, and keeps the last list's rows: a row whose inputs did
not change (and whose liveness source answers alike) is handed out again as
the same object, so the screen skips it with an identity check.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from collections.abc import Set as AbstractSet

from ..model.snapshots import TaskRow
from .db import Connections, Which
from .errors import StoreError
from .fleet_sessions import SessionTable
from .fleet_tasks import TaskTables
from .merge import Liveness, task_row
from .records import DirtyMarks
from .usage import UsageSums


class FleetModel:
    """Every task with what its row needs, kept current from both files."""

    def __init__(self, db: Connections, usage: UsageSums,
                 on_tau_read: Callable[[SessionTable], Awaitable[None]] | None = None) -> None:
        self.db = db
        #: Told after each read of tau.db: the disk says which sessions may be
        #: live, and the server is asked about those.
        self.on_tau_read = on_tau_read
        self.marks = DirtyMarks()
        self.tasks = TaskTables(self.marks)
        self.sessions = SessionTable(self.marks, usage, self.tasks.mark_session)
        self._row_cache: dict[int, TaskRow] = {}
        self._liveness_seen: Liveness | None = None
        #: The rows the last `task_rows` built again (None: all of them).
        self.rebuilt: set[int] | None = None

    def forget(self, which: Which) -> None:
        """Forget what was read from one file (it was replaced, or reopened)."""
        self.marks.mark_all()
        self._row_cache = {}
        self._liveness_seen = None
        if which == "tasks":
            self.tasks.reset()
        else:
            self.sessions.reset()

    def relearned(self, which: Which) -> None:
        """A file's schema was learnt again: re-read tau.db's sessions in full."""
        if which == "tau":
            self.sessions.dv = None

    async def refresh_tasks(self) -> None:
        """Bring the tasks side up to date (raises StoreError, see `Connections.guarded`)."""
        await self.db.guarded("tasks", lambda: self.tasks.refresh(self.db.tasks))

    async def read_some_tasks(self, ids: AbstractSet[int]) -> None:
        """Only these tasks (see `TaskTables.read_some`); the next
        `refresh_tasks` reads tasks.db afresh."""
        self._row_cache = {}
        await self.db.guarded("tasks", lambda: self.tasks.read_some(self.db.tasks, set(ids)))

    async def refresh_tau(self, want: AbstractSet[str] = frozenset()) -> None:
        """Bring the sessions and message counts up to date. If tau.db cannot be
        read the tasks are still shown, with bare session rows (the status says
        why); only a lock, which passes, makes the whole read wait for later."""
        db = self.db
        if db.tau.conn is None:
            if "tau" in db.busy:
                raise StoreError(db.busy["tau"])
            return
        try:
            await db.guarded("tau", lambda: self.sessions.refresh(db.tau, self.tasks.relevant, want))
        except StoreError:
            if "tau" in db.busy:
                raise
        await self.told_tau_read()

    async def told_tau_read(self) -> None:
        """Tell the listener that tau.db's sessions were read (see ``on_tau_read``)."""
        if self.on_tau_read is not None:
            await self.on_tau_read(self.sessions)

    def task_rows(self, liveness: Liveness) -> tuple[TaskRow, ...]:
        """Every task's row in table order, rebuilding only the marked ones."""
        if liveness != self._liveness_seen:
            self.marks.mark_all()
            self._liveness_seen = liveness
        dirty = self.marks.take()
        self.rebuilt = dirty
        cache = self._row_cache
        tables, rows = self.tasks, self.tasks.rows
        sessions, stats = self.sessions.rows, self.sessions.stats
        if dirty is None or len(cache) != len(rows):
            cache = {tid: task_row(tid, r, tables.links.get(tid, ()), sessions, stats,
                                   tables.blocked_by(tid), liveness)
                     for tid, r in rows.items()}
        else:
            for tid in dirty:
                r = rows.get(tid)
                if r is not None:
                    cache[tid] = task_row(tid, r, tables.links.get(tid, ()), sessions, stats,
                                          tables.blocked_by(tid), liveness)
        self._row_cache = cache
        return tuple(cache[tid] for tid in rows)

    def row_map(self) -> dict[int, TaskRow]:
        """Task id → its row as last built (the same objects `task_rows` gave)."""
        return self._row_cache
