"""The tasks side of the fleet model: tasks.db kept in memory, read by what changed.

tasks by ``updated_at`` (tau bumps it on every change of a task), task_sessions
by rowid (rows are only ever added), depends_on whole (it is small); from these,
which sessions are "relevant" (kept current by the sessions side) and which
task rows must be rebuilt. A change to one task costs that task: the relevant
sessions are kept by task (each relevant task's links counted once), so a task
that starts, finishes or gains a session adds or drops its own sessions only.
"""

from __future__ import annotations

import bisect

import aiosqlite

from ..model.snapshots import DEPENDENCY_MET_STATES, IN_FLIGHT_STATES, TERMINAL_STATES
from .db import DbFile, data_version
from .decode import as_int, as_str
from .fleet_links import LinkTable
from .records import DirtyMarks, Link
from .schema import Schema

#: Finished tasks (newest first) whose sessions are kept current for the list.
RELEVANT_FINISHED = 60
#: A first count of more relevant tasks than this counts the Active group's
#: (and the newest finished) first, the rest after the first screen; unless
#: the Active group holds fewer than FIRST_PAGE (the next groups show too).
DEFER_ABOVE = 300
FIRST_PAGE = 60
#: Deferred tasks made relevant per step (about 450 sessions: ~8 ms to read).
DEFER_STEP = 50
#: Finished tasks (newest first) whose links a first read of a large store
#: takes before the first screen (the Finished group's first pages).
FIRST_FINISHED = 200


def _task_select(schema: Schema) -> str:
    """The list columns of `TaskTables.rows`, in their order, from tasks."""
    t = lambda c: schema.col("tasks", c)  # noqa: E731
    return (f"SELECT id, {schema.project_col()}, {t('title')}, {t('state')}, {t('priority')}, "
            f"{t('parent_id')}, {t('held')}, {t('created_at')}, {t('updated_at')}, "
            f"{t('session_id')} FROM tasks")


