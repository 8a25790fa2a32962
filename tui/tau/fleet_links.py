"""tasks.db's ``task_sessions`` kept in memory: which sessions each task has.

Rows are only ever added (tau's "insert or ignore"), so after the first read
only rowids past the last one are read. They go away only with their task
(``ON DELETE CASCADE``, TAU.md §4.1): the rows are counted (a scan of the
whole table, ~4 ms on a large store) only when the caller says a task went
or a commit showed nothing else, and a count that disagrees means the table
is read again whole. On a large store (90,000 rows) the
first read takes only the tasks the list needs now (``first``: the unfinished
ones and the newest finished) and leaves the rest pending, read a chunk at a
time after the first screen is painted (`fill`): the first screen waits for
the links it shows, not for a year of finished work.

A session id maps to the tasks holding it as a tuple (nearly always one task):
a set per session was 23 MB on such a store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence

import aiosqlite

from .decode import as_int, as_str
from .records import Link
from .schema import Schema

#: A first read of more links than this reads the tasks it needs first.
FIRST_READ_ALL = 20_000
#: Tasks whose pending links one `fill` step reads (about 6 ms on a large store: a
#: change that lands meanwhile waits for one step at most).
FILL_TASKS = 300
#: Ids per "IN (...)" query (SQLite allows 999 parameters in old builds).
CHUNK = 500


class LinkTable:
    """``links``: task id → its (session id, role, created_at) by created_at;
    ``session_tasks``: session id → the tasks holding it."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.links: dict[int, list[Link]] = {}
        self.session_tasks: dict[str, tuple[int, ...]] = {}
        self.rowid = 0  # the highest rowid read
        self.total = 0  # rows read (or pending) in all
        #: Tasks whose rows up to rowid ``cut`` are still to be read (`fill`).
        self.pending: list[int] = []
        self.cut = 0
        self._roles: dict[str, str] = {}
        self.unindexed: set[int] = set()  # tasks whose links are not in session_tasks

    def add(self, rows: Iterable[Sequence[object]], *, index: bool = True) -> set[int]:
        """Keep these (rowid, task_id, session_id, role, created_at) rows; the
        tasks they belong to. ``index=False``: not in ``session_tasks`` (the
        long-finished tasks `fill` reads: their sessions are never read, so
        nothing looks them up; 11 MB on a large store) until `index`."""
        links, roles, top = self.links, self._roles, self.rowid
        session_tasks = self.session_tasks if index else {}
        touched: set[int] = set()
        for rowid, task_id, sid, role, created in rows:
            # tau's rows are well typed; convert only what is not (a large
            # store has 90,000 of them: this loop is most of a first read).
            tid = task_id if type(task_id) is int else as_int(task_id)
            sid = sid if type(sid) is str else as_str(sid)
            role = role if type(role) is str else as_str(role, "worker")
            role = roles.setdefault(role, role)  # a handful of values, one string each
            links.setdefault(tid, []).append(
                (sid, role, created if type(created) is int else as_int(created)))
            held = session_tasks.get(sid)
            if held is None:
                session_tasks[sid] = (tid,)
            elif tid not in held:
                session_tasks[sid] = held + (tid,)
            if type(rowid) is int and rowid > top:
                top = rowid
            touched.add(tid)
        self.rowid = top
        for tid in touched:
            links[tid].sort(key=lambda link: link[2])  # by created_at, then rowid (stable)
        if not index:
            self.unindexed |= touched
        return touched

    def index(self, tid: int) -> None:
        """Put a task's links in ``session_tasks`` (it became relevant)."""
        if tid in self.unindexed:
            self.unindexed.discard(tid)
            session_tasks = self.session_tasks
            for sid, _, _ in self.links.get(tid, ()):
                held = session_tasks.get(sid)
                if held is None:
                    session_tasks[sid] = (tid,)
                elif tid not in held:
                    session_tasks[sid] = held + (tid,)

    async def refresh(self, conn: aiosqlite.Connection, schema: Schema,
                      plan: Callable[[], tuple[list[int], list[int]]], *,
                      check: bool = True) -> tuple[bool, set[int], bool]:
        """New rows since the last read. Returns whether anything changed, the
        tasks that gained links, and whether it was read afresh (the caller
        then marks every row). ``plan``, asked only when a large table is read
        afresh: the tasks to read now, and the rest (pending, in that order).
        ``check=False``: no row can have gone (no task went), so the rows are
        not counted; only those past the last rowid are read."""
        ts = lambda c: schema.col("task_sessions", c)  # noqa: E731
        cols = f"task_id, session_id, {ts('role')}, {ts('created_at')}"
        rows: list = []
        full = not self.total
        count = top = 0
        if full or check:
            # One statement: the count and the top rowid from the same snapshot
            # (the new rows are read up to that rowid: a commit in between
            # does not make the count disagree).
            count, top = (await conn.execute_fetchall(  # type: ignore[misc]
                "SELECT COUNT(*), IFNULL(MAX(rowid), 0) FROM task_sessions"))[0]
        if not full:
            try:
                rows = list(await conn.execute_fetchall(
                    f"SELECT rowid, {cols} FROM task_sessions WHERE rowid > ?"
                    + (" AND rowid <= ?" if check else "") + " ORDER BY rowid",
                    (self.rowid, top) if check else (self.rowid,)))
            except sqlite3.OperationalError:  # a table without rowid: read it whole
                full = True
            full = full or (check and self.total + len(rows) != count)
        if not full:
            self.total += len(rows)
            return bool(rows), self.add(rows), False
        if not check and not count:  # (a table without rowid, found just now)
            count, top = (await conn.execute_fetchall(  # type: ignore[misc]
                "SELECT COUNT(*), IFNULL(MAX(rowid), 0) FROM task_sessions"))[0]
        self.reset()
        first, rest = plan() if count > FIRST_READ_ALL else ([], [])
        if first:
            # The tasks on the first screen now, the rest after it (`fill`).
            for i in range(0, len(first), CHUNK):
                part = first[i:i + CHUNK]
                self.add(await conn.execute_fetchall(
                    f"SELECT rowid, {cols} FROM task_sessions WHERE task_id IN "
                    f"({','.join('?' * len(part))}) AND rowid <= ?", (*part, top)))
            self.cut, self.rowid, self.total = top, top, count
            self.pending = list(rest)
            return True, set(self.links), True
        try:
            rows = list(await conn.execute_fetchall(
                f"SELECT rowid, {cols} FROM task_sessions WHERE rowid <= ? ORDER BY rowid", (top,)))
        except sqlite3.OperationalError:
            rows = list(await conn.execute_fetchall(f"SELECT 0, {cols} FROM task_sessions"))
        self.total = count
        return True, self.add(rows), True

    async def fill(self, conn: aiosqlite.Connection, schema: Schema) -> set[int]:
        """Read the links of the next pending tasks; the tasks read."""
        part, self.pending = self.pending[:FILL_TASKS], self.pending[FILL_TASKS:]
        if not part:
            return set()
        ts = lambda c: schema.col("task_sessions", c)  # noqa: E731
        cols = f"task_id, session_id, {ts('role')}, {ts('created_at')}"
        rowid = self.rowid
        touched: set[int] = set()
        for i in range(0, len(part), CHUNK):
            ids = part[i:i + CHUNK]
            touched |= self.add(await conn.execute_fetchall(
                f"SELECT rowid, {cols} FROM task_sessions WHERE task_id IN "
                f"({','.join('?' * len(ids))}) AND rowid <= ?", (*ids, self.cut)), index=False)
        self.rowid = max(rowid, self.rowid)
        return touched
