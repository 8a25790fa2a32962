"""The fleet model: the task list kept in memory and rebuilt by what changed.

Composes the tasks side (tasks.db) and the sessions side (tau.db) with the
dirty marks they share, and keeps the last list's rows: a row whose inputs did
not change (and whose liveness source answers alike) is handed out again as
the same object, so the screen skips it with an identity check. What a read
rebuilt is said too (`delta`), so the screen's work follows the change, not
the store's size; so do the projects with tasks tau's scheduler may hold back
(`waiting`, for its wait reasons).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import replace
from itertools import islice

from ..model.snapshots import TaskDelta, TaskRow
from .db import Connections, Which
from .errors import StoreError
from .fleet_sessions import SessionTable
from .fleet_tasks import TaskTables
from .merge import Liveness, task_row
from .overview import WAITING_STATES
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
        #: Task id → its row as last built, in table order (the order of ``tasks.rows``).
        self._row_cache: dict[int, TaskRow] = {}
        self._order_of: object = None  # the ``tasks.rows`` object the cache's order follows
        self._liveness_seen: Liveness | None = None
        #: The rows the last `task_rows` built again (None: all of them).
        self.rebuilt: set[int] | None = None
        #: What the last `task_rows` changed (None: everything may have).
        self.delta: TaskDelta | None = None
        #: Project → its tasks in a state tau's scheduler gives wait reasons for.
        self.waiting: Counter[str] = Counter()

    def forget(self, which: Which) -> None:
        """Forget what was read from one file (it was replaced, or reopened)."""
        self.marks.mark_all()
        self._row_cache, self._order_of = {}, None
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
        self._row_cache, self._order_of = {}, None
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
            await db.guarded("tau", lambda: self.sessions.refresh(db.tau, self.tasks.relevant, want,
                                                                  relevant_gen=self.tasks.relevant_gen))
        except StoreError:
            if "tau" in db.busy:
                raise
        await self.told_tau_read()

    async def told_tau_read(self) -> None:
        """Tell the listener that tau.db's sessions were read (see ``on_tau_read``)."""
        if self.on_tau_read is not None:
            await self.on_tau_read(self.sessions)

    def task_rows(self, liveness: Liveness,
                  waits: Mapping[int, tuple[str, ...]] | None = None) -> tuple[TaskRow, ...]:
        """Every task's row in table order, rebuilding only the marked ones;
        ``waits``: tau's wait reasons by task (a task whose reasons changed
        must be marked)."""
        if liveness != self._liveness_seen:
            self.marks.mark_all()
            self._liveness_seen = liveness
        dirty = self.marks.take()
        self.rebuilt = dirty
        waits = waits or {}
        cache = self._row_cache
        tables, rows = self.tasks, self.tasks.rows
        sessions, stats = self.sessions.rows, self.sessions.stats

        def build(tid: int, r: tuple) -> TaskRow:
            row = task_row(tid, r, tables.links.get(tid, ()), sessions, stats,
                           tables.blocked_by(tid), liveness)
            why = waits.get(tid)
            return replace(row, waits=why) if why else row

        if dirty is None or self._order_of is not rows:
            cache = {tid: build(tid, r) for tid, r in rows.items()}
            self._order_of = rows
            self.waiting = Counter(t.project for t in cache.values() if t.state in WAITING_STATES)
            self.delta = None
        else:
            waiting, built, removed, added = self.waiting, [], set(), []
            for tid in dirty:
                r = rows.get(tid)
                old = cache.get(tid)
                if old is not None and old.state in WAITING_STATES:
                    waiting[old.project] -= 1
                if r is None:  # gone (the tasks side read it whole)
                    if old is not None:
                        del cache[tid]
                        removed.add(tid)
                    continue
                if old is None:
                    added.append(tid)
                    continue
                new = cache[tid] = build(tid, r)
                built.append(new)
                if new.state in WAITING_STATES:
                    waiting[new.project] += 1
            if added:
                # New tasks are the last rows of the table: added in its order.
                tail = list(islice(reversed(rows), len(added)))[::-1]
                if set(tail) != set(added):
                    self._order_of = None  # not at the end after all: the whole order again
                    return self.task_rows(liveness, waits)
                for tid in tail:
                    new = cache[tid] = build(tid, rows[tid])
                    built.append(new)
                    if new.state in WAITING_STATES:
                        waiting[new.project] += 1
            self.delta = TaskDelta(rows=tuple(built), removed=frozenset(removed))
        self._row_cache = cache
        return tuple(cache.values())

    def row_map(self) -> dict[int, TaskRow]:
        """Task id → its row as last built (the same objects `task_rows` gave)."""
        return self._row_cache