class TaskTables:
    """tasks, task_sessions and depends_on as last read, and what follows from them.

    ``rows``: task id to its list columns (id, project, title, state, priority,
    parent_id, held, created_at, updated_at, session_id), in table order. ``links``: task id
    to its sessions by created_at. ``relevant``: the session ids kept current.
    """

    def __init__(self, marks: DirtyMarks) -> None:
        self.marks = marks
        self.reset()

    def reset(self) -> None:
        """Forget everything read from tasks.db (it was replaced, or reopened)."""
        self.dv: int | None = None
        self.rows: dict[int, tuple] = {}
        self.max_updated = 0
        self._lt = LinkTable()
        self.deps: dict[int, list[int]] = {}
        self._dependents: dict[int, list[int]] = {}  # depends_on target → the tasks waiting on it
        self.relevant: set[str] = set()
        #: Moves whenever a session joins ``relevant`` (the sessions side then
        #: looks for relevant sessions it has not read; otherwise it need not).
        self.relevant_gen = getattr(self, "relevant_gen", 0) + 1
        #: What `relevant` is made of: each relevant task's session ids as
        #: counted, how many relevant tasks hold each session, the finished
        #: tasks by (updated_at, id) and the newest RELEVANT_FINISHED of them.
        self._counted: dict[int, tuple[str, ...]] = {}
        self._holders: dict[str, int] = {}
        self._finished: list[tuple[int, int]] = []
        self._recent: set[int] = set()
        self._recount = True
        self._deferred: list[int] = []  # relevant tasks whose sessions come later
        #: Only the first screen's part of a large store on the first read (the
        #: rest later: `fill_links`, `count_deferred`). Off unless the reader
        #: finishes the rest (the app does, in the background): a script or
        #: a feed that reads once must get everything.
        self.first_screen_first = getattr(self, "first_screen_first", False)
        #: Only some tasks were read (`read_some`): the next refresh starts afresh.
        self.partial = False

    @property
    def links(self) -> dict[int, list[Link]]:
        """Task id → its sessions by created_at (see `LinkTable`)."""
        return self._lt.links

    @property
    def session_tasks(self) -> dict[str, tuple[int, ...]]:
        """Session id → the tasks holding it."""
        return self._lt.session_tasks

    def mark_session(self, session_id: str) -> None:
        """A session changed: the rows of its tasks must be rebuilt."""
        held = self._lt.session_tasks.get(session_id)
        if held is not None:
            self.marks.mark_many(held)

    def blocked_by(self, task_id: int) -> tuple[int, ...]:
        """The depends_on targets that block the task: any state but merged or
        closed (done and failed still block, TAU.md §4.5); a target missing
        from the store does not block."""
        if task_id not in self.deps:
            return ()
        rows = self.rows
        return tuple(sorted(
            d for d in self.deps[task_id]
            if d in rows and as_str(rows[d][3]) not in DEPENDENCY_MET_STATES
        ))

    async def refresh(self, f: DbFile) -> None:
        """Bring tasks, task_sessions and depends_on up to date with tasks.db."""
        conn, schema, mark = f.conn, f.schema, self.marks.mark
        assert conn is not None
        if self.partial:
            self.reset()
            self.marks.mark_all()
        dv = await data_version(conn)
        if dv == self.dv:
            return
        base = _task_select(schema)
        # (Each query is one trip to the connection's thread: execute, fetch
        # and close would be three, and under load a trip costs ~0.3 ms.)
        count = (await conn.execute_fetchall("SELECT COUNT(*) FROM tasks"))[0][0]  # type: ignore[index]
        #: Tasks whose state changed, came or went: those that depend on them
        #: are blocked or not anew.
        moved: set[int] = set()
        seen_change = False
        #: Task id → its row before this read (None: new), for the relevant sessions.
        before: dict[int, tuple | None] = {}
        replaced = False  # ``rows`` is a new dict (tasks came, went or moved)
        full = not self.rows or not schema.has("tasks", "updated_at")
        if not full:
            # tau bumps updated_at on every change of a task.
            rows = list(await conn.execute_fetchall(base + " WHERE updated_at >= ?", (self.max_updated,)))
            for r in rows:
                tid = as_int(r[0])
                old = self.rows.get(tid)
                if old != r:
                    seen_change = True
                    if old is None or old[3] != r[3]:
                        moved.add(tid)
                    before.setdefault(tid, old)
                    self.rows[tid] = r
                    mark(tid)
                self.max_updated = max(self.max_updated, as_int(r[8]))
            full = len(self.rows) != count  # a task deleted, or rows without a key
        gone = False  # tasks went: their links went with them (ON DELETE CASCADE)
        if full:
            had = set(self.rows)
            replaced = await self._read_all(conn, base, before, moved)
            gone = not had <= self.rows.keys()
        links_changed, linked = await self._refresh_links(conn, schema, check=gone)
        if not (full or seen_change or links_changed):
            # Something committed that updated_at does not show (a hand edit, a
            # relation, a task message, links deleted by hand): compare the
            # whole table, it is small, and count the links.
            full = True
            replaced = await self._read_all(conn, base, before, moved)
            more, more_linked = await self._refresh_links(conn, schema, check=True)
            links_changed, linked = links_changed or more, linked | more_linked
        deps: dict[int, list[int]] = {}
        if schema.has("task_relations", "from_task", "to_task", "relation"):
            for a, b in await conn.execute_fetchall(
                    "SELECT from_task, to_task FROM task_relations WHERE relation='depends_on'"):
                deps.setdefault(as_int(a), []).append(as_int(b))
        if deps != self.deps:
            for tid in set(deps) | set(self.deps):  # a relation came or went (the table is small)
                mark(tid)
            self.deps = deps
            self._dependents = {}
            for a, targets in deps.items():
                for b in targets:
                    self._dependents.setdefault(b, []).append(a)
        for tid in moved:  # "blocked" hangs on other tasks' states
            self.marks.mark_many(self._dependents.get(tid, ()))
        if replaced or self._recount:
            self._find_relevant()
        elif before or linked:
            self._update_relevant(before, linked)
        self.dv = dv

    async def _read_all(self, conn: aiosqlite.Connection, base: str, before: dict[int, tuple | None],
                        moved: set[int]) -> bool:
        """Read the tasks table whole and mark what differs (``before`` and
        ``moved`` as `refresh` keeps them). True if ``rows`` is a new dict."""
        mark = self.marks.mark
        replaced = False
        rows = list(await conn.execute_fetchall(base))
        fresh: dict[int, tuple] = {}
        for r in rows:
            fresh.setdefault(as_int(r[0]), r)  # a table without its key: each id once
        if fresh != self.rows:
            moved.update(tid for tid, r in fresh.items()
                         if as_str(r[3]) != as_str(self.rows.get(tid, (None,) * 4)[3]))
            for tid in set(fresh) ^ set(self.rows):
                mark(tid)
                moved.add(tid)
            for tid, r in fresh.items():
                old = self.rows.get(tid)
                if old != r:
                    mark(tid)
                    before.setdefault(tid, old)
            if fresh.keys() == self.rows.keys() and list(fresh) == list(self.rows):
                self.rows.update(fresh)  # the same tasks in the same order: in place
            else:
                self.rows = fresh  # (the fleet model then builds its list afresh)
                replaced = True
        self.max_updated = max((as_int(r[8]) for r in rows), default=0)
        return replaced

    async def _refresh_links(self, conn: aiosqlite.Connection, schema: Schema, *,
                             check: bool) -> tuple[bool, set[int]]:
        """task_sessions as it is now (see `LinkTable.refresh`; ``check``:
        rows may have gone). Returns whether anything changed, and the tasks
        that gained links (after a read afresh the caller counts the relevant
        sessions afresh)."""
        lt = self._lt
        if not schema.has("task_sessions", "task_id", "session_id"):
            if lt.links:
                lt.reset()
                self.marks.mark_all()
                self._recount = True
                return True, set()
            return False, set()
        changed, touched, fresh = await lt.refresh(conn, schema, self._first_links, check=check)
        if fresh:
            self.marks.mark_all()
            self._recount = True  # counted afresh by the caller
        else:
            self.marks.mark_many(touched)
        return changed, touched

    def _first_links(self) -> tuple[list[int], list[int]]:
        """The tasks whose links a first read of a large store takes before
        the first screen: every relevant one, and the newest finished ones
        the Finished group shows (its first pages); then the rest, newest first."""
        if not self.first_screen_first:
            return [], []  # everything now
        finished: list[tuple[int, int]] = []
        first: list[int] = []
        for tid, r in self.rows.items():
            if as_str(r[3]) in TERMINAL_STATES:
                finished.append((as_int(r[8]), tid))
            else:
                first.append(tid)
        finished.sort(reverse=True)
        shown = max(RELEVANT_FINISHED, FIRST_FINISHED)
        return first + [tid for _, tid in finished[:shown]], [tid for _, tid in finished[shown:]]

    def links_pending(self) -> bool:
        """Some tasks' links are still to be read (`fill_links`)."""
        return bool(self._lt.pending)

    async def fill_links(self, f: DbFile) -> None:
        """Read the links of the next pending tasks: their rows are built again."""
        conn = f.conn
        assert conn is not None
        touched = await self._lt.fill(conn, f.schema)
        if touched:
            self.marks.mark_many(touched)
            self._update_relevant({}, touched)

    async def read_some(self, f: DbFile, ids: set[int]) -> None:
        """Only these tasks, their links and their depends_on edges, by key: what
        a one-shot look at a few tasks needs (``sessiontop list 42``), at the cost
        of those rows, not of a large store's 90,000 links."""
        conn, schema = f.conn, f.schema
        assert conn is not None
        self.reset()
        self.partial = True
        self.marks.mark_all()
        part = sorted(ids)
        marks = ",".join("?" * len(part))
        if not part:
            return
        async with conn.execute(f"{_task_select(schema)} WHERE id IN ({marks})", part) as cur:
            for r in await cur.fetchall():
                self.rows.setdefault(as_int(r[0]), r)
        self.rows = {tid: self.rows[tid] for tid in sorted(self.rows)}  # table order
        if schema.has("task_sessions", "task_id", "session_id"):
            ts = lambda c: schema.col("task_sessions", c)  # noqa: E731
            self._lt.add(await conn.execute_fetchall(
                f"SELECT 0, task_id, session_id, {ts('role')}, {ts('created_at')} FROM task_sessions "
                f"WHERE task_id IN ({marks})", part))
        if schema.has("task_relations", "from_task", "to_task", "relation"):
            async with conn.execute(
                "SELECT from_task, to_task FROM task_relations WHERE relation='depends_on' "
                f"AND from_task IN ({marks})", part) as cur:
                for a, b in await cur.fetchall():
                    self.deps.setdefault(as_int(a), []).append(as_int(b))
        self.relevant = {sid for links in self.links.values() for sid, _, _ in links}
        self.relevant_gen += 1

    # --- the relevant sessions -------------------------------------------------------

    def _find_relevant(self) -> None:
        """The sessions kept current: of unfinished tasks and recent finished
        ones. Counted afresh (the first read, a full read); later changes go
        through `_update_relevant`. ``relevant`` stays the same set object.

        On a large store the first screen needs only some of them: the
        Active group's (its order hangs on every one of its sessions' last
        message) and the newest finished; the queued, held and other
        unfinished tasks' sessions are deferred (`count_deferred`, after the
        first screen: their groups sit below it)."""
        finished: list[tuple[int, int]] = []
        now: list[int] = []
        later: list[int] = []
        for tid, r in self.rows.items():
            state = as_str(r[3])
            if state in TERMINAL_STATES:
                finished.append((as_int(r[8]), tid))
            elif state in IN_FLIGHT_STATES:
                now.append(tid)
            else:
                later.append(tid)
        finished.sort()
        self._finished = finished
        self._recent = {tid for _, tid in finished[-RELEVANT_FINISHED:]} if finished else set()
        now.extend(self._recent)
        if (not self.first_screen_first or len(now) + len(later) <= DEFER_ABOVE
                or len(now) < FIRST_PAGE):
            now, later = now + later, []
        self._counted, self._holders = {}, {}
        self._recount = False
        self.relevant.clear()
        self.relevant_gen += 1
        for tid in now:
            self._count(tid)
        self._deferred = later

    def relevant_pending(self) -> bool:
        """Some relevant tasks' sessions are still deferred (`count_deferred`)."""
        return bool(self._deferred)

    def count_deferred(self, n: int = DEFER_STEP) -> set[str]:
        """Make the next ``n`` deferred tasks' sessions relevant; those that
        became relevant (for the caller to read)."""
        part, self._deferred = self._deferred[:n], self._deferred[n:]
        before = set(self.relevant)
        rows = self.rows
        for tid in part:
            r = rows.get(tid)
            if tid not in self._counted and r is not None and (
                    as_str(r[3]) not in TERMINAL_STATES or tid in self._recent):
                self._count(tid)
                self.marks.mark(tid)
        return self.relevant - before

    def _count(self, tid: int) -> None:
        """Count a relevant task's sessions (those it has now)."""
        self._lt.index(tid)
        sids = tuple(sid for sid, _, _ in self.links.get(tid, ()))
        self._counted[tid] = sids
        holders, relevant = self._holders, self.relevant
        for sid in sids:
            n = holders.get(sid, 0)
            holders[sid] = n + 1
            if not n:
                relevant.add(sid)
                self.relevant_gen += 1

    def _uncount(self, tid: int) -> None:
        holders, relevant = self._holders, self.relevant
        for sid in self._counted.pop(tid, ()):
            n = holders[sid] - 1
            if n:
                holders[sid] = n
            else:
                del holders[sid]
                relevant.discard(sid)

    def _update_relevant(self, before: dict[int, tuple | None], linked: set[int]) -> None:
        """The relevant sessions after these tasks changed (``before``: their
        rows before) or gained links: the cost of those tasks, plus the window
        of recent finished ones when it moved."""
        finished = self._finished
        for tid, old in before.items():
            if old is not None and as_str(old[3]) in TERMINAL_STATES:
                key = (as_int(old[8]), tid)
                i = bisect.bisect_left(finished, key)
                if i < len(finished) and finished[i] == key:
                    del finished[i]
            new = self.rows.get(tid)
            if new is not None and as_str(new[3]) in TERMINAL_STATES:
                bisect.insort(finished, (as_int(new[8]), tid))
        recent = {tid for _, tid in finished[-RELEVANT_FINISHED:]} if finished else set()
        todo = set(before) | linked | (recent ^ self._recent)
        self._recent = recent
        rows = self.rows
        for tid in todo:
            r = rows.get(tid)
            wanted = r is not None and (as_str(r[3]) not in TERMINAL_STATES or tid in recent)
            if tid in self._counted:
                if wanted and tid not in linked and tid not in before:
                    continue  # still relevant, the same links
                self._uncount(tid)
            if wanted:
                self._count(tid)
