"""The two read-only connections and what is known about each file.

A file can be missing (tau has not created it yet), broken (corrupt,
unreadable), busy (a writer holds a lock: read again later), replaced on disk
(a new inode: let go of the old one) or migrated (learn its columns again).
This module keeps one long-lived connection per file through all of that and
words each state for the operator; it never writes (``mode=ro`` and
``PRAGMA query_only``). What was read from a file is kept elsewhere and is
told to forget it (``on_forget``) whenever the connection is dropped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import quote

import aiosqlite

from .paths import file_identity
from .ddl import TASKS_DB, TAU_DB
from .errors import StoreError, denied, describe_error, is_busy, schema_moved
from .schema import Schema, discover

#: How long a read waits on a locked database before it gives up quietly (the
#: next change or tick retries). Short, because SQLite cannot interrupt the wait:
#: quitting waits for it.
BUSY_TIMEOUT_MS = 1000

Which = Literal["tasks", "tau"]
T = TypeVar("T")


@dataclass(eq=False)
class DbFile:
    """One file: its connection (None while it cannot be read) and what goes with it."""

    which: Which
    path: Path
    conn: aiosqlite.Connection | None = None
    ident: tuple[int, int] | None = None  # (device, inode) of the file opened
    schema: Schema = field(default_factory=Schema)
    epoch: int = 0  # bumped at each (re)open, see `Connections.data_versions`

    def drop(self) -> None:
        """Forget the connection (the caller has closed it, or it is broken)."""
        self.conn, self.ident, self.schema = None, None, Schema()


def _decode_text(raw: bytes) -> str:
    """TEXT values as str; bytes that are not UTF-8 become U+FFFD, visibly."""
    return raw.decode("utf-8", errors="replace")


def ro_uri(path: Path) -> str:
    """The read-only URI SQLite opens a store file by."""
    return "file:" + quote(str(path.resolve())) + "?mode=ro"


async def data_version(conn: aiosqlite.Connection) -> int:
    """``PRAGMA data_version``: moves when another connection commits. One
    trip to the connection's thread (execute, fetch and close would be three):
    an idle dashboard asks this every couple of seconds, and each trip wakes
    two threads."""
    rows = await conn.execute_fetchall("PRAGMA data_version")
    return int(next(iter(rows))[0])


async def _close_quietly(conn: aiosqlite.Connection) -> None:
    try:
        await conn.close()
    except Exception:  # noqa: BLE001 - closing a broken connection
        pass


#: The first 16 bytes of every SQLite database file.
SQLITE_MAGIC = b"SQLite format 3\x00"


def _intact(path: Path) -> bool:
    """The file still starts as an SQLite database. One written over in place
    (the same inode) keeps its identity, and in WAL mode a reader whose
    wal-index did not move trusts its cache: without this look the old rows
    would be shown as fresh. (A file this user may no longer open: the open
    connection still reads it; False only for bytes that say otherwise.)"""
    try:
        with open(path, "rb") as fh:
            return fh.read(16) == SQLITE_MAGIC
    except OSError:
        return True


class Connections:
    """tasks.db and tau.db, opened read-only, reopened when they come back.

    ``problems``: files that cannot be read at all, worded; ``missing``: those
    of them that are simply not there (yet), so an empty answer is the truth;
    ``busy``: files whose last read met a writer's lock.
    """

    def __init__(self, data_dir: Path, *, on_forget: Callable[[Which], None],
                 on_relearn: Callable[[Which], None]) -> None:
        self.data_dir = data_dir
        self.tasks = DbFile("tasks", data_dir / TASKS_DB)
        self.tau = DbFile("tau", data_dir / TAU_DB)
        self.problems: dict[str, str] = {}
        self.missing: set[str] = set()
        self.busy: dict[str, str] = {}
        #: A task list has been read from tasks.db at least once (set by the reader).
        self.listed = False
        self._on_forget = on_forget  # what was read from that file is void
        self._on_relearn = on_relearn  # that file's schema was learnt again

    def file(self, which: Which) -> DbFile:
        return self.tasks if which == "tasks" else self.tau

    # --- lifecycle -------------------------------------------------------------------

    async def _connect(self, path: Path) -> tuple[aiosqlite.Connection, Schema]:
        conn = await aiosqlite.connect(ro_uri(path), uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        # TEXT that is not valid UTF-8 must not make a whole read fail.
        conn.text_factory = _decode_text
        try:
            await conn.execute("PRAGMA query_only=1")
            await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            schema = await discover(conn)
        except BaseException:
            await conn.close()
            raise
        return conn, schema

    async def ensure_open(self) -> None:
        """(Re)open each file if it is closed or was replaced on disk."""
        for f in (self.tasks, self.tau):
            which, path = f.which, f.path
            ident = file_identity(path)
            if f.conn is not None and ident == f.ident and _intact(path):
                continue
            if f.conn is not None:  # replaced, moved or deleted: let go of the old file
                await _close_quietly(f.conn)
                f.conn = None
                self._on_forget(which)
            f.drop()
            if ident is None:
                refused = denied(path)  # not missing: this user may not look
                self.problem(which, refused or f"{path.name}: not found", missing=refused is None)
                continue
            try:
                conn, schema = await self._connect(path)
            except (sqlite3.Error, OSError, ValueError) as exc:
                if is_busy(exc):  # the file is fine, a writer holds it: try again later
                    self.note_busy(which, exc)
                    self.problems.pop(which, None)
                    self.missing.discard(which)
                else:
                    self.problem(which, describe_error(exc, path))
                continue
            required = "tasks" if which == "tasks" else "sessions"
            if required not in schema.tables:
                await conn.close()
                empty = " (an empty file)" if not schema.tables else ""
                # Absent while tau creates the store; a file that lost its table
                # after data was read from it is broken (keep the last good data).
                self.problem(which, f"{path.name}: no '{required}' table{empty}: not a tau "
                                    f"store, or tau has not created it yet",
                             missing=not (self.listed and which == "tasks"))
                continue
            self.problems.pop(which, None)
            self.missing.discard(which)
            self.busy.pop(which, None)
            f.epoch += 1
            f.conn, f.ident, f.schema = conn, ident, schema

    async def close(self) -> None:
        """Close both connections (an unclosed aiosqlite connection hangs exit)."""
        for f in (self.tasks, self.tau):
            if f.conn is not None:
                await _close_quietly(f.conn)
        self.tasks.conn = self.tau.conn = None

    async def fail(self, which: Which, exc: BaseException) -> None:
        """A read failed: record why and drop the connection so the next read retries."""
        f = self.file(which)
        self.problem(which, describe_error(exc, f.path))
        if f.conn is not None:
            await _close_quietly(f.conn)
        f.drop()
        self._on_forget(which)

    # --- bookkeeping -----------------------------------------------------------------

    def note_busy(self, which: Which, exc: BaseException) -> str:
        """A read met a writer's lock: the file is fine, read again later."""
        self.busy[which] = describe_error(exc, self.file(which).path)
        return self.busy[which]

    def problem(self, which: Which, message: str, *, missing: bool = False) -> None:
        """Note why a file cannot be read: ``missing`` if there is nothing there
        to read (yet), else it is there but broken (corrupt, unreadable)."""
        self.problems[which] = message
        self.busy.pop(which, None)
        if missing:
            self.missing.add(which)
        else:
            self.missing.discard(which)

    def unavailable(self, which: Which) -> StoreError | None:
        """For a file with no connection: the error to raise so that the screen
        keeps its last good data (the file is busy or broken), or None when
        there is nothing there to read and an empty answer is the truth."""
        if which in self.busy:
            return StoreError(self.busy[which])
        if which in self.problems and which not in self.missing:
            return StoreError(f"{self.file(which).path.name} cannot be read (see below): what is "
                              f"shown is from the last good read")
        return None

    # --- reads -----------------------------------------------------------------------

    async def guarded(self, which: Which, read: Callable[[], Awaitable[T]]) -> T:
        """Run one read; on failure note why (worded for the operator) and raise
        StoreError. A lock keeps the connection; anything else drops it so the
        next read reopens the file."""
        try:
            try:
                result = await read()
            except sqlite3.OperationalError as exc:
                if not schema_moved(exc):
                    raise
                # tau migrated the schema under us (a column or table added,
                # renamed or dropped): learn it again and read once more.
                await self._relearn(which)
                result = await read()
        except sqlite3.Error as exc:
            if is_busy(exc):
                # A writer is holding the file: keep the connection, retry next time.
                raise StoreError(self.note_busy(which, exc)) from exc
            await self.fail(which, exc)
            raise StoreError(self.problems[which]) from exc
        self.busy.pop(which, None)
        return result

    async def _relearn(self, which: Which) -> None:
        f = self.file(which)
        if f.conn is None:
            return
        f.schema = await discover(f.conn)
        self._on_relearn(which)

    async def data_versions(self) -> tuple[int | None, int | None]:
        """A version of each file that moves whenever its data may have:
        ``PRAGMA data_version`` (it moves only when another connection commits)
        plus the number of times the file was (re)opened, since a fresh
        connection to a replaced file starts its data_version afresh. An
        unchanged pair means nothing to re-read; None: the file cannot be read."""
        out: list[int | None] = []
        for f in (self.tasks, self.tau):
            if f.conn is None:
                out.append(None)
                continue
            try:
                out.append((f.epoch << 48) + await data_version(f.conn))
            except sqlite3.Error as exc:
                if is_busy(exc):
                    self.note_busy(f.which, exc)
                else:
                    await self.fail(f.which, exc)
                out.append(None)
        return out[0], out[1]

    def report(self) -> tuple[tuple[str, ...], str | None]:
        """What the status line says about the files: (notices, error)."""
        notices: list[str] = []
        if self.tasks.conn is not None and "task_sessions" not in self.tasks.schema.tables:
            notices.append(
                "This tasks.db has no task_sessions table (every tau had one: a damaged "
                "store?), so sessions per task are not recorded."
            )
        sessions = self.tau.schema.tables.get("sessions", set()) if self.tau.conn is not None else None
        if sessions is not None and "last_phase" not in sessions:
            # The first tau.db had five session columns (TAU.md §2.2): tau adds
            # the rest the next time it opens the file.
            notices.append("This tau.db was last opened by an older tau: sessions have no "
                           "tagline, phase or exit status recorded (tau adds them when it next starts).")
        tasks = self.tasks.schema.tables.get("tasks", set()) if self.tasks.conn is not None else set()
        if "project" in tasks and "project_name" not in tasks:
            notices.append("This tasks.db was last opened by an older tau: projects are paths "
                           "(tau renames them when it next starts).")
        tasks_problem = self.problems.get("tasks")
        tau_problem = self.problems.get("tau")
        error = None
        if {"tasks", "tau"} <= self.missing:
            if not self.data_dir.is_dir():
                error = (f"no tau store yet: {self.data_dir} does not exist "
                         f"(waiting for tau to create it)")
            else:
                error = (f"no tau store in {self.data_dir} yet: {self.tasks.path.name} and "
                         f"{self.tau.path.name} not found or empty "
                         f"(waiting for tau to create them)")
        elif tasks_problem:
            both = tau_problem and tau_problem != tasks_problem  # one denied directory: once
            error = f"{tasks_problem}; {tau_problem}" if both else tasks_problem
        elif tau_problem:
            notices.append(f"{tau_problem} (sessions shown as bare rows: no phase, "
                           f"no messages)")
        return tuple(notices), error
