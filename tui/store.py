"""Reading tau's store: two SQLite files, read-only, through aiosqlite.

One `Store` holds one long-lived read-only connection per file and turns rows
into the immutable snapshots of `tui.model`. It never writes: connections are
opened with ``mode=ro`` and ``PRAGMA query_only``, and no statement here changes
a file. Reads are incremental where the store allows it (messages by id, the
per-session counts kept in memory), so a change costs what changed, not what
the store holds.

Schema variants are found with ``PRAGMA table_info`` at open: a column a later
migration added may be missing (read as NULL), and an older tasks.db has
``project`` for ``project_name`` and no ``task_sessions`` (said in a notice).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import aiosqlite

from .liveness import server_pid
from .paths import file_identity
from .model import (
    TERMINAL_STATES,
    HistoryEntry,
    LiveSource,
    Message,
    Relation,
    SessionHeader,
    SessionPane,
    StoreStatus,
    TaskDetail,
    TaskListSnapshot,
    TaskRow,
    TaskSessionInfo,
    ToolCall,
    Transcript,
    phase_rank,
)
from .tauschema import TASKS_DB, TAU_DB

#: Text longer than this in one message is cut for display (10 MB messages exist).
MESSAGE_TEXT_LIMIT = 200_000
#: Task columns worth a word on the task screen when set (others are noise).
EXTRA_TASK_FIELDS = ("session_id", "filed_by_session_id", "merge_target", "no_merge", "skip_review",
                     "require_approval", "dispatch_failure_count", "sandbox_profile")
#: Finished tasks (newest first) whose sessions are kept current for the list.
RELEVANT_FINISHED = 60
#: How often the kept sessions are re-read whole, in case one changed unseen.
SWEEP_SECONDS = 10.0
#: The most sessions a sweep re-reads in one read while changes keep coming (a few ms).
SWEEP_SLICE = 1000
#: Usage-bearing messages summed per step (about 5 ms); the rest of a long
#: session is counted in the background (`Store.count_usage`).
USAGE_CHUNK = 500
#: Time one task read may spend summing usage before it leaves the rest pending.
USAGE_BUDGET_S = 0.05
#: Ids per "IN (...)" query (SQLite allows 999 parameters in old builds).
CHUNK = 500
#: How long a read waits on a locked database before it gives up quietly (the
#: next change or tick retries). Short, because SQLite cannot interrupt the wait:
#: quitting waits for it.
BUSY_TIMEOUT_MS = 1000


class StoreError(Exception):
    """A problem with the store, worded for the operator."""


def describe_error(exc: BaseException, path: Path | None = None) -> str:
    """One line an operator can act on, for an exception raised by SQLite.

    It names the file (the data directory is on the status line), says what
    is wrong and, where there is one, the fix; short enough for one line.
    """
    where = f"{path.name}: " if path else ""
    text = str(exc)
    low = text.lower()
    if path is not None and path.is_dir():
        return f"{where}cannot open: it is a directory, not a database file"
    if "file is not a database" in low or "not a database" in low:
        return f"{where}not an SQLite database (corrupt, truncated, or another kind of file)"
    if "malformed" in low:
        return f"{where}the database is corrupt ({text})"
    if "unable to open" in low or "readonly" in low or "read-only" in low:
        if path is not None and path.exists():
            return f"{where}cannot open: {why_cannot_open(path)}"
        return f"{where}cannot open (missing, or no permission to reach it)"
    if is_busy(exc):
        return f"{where}busy: a writer holds a lock ({text}); retrying"
    if isinstance(exc, PermissionError):
        return f"{where}permission denied ({text})"
    return f"{where}{text}"


def _schema_moved(exc: BaseException) -> bool:
    low = str(exc).lower()
    return "no such column" in low or "no such table" in low


def is_busy(exc: BaseException) -> bool:
    """A lock held by a writer: wait and read again, the file itself is fine."""
    low = str(exc).lower()
    return "locked" in low or "busy" in low


def why_cannot_open(path: Path) -> str:
    """Why SQLite cannot open an existing file read-only, and the fix.

    A WAL database is read through its ``-shm`` index: a reader must be able to
    read the file and open (or create) ``-shm`` and ``-wal`` beside it.
    """
    if not os.access(path, os.R_OK):
        return "permission denied (run as tau's user, or grant this user read access)"
    side = [path.with_name(path.name + suffix) for suffix in ("-shm", "-wal")]
    missing = [p.name for p in side if not p.exists()]
    if missing and not os.access(path.parent, os.W_OK):
        return (f"the directory is read-only and SQLite must create {missing[0]} beside it "
                f"(make the directory writable, or let tau open the store once)")
    locked = [p.name for p in side if p.exists() and not os.access(p, os.R_OK | os.W_OK)]
    if locked:
        return (f"{locked[0]} is not readable and writable by this user "
                f"(run as tau's user, or grant access to it)")
    return "SQLite cannot read it (check the permissions of the file, its -wal/-shm and directory)"


# --- message decoding ------------------------------------------------------------


def _blocks_text(blocks: object) -> str:
    """The text of a list of content blocks; non-text blocks are named."""
    if isinstance(blocks, str):
        return blocks
    if not isinstance(blocks, list):
        return ""
    parts: list[str] = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            parts.append(str(block.get("text", "")))
        elif kind == "image":
            parts.append("[image]")
        elif kind not in ("thinking", "tool_call"):
            parts.append(f"[{kind}]")
    return "\n".join(parts)


def _num(value: object) -> float:
    """A finite number from JSON, else 0 (JSON may say Infinity or NaN)."""
    if isinstance(value, bool):
        return 0.0
    if isinstance(value, (int, float)):
        try:
            f = float(value)
        except OverflowError:
            return 0.0
        return f if math.isfinite(f) else 0.0
    return 0.0


def usage_of(obj: dict) -> tuple[int, float]:
    """(tokens, cost) of an assistant message's ``usage``; zero if absent."""
    usage = obj.get("usage")
    if not isinstance(usage, dict):
        return 0, 0.0
    raw = usage.get("total_tokens")
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        tokens = _num(raw)
    else:
        tokens = _num(usage.get("input")) + _num(usage.get("output"))
    cost = usage.get("cost")
    total = _num(cost.get("total")) if isinstance(cost, dict) else _num(cost)
    return _int(tokens), total


def decode_message(row_id: int, session_id: str, created_at: int, raw: object) -> Message:
    """A `Message` from one ``messages`` row; bad JSON becomes a visible row.

    Never raises: whatever the row holds, the transcript gets a row to show.
    """
    base = {"id": _int(row_id), "session_id": _str(session_id), "created_at": _int(created_at)}
    try:
        return _decode(base, raw)
    except Exception as exc:  # noqa: BLE001 - a row must never stop a screen
        text = raw[:2000] if isinstance(raw, str) else ""
        return Message(role="invalid", error=f"cannot decode: {exc!r}"[:300], text=text, **base)


def _decode(base: dict, raw: object) -> Message:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    if not isinstance(raw, str):
        return Message(role="invalid", error="message_json is not text", **base)
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        return Message(role="invalid", error=f"not JSON: {exc}", text=raw[:2000], **base)
    if not isinstance(obj, dict):
        return Message(role="invalid", error=f"JSON {type(obj).__name__}, not an object",
                       text=raw[:2000], **base)
    role = obj.get("role")
    role = role if isinstance(role, str) else "unknown"
    lim = MESSAGE_TEXT_LIMIT

    def cut(s: str) -> str:
        return s if len(s) <= lim else s[:lim] + f"\n… ({len(s) - lim:,} more characters)"

    if role == "user":
        return Message(role=role, text=cut(_blocks_text(obj.get("content"))), **base)
    if role == "assistant":
        content = obj.get("content") if isinstance(obj.get("content"), list) else []
        thinking: list[str] = []
        calls: list[ToolCall] = []
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "thinking":
                thinking.append(str(block.get("thinking", "")))
            elif block.get("type") == "tool_call":
                args = block.get("arguments")
                try:
                    args_text = args if isinstance(args, str) else json.dumps(
                        args, ensure_ascii=False, separators=(",", ":"))
                except (TypeError, ValueError, RecursionError):
                    args_text = "(arguments too deeply nested to show)"
                calls.append(ToolCall(id=str(block.get("id", "")), name=str(block.get("name", "?")),
                                      arguments=args_text[:4000]))
        tokens, cost = usage_of(obj)
        return Message(
            role=role,
            text=cut(_blocks_text(content)),
            thinking=cut("\n".join(thinking)),
            tool_calls=tuple(calls),
            tokens=tokens,
            cost=cost,
            model=str(obj.get("model") or ""),
            stop_reason=str(obj.get("stop_reason") or ""),
            error=str(obj.get("error_message") or ""),
            **base,
        )
    if role == "tool_result":
        duration = obj.get("duration_ms")
        return Message(
            role=role,
            text=cut(_blocks_text(obj.get("content"))),
            tool_name=str(obj.get("tool_name") or ""),
            is_error=bool(obj.get("is_error")),
            duration_ms=_int(duration) if isinstance(duration, (int, float))
            and not isinstance(duration, bool) and math.isfinite(duration) else None,
            summary=str(obj.get("summary") or ""),
            **base,
        )
    if role == "compaction_summary":
        before = obj.get("tokens_before")
        note = f"(compacted from {before:,} tokens)" if isinstance(before, int) else ""
        return Message(role=role, text=cut(str(obj.get("summary") or "")), summary=note, **base)
    if role == "info":
        return Message(role=role, text=cut(str(obj.get("text") or "")), **base)
    return Message(role=role, text=cut(raw[:2000]), error=f"unknown message role {role!r}", **base)


def _int(value: object, default: int = 0) -> int:
    """An integer from a column tau should have filled with one; anything
    else (NULL, text, a blob, an infinite or NaN real) reads as ``default``."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else default
    if isinstance(value, (str, bytes)):
        try:
            return int(value.strip())
        except ValueError:
            return default
    return default


def _str(value: object, default: str = "") -> str:
    if value is None:
        return default
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


# --- cached state ------------------------------------------------------------------


@dataclass(slots=True)
class _MsgStats:
    """Per-session message figures, kept up to date from new message ids."""

    count: int = 0
    last_created: int = 0  # ms
    max_id: int = 0


@dataclass(slots=True)
class _Usage:
    """Per-session token and cost sums, kept up to date from new message ids."""

    max_id: int = 0
    tokens: int = 0
    cost: float = 0.0


@dataclass(frozen=True, slots=True)
class _SessionRow:
    id: str
    archived: bool
    last_phase: str | None
    last_exit_status: str | None
    created_at: int
    tagline: str
    model: str
    parent_id: str | None


def _model_name(model_json: object) -> str:
    try:
        obj = json.loads(model_json) if isinstance(model_json, str) else None
    except (ValueError, RecursionError):
        return ""
    if isinstance(obj, dict):
        return _str(obj.get("name") or obj.get("id"))
    return ""


async def _schema(conn: aiosqlite.Connection) -> dict[str, set[str]]:
    """The columns of every table, to read what is there and NULL for the rest."""
    cols: dict[str, set[str]] = {}
    async with conn.execute("SELECT name FROM sqlite_master WHERE type='table'") as cur:
        tables = [_str(r[0]) for r in await cur.fetchall()]
    for table in tables:
        quoted = table.replace('"', '""')
        async with conn.execute(f'PRAGMA table_info("{quoted}")') as cur:
            cols[table] = {_str(r[1]) for r in await cur.fetchall()}
    return cols


def _decode_text(raw: bytes) -> str:
    """TEXT values as str; bytes that are not UTF-8 become U+FFFD, visibly."""
    return raw.decode("utf-8", errors="replace")


def _uri(path: Path) -> str:
    return "file:" + quote(str(path.resolve())) + "?mode=ro"


class Store:
    """Read-only access to one tau data directory.

    Usage: ``await store.open()``, then the ``read_*`` coroutines, then
    ``await store.close()`` (an unclosed aiosqlite connection hangs exit).
    Files that are missing or unreadable are reported in ``status`` and retried
    on the next read, so the store can appear, vanish and come back.
    """

    def __init__(self, data_dir: Path, runtime_dir: Path | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.runtime_dir = runtime_dir
        self.tasks_path = self.data_dir / TASKS_DB
        self.tau_path = self.data_dir / TAU_DB
        self._tasks: aiosqlite.Connection | None = None
        self._tau: aiosqlite.Connection | None = None
        self._tasks_ident: tuple[int, int] | None = None
        self._tau_ident: tuple[int, int] | None = None
        self._tasks_cols: dict[str, set[str]] = {}
        self._tau_cols: dict[str, set[str]] = {}
        self._problems: dict[str, str] = {}  # a file that cannot be read at all
        self._missing: set[str] = set()  # ... because it is not there (yet): nothing to show
        self._busy: dict[str, str] = {}  # a file whose last read met a lock
        self._epoch = {"tasks": 0, "tau": 0}  # bumped at each (re)open, see data_versions
        self._listed = False  # a task list has been read from tasks.db at least once
        self._lock = asyncio.Lock()
        # caches
        self._msg_stats: dict[str, _MsgStats] = {}
        self._usage: dict[str, _Usage] = {}
        #: Sessions whose sums are still being counted, a chunk at a time.
        self._usage_pending: set[str] = set()
        self._phase_seen: dict[str, tuple[str | None, float]] = {}
        self._sessions: dict[str, _SessionRow] = {}
        self._reset_caches("tasks")
        self._reset_caches("tau")

    # --- connections -------------------------------------------------------------

    async def open(self) -> None:
        """Open whatever of the two files can be opened now; note the rest."""
        async with self._lock:
            await self._ensure_open()

    async def close(self) -> None:
        async with self._lock:
            for conn in (self._tasks, self._tau):
                if conn is not None:
                    try:
                        await conn.close()
                    except Exception:  # noqa: BLE001 - closing a broken connection
                        pass
            self._tasks = self._tau = None

    async def _connect(self, path: Path) -> tuple[aiosqlite.Connection, dict[str, set[str]]]:
        conn = await aiosqlite.connect(_uri(path), uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
        # TEXT that is not valid UTF-8 must not make a whole read fail.
        conn.text_factory = _decode_text
        try:
            await conn.execute("PRAGMA query_only=1")
            await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cols = await _schema(conn)
        except BaseException:
            await conn.close()
            raise
        return conn, cols

    async def _ensure_open(self) -> None:
        """(Re)open each file if it is closed or was replaced on disk."""
        for which in ("tasks", "tau"):
            path = self._path(which)
            conn = self._tasks if which == "tasks" else self._tau
            ident = file_identity(path)
            old_ident = self._tasks_ident if which == "tasks" else self._tau_ident
            if conn is not None and ident == old_ident:
                continue
            if conn is not None:  # replaced, moved or deleted: let go of the old file
                try:
                    await conn.close()
                except Exception:  # noqa: BLE001
                    pass
                conn = None
                self._reset_caches(which)
            self._set(which, None, None, {})
            if ident is None:
                self._problem(which, f"{path.name}: not found", missing=True)
                continue
            try:
                conn, cols = await self._connect(path)
            except (sqlite3.Error, OSError, ValueError) as exc:
                if is_busy(exc):  # the file is fine, a writer holds it: try again later
                    self._note_busy(which, exc)
                    self._problems.pop(which, None)
                    self._missing.discard(which)
                else:
                    self._problem(which, describe_error(exc, path))
                continue
            required = "tasks" if which == "tasks" else "sessions"
            if required not in cols:
                await conn.close()
                empty = " (an empty file)" if not cols else ""
                # Absent while tau creates the store; a file that lost its table
                # after data was read from it is broken (keep the last good data).
                self._problem(which, f"{path.name}: no '{required}' table{empty}: not a tau "
                                     f"store, or tau has not created it yet",
                              missing=not (self._listed and which == "tasks"))
                continue
            self._problems.pop(which, None)
            self._missing.discard(which)
            self._busy.pop(which, None)
            self._epoch[which] += 1
            self._set(which, conn, ident, cols)

    def _path(self, which: str) -> Path:
        return self.tasks_path if which == "tasks" else self.tau_path

    def _note_busy(self, which: str, exc: BaseException) -> str:
        """A read met a writer's lock: the file is fine, read again later."""
        self._busy[which] = describe_error(exc, self._path(which))
        return self._busy[which]

    def _problem(self, which: str, message: str, *, missing: bool = False) -> None:
        """Note why a file cannot be read: ``missing`` if there is nothing there
        to read (yet), else it is there but broken (corrupt, unreadable)."""
        self._problems[which] = message
        self._busy.pop(which, None)
        if missing:
            self._missing.add(which)
        else:
            self._missing.discard(which)

    def _unavailable(self, which: str) -> StoreError | None:
        """For a file with no connection: the error to raise so that the screen
        keeps its last good data (the file is busy or broken), or None when
        there is nothing there to read and an empty answer is the truth."""
        if which in self._busy:
            return StoreError(self._busy[which])
        if which in self._problems and which not in self._missing:
            return StoreError(f"{self._path(which).name} cannot be read (see below): what is shown is from the "
                              f"last good read")
        return None

    def _set(self, which: str, conn: aiosqlite.Connection | None,
             ident: tuple[int, int] | None, cols: dict[str, set[str]]) -> None:
        if which == "tasks":
            self._tasks, self._tasks_ident, self._tasks_cols = conn, ident, cols
        else:
            self._tau, self._tau_ident, self._tau_cols = conn, ident, cols

    def _reset_caches(self, which: str) -> None:
        """Forget what was read from one file (it was replaced, or reopened)."""
        self._dirty: set[int] | None = None  # task rows to rebuild; None: all of them
        self._row_cache: dict[int, TaskRow] = {}
        self._server_up_seen: bool | None = None
        if which == "tasks":
            self._tasks_dv: int | None = None
            self._task_rows: dict[int, tuple] = {}
            self._tasks_max_updated = 0
            self._links: dict[int, list[tuple[str, str, int]]] = {}
            self._session_tasks: dict[str, set[int]] = {}
            self._links_rowid = 0
            self._links_total = 0
            self._deps: dict[int, list[int]] = {}
            self._relevant: set[str] = set()
        else:
            self._tau_dv: int | None = None
            self._msg_stats.clear()
            self._usage.clear()
            self._usage_pending.clear()
            self._sessions.clear()
            self._msg_max_id: int | None = None  # the message id counts go up to
            self._sessions_rowid = 0
            self._sessions_no_rowid = False
            self._active: set[str] = set()  # sessions whose phase is not idle
            self._absent: set[str] = set()  # linked sessions not in tau.db
            self._sweep_queue: list[str] = []  # relevant sessions this round has yet to re-read
            self._sweep_started = -SWEEP_SECONDS  # when this round began (monotonic s)
            self._sweep_round = 0  # sessions in this round
            self._last_tau_read = -SWEEP_SECONDS  # when tau.db was last read for a change

    async def _fail(self, which: str, exc: BaseException) -> None:
        """A read failed: record why and drop the connection so the next read retries."""
        self._problem(which, describe_error(exc, self._path(which)))
        conn = self._tasks if which == "tasks" else self._tau
        if conn is not None:
            try:
                await conn.close()
            except Exception:  # noqa: BLE001
                pass
        self._set(which, None, None, {})
        self._reset_caches(which)

    # --- status --------------------------------------------------------------------

    async def data_versions(self) -> tuple[int | None, int | None]:
        """A version of each file that moves whenever its data may have:
        ``PRAGMA data_version`` (it moves only when another connection commits)
        plus the number of times the file was (re)opened, since a fresh
        connection to a replaced file starts its data_version afresh. An
        unchanged pair means nothing to re-read; None: the file cannot be read."""
        async with self._lock:
            await self._ensure_open()
            out: list[int | None] = []
            for which, conn in (("tasks", self._tasks), ("tau", self._tau)):
                if conn is None:
                    out.append(None)
                    continue
                try:
                    async with conn.execute("PRAGMA data_version") as cur:
                        row = await cur.fetchone()
                    out.append((self._epoch[which] << 48) + int(row[0]) if row else None)
                except sqlite3.Error as exc:
                    if is_busy(exc):
                        self._note_busy(which, exc)
                    else:
                        await self._fail(which, exc)
                    out.append(None)
            return out[0], out[1]

    def status(self) -> StoreStatus:
        """Liveness source and what is wrong with the store, for the status line."""
        pid = server_pid(self.runtime_dir)
        notices: list[str] = []
        if self._tasks is not None and "task_sessions" not in self._tasks_cols:
            notices.append(
                "This tasks.db is from an older tau: it has no task_sessions table, "
                "so sessions per task are not recorded."
            )
        tasks_problem = self._problems.get("tasks")
        tau_problem = self._problems.get("tau")
        error = None
        if {"tasks", "tau"} <= self._missing:
            if not self.data_dir.is_dir():
                error = (f"no tau store yet: {self.data_dir} does not exist "
                         f"(waiting for tau to create it)")
            else:
                error = (f"no tau store in {self.data_dir} yet: {self.tasks_path.name} and "
                         f"{self.tau_path.name} not found or empty "
                         f"(waiting for tau to create them)")
        elif tasks_problem:
            error = f"{tasks_problem}; {tau_problem}" if tau_problem else tasks_problem
        elif tau_problem:
            notices.append(f"{tau_problem} (sessions shown as bare rows: no phase, "
                           f"no messages)")
        return StoreStatus(
            data_dir=str(self.data_dir),
            live_source=LiveSource.PID if pid else LiveSource.NONE,
            server_pid=pid,
            notices=tuple(notices),
            error=error,
        )


    # --- shared pieces ---------------------------------------------------------------

    def _tcol(self, table: str, col: str, alias: str | None = None, *, tau: bool = False) -> str:
        """``col`` if the table has it, else ``NULL AS col``: tolerate missing columns."""
        cols = (self._tau_cols if tau else self._tasks_cols).get(table, set())
        name = alias or col
        return f'"{col}"' if col in cols else f"NULL AS \"{name}\""

    def _has(self, table: str, *cols: str, tau: bool = False) -> bool:
        """True if ``table`` exists with at least ``cols`` (the columns a query
        cannot do without; the others are read through `_tcol`)."""
        have = (self._tau_cols if tau else self._tasks_cols).get(table)
        return have is not None and all(c in have for c in cols)

    def _messages_ok(self) -> bool:
        return self._has("messages", "id", "session_id", "message_json", tau=True)

    def _msg_created(self) -> str:
        return '"created_at"' if self._has("messages", "created_at", tau=True) else "NULL"

    def _project_col(self) -> str:
        cols = self._tasks_cols.get("tasks", set())
        if "project_name" in cols:
            return "project_name"
        if "project" in cols:
            return "project"
        return "NULL"

    async def _guarded(self, which: str, coro_fn):  # type: ignore[no-untyped-def]
        """Run one read; on failure note why (worded for the operator) and raise
        StoreError. A lock keeps the connection; anything else drops it so the
        next read reopens the file."""
        try:
            try:
                result = await coro_fn()
            except sqlite3.OperationalError as exc:
                if not _schema_moved(exc):
                    raise
                # tau migrated the schema under us (a column or table added,
                # renamed or dropped): learn it again and read once more.
                await self._relearn_schema(which)
                result = await coro_fn()
        except sqlite3.Error as exc:
            if is_busy(exc):
                # A writer is holding the file: keep the connection, retry next time.
                raise StoreError(self._note_busy(which, exc)) from exc
            await self._fail(which, exc)
            raise StoreError(self._problems[which]) from exc
        self._busy.pop(which, None)
        return result

    async def _relearn_schema(self, which: str) -> None:
        conn = self._tasks if which == "tasks" else self._tau
        if conn is None:
            return
        cols = await _schema(conn)
        if which == "tasks":
            self._tasks_cols = cols
        else:
            self._tau_cols = cols
            self._tau_dv = None

    # --- the fleet, kept in memory -------------------------------------------------------
    #
    # The task list needs, for every task, its sessions' liveness and last
    # activity. Reading that afresh on every change costs what the store holds
    # (100,000 sessions whose rows carry kilobytes of system prompt); instead the
    # store keeps it in memory and reads what changed: tasks by updated_at,
    # task_sessions and sessions by rowid, messages by id, and, by primary key,
    # the sessions that can have changed (busy ones, ones with new messages,
    # the ones on screen). Only "relevant" sessions are kept current: those of
    # unfinished tasks and of the most recently finished ones; a task screen
    # adds its own. A sweep every SWEEP_SECONDS re-reads the relevant rows in
    # case something changed without a trace (an idle session archived), a
    # slice per read while changes keep coming (`_sweep_slice`).

    async def _dv(self, conn: aiosqlite.Connection) -> int:
        async with conn.execute("PRAGMA data_version") as cur:
            return int((await cur.fetchone())[0])

    async def _refresh_tasks_tables(self) -> None:
        """Bring tasks, task_sessions and depends_on up to date with tasks.db."""
        conn = self._tasks
        assert conn is not None
        dv = await self._dv(conn)
        if dv == self._tasks_dv:
            return
        t = lambda c: self._tcol("tasks", c)  # noqa: E731
        base = (
            f"SELECT id, {self._project_col()}, {t('title')}, {t('state')}, {t('priority')}, "
            f"{t('parent_id')}, {t('held')}, {t('created_at')}, {t('updated_at')} FROM tasks"
        )
        async with conn.execute("SELECT COUNT(*) FROM tasks") as cur:
            count = (await cur.fetchone())[0]
        changed_states = False
        seen_change = False
        full = not self._task_rows or not self._has("tasks", "updated_at")
        if not full:
            # tau bumps updated_at on every change of a task.
            async with conn.execute(base + " WHERE updated_at >= ?", (self._tasks_max_updated,)) as cur:
                rows = await cur.fetchall()
            for r in rows:
                tid = _int(r[0])
                old = self._task_rows.get(tid)
                if old != r:
                    seen_change = True
                    changed_states = changed_states or old is None or old[3] != r[3]
                    self._task_rows[tid] = r
                    self._mark(tid)
                self._tasks_max_updated = max(self._tasks_max_updated, _int(r[8]))
            full = len(self._task_rows) != count  # a task deleted, or rows without a key
        links_changed = await self._refresh_links(conn)
        if not (full or seen_change or links_changed):
            # Something committed that updated_at does not show (a hand edit, a
            # relation, a task message): compare the whole table, it is small.
            full = True
        if full:
            async with conn.execute(base) as cur:
                rows = await cur.fetchall()
            fresh: dict[int, tuple] = {}
            for r in rows:
                fresh.setdefault(_int(r[0]), r)  # a table without its key: each id once
            if fresh != self._task_rows:
                changed_states = changed_states or any(
                    _str(r[3]) != _str(self._task_rows.get(tid, (None,) * 4)[3])
                    for tid, r in fresh.items())
                for tid in set(fresh) ^ set(self._task_rows):
                    self._mark(tid)
                for tid, r in fresh.items():
                    if self._task_rows.get(tid) != r:
                        self._mark(tid)
                if len(fresh) != len(self._task_rows):
                    changed_states = True
            self._task_rows = fresh
            self._tasks_max_updated = max((_int(r[8]) for r in rows), default=0)
        deps: dict[int, list[int]] = {}
        if self._has("task_relations", "from_task", "to_task", "relation"):
            async with conn.execute(
                "SELECT from_task, to_task FROM task_relations WHERE relation='depends_on'"
            ) as cur:
                async for a, b in cur:
                    deps.setdefault(_int(a), []).append(_int(b))
        if deps != self._deps or changed_states:
            for tid in set(deps) | set(self._deps):  # "blocked" hangs on other tasks' states
                self._mark(tid)
            self._deps = deps
        if full or changed_states or links_changed:
            self._find_relevant()
        self._tasks_dv = dv

    async def _refresh_links(self, conn: aiosqlite.Connection) -> bool:
        """task_sessions rows are only ever added ("insert or ignore"): read new
        rowids; re-read the table when its count says rows went away."""
        if not self._has("task_sessions", "task_id", "session_id"):
            if self._links:
                self._links, self._session_tasks = {}, {}
                self._dirty = None
                return True
            return False
        ts = lambda c: self._tcol("task_sessions", c)  # noqa: E731
        cols = f"task_id, session_id, {ts('role')}, {ts('created_at')}"
        async with conn.execute("SELECT COUNT(*) FROM task_sessions") as cur:
            count = (await cur.fetchone())[0]
        rows: list = []
        full = not self._links_total
        if not full:
            try:
                async with conn.execute(
                    f"SELECT rowid, {cols} FROM task_sessions WHERE rowid > ? ORDER BY rowid",
                    (self._links_rowid,),
                ) as cur:
                    rows = await cur.fetchall()
            except sqlite3.OperationalError:  # a table without rowid: read it whole
                full = True
            full = full or self._links_total + len(rows) != count
        if full:
            self._links, self._session_tasks, self._links_total = {}, {}, 0
            self._dirty = None
            try:
                async with conn.execute(
                    f"SELECT rowid, {cols} FROM task_sessions ORDER BY rowid") as cur:
                    rows = await cur.fetchall()
            except sqlite3.OperationalError:
                async with conn.execute(f"SELECT 0, {cols} FROM task_sessions") as cur:
                    rows = await cur.fetchall()
        links, session_tasks, top = self._links, self._session_tasks, self._links_rowid
        for rowid, task_id, sid, role, created in rows:
            # tau's rows are well typed; convert only what is not.
            tid = task_id if type(task_id) is int else _int(task_id)
            sid = sid if type(sid) is str else _str(sid)
            links.setdefault(tid, []).append((
                sid, role if type(role) is str else _str(role, "worker"),
                created if type(created) is int else _int(created)))
            session_tasks.setdefault(sid, set()).add(tid)
            if type(rowid) is int and rowid > top:
                top = rowid
            self._mark(tid)
        self._links_rowid = top
        self._links_total = count if full else self._links_total + len(rows)
        for tid in {_int(r[1]) for r in rows}:
            self._links[tid].sort(key=lambda link: link[2])  # by created_at, then rowid (stable)
        return bool(rows) or full

    def _find_relevant(self) -> None:
        """The sessions kept current: of unfinished tasks and recent finished ones."""
        finished: list[tuple[int, int]] = []
        keep: set[int] = set()
        for tid, r in self._task_rows.items():
            if _str(r[3]) in TERMINAL_STATES:
                finished.append((_int(r[8]), tid))
            else:
                keep.add(tid)
        finished.sort(reverse=True)
        keep.update(tid for _, tid in finished[:RELEVANT_FINISHED])
        self._relevant = {sid for tid in keep for sid, _, _ in self._links.get(tid, ())}

    def _mark(self, task_id: int) -> None:
        if self._dirty is not None:
            self._dirty.add(task_id)

    def _mark_session(self, session_id: str) -> None:
        if self._dirty is not None:
            self._dirty.update(self._session_tasks.get(session_id, ()))

    def _session_select(self) -> str:
        t = lambda c: self._tcol("sessions", c, tau=True)  # noqa: E731
        return (f"SELECT rowid, id, {t('archived')}, {t('last_phase')}, {t('last_exit_status')}, "
                f"{t('created_at')}, {t('tagline')}, {t('model_json')}, {t('parent_id')} FROM sessions")

    def _take_session(self, r: tuple) -> str:
        """Keep one sessions row; mark its tasks dirty if it changed."""
        sid = _str(r[1])
        old = self._sessions.get(sid)
        row = _SessionRow(
            id=sid, archived=bool(_int(r[2])), last_phase=None if r[3] is None else _str(r[3]),
            last_exit_status=None if r[4] in (None, "") else _str(r[4]),
            created_at=_int(r[5]), tagline=_str(r[6]),
            model=old.model if old is not None else _model_name(r[7]),
            parent_id=None if r[8] is None else _str(r[8]),
        )
        if row != old:
            self._sessions[sid] = row
            self._mark_session(sid)
        self._absent.discard(sid)
        if row.last_phase not in (None, "idle"):
            self._active.add(sid)
        else:
            self._active.discard(sid)
        return sid

    async def _read_sessions(self, conn: aiosqlite.Connection, ids: set[str]) -> None:
        """Re-read these sessions by primary key; those not found are gone."""
        found: set[str] = set()
        ids_list = sorted(ids)
        select = self._session_select()
        for i in range(0, len(ids_list), CHUNK):
            part = ids_list[i:i + CHUNK]
            marks = ",".join("?" * len(part))
            async with conn.execute(f"{select} WHERE id IN ({marks})", part) as cur:
                async for r in cur:
                    found.add(self._take_session(r))
        for sid in ids - found:
            if sid in self._sessions or sid in self._msg_stats or sid not in self._absent:
                self._sessions.pop(sid, None)
                self._msg_stats.pop(sid, None)
                self._usage.pop(sid, None)
                self._usage_pending.discard(sid)
                self._active.discard(sid)
                self._absent.add(sid)
                self._mark_session(sid)

    async def _count_messages(self, conn: aiosqlite.Connection, ids: list[str]) -> None:
        """Message counts of sessions seen for the first time, up to the id
        high-water mark (newer rows are counted as increments)."""
        created = self._msg_created()
        if self._msg_max_id is None:
            async with conn.execute("SELECT MAX(id) FROM messages") as cur:
                self._msg_max_id = _int((await cur.fetchone())[0])
        newest: dict[int, str] = {}
        for i in range(0, len(ids), CHUNK):
            part = ids[i:i + CHUNK]
            marks = ",".join("?" * len(part))
            for sid in part:
                self._msg_stats[sid] = _MsgStats()
            async with conn.execute(
                f"SELECT session_id, COUNT(*), MAX(id) FROM messages WHERE session_id IN ({marks}) "
                "AND id <= ? GROUP BY session_id", (*part, self._msg_max_id),
            ) as cur:
                async for sid, count, max_id in cur:
                    self._msg_stats[_str(sid)] = _MsgStats(count=count, max_id=_int(max_id))
                    newest[_int(max_id)] = _str(sid)
        if created == "NULL":
            return
        top_ids = sorted(newest)
        for i in range(0, len(top_ids), CHUNK):
            part = top_ids[i:i + CHUNK]
            marks = ",".join("?" * len(part))
            async with conn.execute(
                f"SELECT id, {created} FROM messages WHERE id IN ({marks})", part) as cur:
                async for mid, at in cur:
                    st = self._msg_stats.get(newest[_int(mid)])
                    if st is not None:
                        st.last_created = max(st.last_created, _int(at))

    async def _refresh_tau_inner(self, want: frozenset[str] = frozenset()) -> None:
        """Bring the kept sessions and their message figures up to date."""
        conn = self._tau
        assert conn is not None
        dv = await self._dv(conn)
        changed = dv != self._tau_dv
        if not changed:
            # Nothing committed: only sessions never read before need a read.
            new_want = {s for s in want if s not in self._sessions and s not in self._absent}
            if new_want:
                await self._read_sessions(conn, new_want)
            if self._messages_ok():
                uncounted = [s for s in want if s in self._sessions and s not in self._msg_stats]
                if uncounted:
                    await self._count_messages(conn, uncounted)
            return
        touched: set[str] = set()
        if self._messages_ok():
            async with conn.execute("SELECT MAX(id) FROM messages") as cur:
                top = _int((await cur.fetchone())[0])
            if self._msg_max_id is not None and top < self._msg_max_id:
                # Rows deleted from the end: count again.
                self._msg_stats.clear()
                self._usage.clear()
                self._usage_pending.clear()
                self._msg_max_id = None
                self._dirty = None
            if self._msg_max_id is None:
                self._msg_max_id = top  # the baseline: counts go up to here
            elif top > self._msg_max_id:
                async with conn.execute(
                    f"SELECT session_id, COUNT(*), MAX({self._msg_created()}), MAX(id) FROM messages "
                    "WHERE id > ? AND id <= ? GROUP BY session_id",
                    # Up to `top` only: rows committed since MAX(id) was read are
                    # counted next time, not now and again then.
                    (self._msg_max_id, top),
                ) as cur:
                    async for sid, count, last_created, max_id in cur:
                        sid = _str(sid)
                        touched.add(sid)
                        st = self._msg_stats.get(sid)
                        if st is not None:  # no baseline, no increment: counted when needed
                            st.count += count
                            st.last_created = max(st.last_created, _int(last_created))
                            st.max_id = max(st.max_id, _int(max_id))
                            self._mark_session(sid)
                self._msg_max_id = top
        # Sessions added since the last read (on the first read, only where
        # they start: the ones that matter are read by id below).
        if not self._sessions_no_rowid:
            try:
                if self._tau_dv is None and not self._sessions:
                    async with conn.execute("SELECT MAX(rowid) FROM sessions") as cur:
                        self._sessions_rowid = _int((await cur.fetchone())[0])
                else:
                    async with conn.execute(
                        f"{self._session_select()} WHERE rowid > ?", (self._sessions_rowid,)
                    ) as cur:
                        async for r in cur:
                            self._take_session(r)
                            self._sessions_rowid = max(self._sessions_rowid, _int(r[0]))
            except sqlite3.OperationalError:
                self._sessions_no_rowid = True
        # Sessions that can have changed (set operations: the relevant set is large).
        now = time.monotonic()
        relevant = self._relevant
        known = self._sessions.keys()
        need = set(want) | {s for s in touched if s in relevant or s in known}
        need |= self._active & relevant
        need |= relevant - known - self._absent
        if self._sessions_no_rowid:
            need |= relevant
        else:
            need |= self._sweep_slice(now)
        if self._sessions_no_rowid and not relevant:
            async with conn.execute(self._session_select()) as cur:
                async for r in cur:
                    self._take_session(r)
        if need:
            await self._read_sessions(conn, need)
        if self._messages_ok():
            uncounted = list(((relevant | want) & self._sessions.keys()) - self._msg_stats.keys())
            if uncounted:
                await self._count_messages(conn, uncounted)
                for sid in uncounted:
                    self._mark_session(sid)
        self._tau_dv = dv

    def _sweep_slice(self, now: float) -> set[str]:
        """The relevant sessions to re-read now, in case they changed without a trace.

        Every SWEEP_SECONDS a round re-reads all of them: while changes stream in,
        a slice per read in proportion to the time since the last read (a whole
        round on a big store costs a few hundred ms, too much for one change to
        wait; and at 40 reads a second a fixed slice would re-read the round many
        times over); after a quiet spell, the rest of the round at once (the
        change that ended it may be one of them).
        """
        if not self._sweep_queue and now - self._sweep_started >= SWEEP_SECONDS:
            self._sweep_queue = list(self._relevant)
            self._sweep_round = len(self._sweep_queue)
            self._sweep_started = now
        since = now - self._last_tau_read
        self._last_tau_read = now
        if not self._sweep_queue:
            return set()
        if since >= SWEEP_SECONDS:  # quiet until now
            n = len(self._sweep_queue)
        else:  # a round's worth per SWEEP_SECONDS, however many reads that is
            n = min(SWEEP_SLICE, max(1, math.ceil(self._sweep_round * since / SWEEP_SECONDS)))
        part = set(self._sweep_queue[-n:])
        del self._sweep_queue[-n:]
        return part

    async def _refresh_tau(self, want: frozenset[str] = frozenset()) -> None:
        """Bring the sessions and message counts up to date. If tau.db cannot be
        read the tasks are still shown, with bare session rows (the status says
        why); only a lock, which passes, makes the whole read wait for later."""
        if self._tau is None:
            if "tau" in self._busy:
                raise StoreError(self._busy["tau"])
            return
        try:
            await self._guarded("tau", lambda: self._refresh_tau_inner(want))
        except StoreError:
            if "tau" in self._busy:
                raise

    def _session_info(self, session_id: str, role: str, created_at: int,
                      server_up: bool) -> TaskSessionInfo:
        row = self._sessions.get(session_id)
        if row is None:
            return TaskSessionInfo(
                session_id=session_id, role=role, created_at=created_at,
                message_count=None, archived=None, last_activity=None,
                last_phase=None, last_exit_status=None, is_live=False,
            )
        st = self._msg_stats.get(session_id)
        last_ms = st.last_created if st and st.count and st.last_created else row.created_at
        return TaskSessionInfo(
            session_id=session_id, role=role, created_at=created_at,
            message_count=st.count if st else 0,
            archived=row.archived,
            last_activity=last_ms // 1000,
            last_phase=row.last_phase,
            last_exit_status=row.last_exit_status,
            is_live=bool(server_up and row.last_phase and row.last_phase != "idle"),
        )

    def _task_row(self, tid: int, r: tuple, server_up: bool) -> TaskRow:
        """One task's row from the kept state. Sessions never read (those of
        long-finished tasks) count, but carry no liveness or activity.
        The same rules as `_session_info`, inlined: this runs for every task."""
        links = self._links.get(tid, ())
        sessions, stats = self._sessions, self._msg_stats
        live = 0
        busiest: str | None = None
        last: int | None = None
        for sid, _, _ in links:
            row = sessions.get(sid)
            if row is None:
                continue
            st = stats.get(sid)
            act = (st.last_created if st and st.count and st.last_created else row.created_at) // 1000
            last = act if last is None or act > last else last
            phase = row.last_phase
            if server_up and phase and phase != "idle":
                live += 1
                if busiest is None or phase_rank(phase) > phase_rank(busiest):
                    busiest = phase
        blocked = tuple(sorted(
            d for d in self._deps.get(tid, ())
            if d in self._task_rows and _str(self._task_rows[d][3]) not in TERMINAL_STATES
        )) if tid in self._deps else ()
        return TaskRow(
            id=tid, title=_str(r[2]), state=_str(r[3], "?"), priority=_int(r[4]),
            project=_str(r[1]), parent_id=None if r[5] is None else _int(r[5]),
            held=bool(_int(r[6])), created_at=_int(r[7]), updated_at=_int(r[8]),
            session_count=len(links), live_count=live, busiest_phase=busiest,
            last_activity=last, blocked_by=blocked,
        )

    # --- the task list --------------------------------------------------------------------

    async def read_task_list(self) -> TaskListSnapshot:
        """Every task with its session counts, busiest live phase and last activity.

        Rows of tasks whose inputs did not change are the same objects as last
        time, so the screen can skip them with an identity check.
        """
        async with self._lock:
            await self._ensure_open()
            server_up = server_pid(self.runtime_dir) is not None
            if self._tasks is None:
                failure = self._unavailable("tasks")
                if failure is not None and (self._listed or "tasks" in self._busy):
                    raise failure
                # Nothing to show yet: say why (the status names the path).
                return TaskListSnapshot(tasks=(), status=self.status(), taken_at=time.time())
            await self._guarded("tasks", self._refresh_tasks_tables)
            await self._refresh_tau()
            self._listed = True
            if server_up != self._server_up_seen:
                self._dirty = None
                self._server_up_seen = server_up
            dirty = self._dirty
            cache = self._row_cache
            if dirty is None or len(cache) != len(self._task_rows):
                cache = {tid: self._task_row(tid, r, server_up) for tid, r in self._task_rows.items()}
            else:
                for tid in dirty:
                    r = self._task_rows.get(tid)
                    if r is not None:
                        cache[tid] = self._task_row(tid, r, server_up)
            self._row_cache = cache
            self._dirty = set()
            tasks = tuple(cache[tid] for tid in self._task_rows)
            return TaskListSnapshot(tasks=tasks, status=self.status(), taken_at=time.time())

    # --- one task ----------------------------------------------------------------------------

    async def read_task(self, task_id: int, *, recent: int = 3,
                        include_archived: bool = True) -> TaskDetail | None:
        """One task: fields, history, relations, and a pane per session."""
        async with self._lock:
            await self._ensure_open()
            if self._tasks is None:
                failure = self._unavailable("tasks")
                if failure is not None:
                    raise failure
                return None
            server_up = server_pid(self.runtime_dir) is not None
            got = await self._guarded("tasks", lambda: self._read_task_rows(task_id))
            if got is None:
                return None
            task_row, links, history, relations, deps_states = got
            await self._refresh_tau(frozenset(sid for sid, _, _ in links))
            infos = [self._session_info(sid, role, created, server_up)
                     for sid, role, created in links]
            if not include_archived:
                infos = [i for i in infos if not i.archived]
            panes: list[SessionPane] = []
            now = time.time()
            usage_until = time.perf_counter() + USAGE_BUDGET_S
            for info in infos:
                row = self._sessions.get(info.session_id)
                tokens, cost, counted = 0, 0.0, True
                recent_msgs: tuple[Message, ...] = ()
                if row is not None and self._tau is not None:
                    try:
                        tokens, cost, counted = await self._guarded(
                            "tau", lambda s=info.session_id: self._usage_of(
                                s, read=time.perf_counter() < usage_until))
                        if info.is_live and recent:
                            recent_msgs = await self._guarded(
                                "tau", lambda s=info.session_id: self._newest(s, recent))
                    except StoreError:
                        if "tau" in self._busy:
                            raise
                seen = self._phase_seen.get(info.session_id)
                if seen is None or seen[0] != info.last_phase:
                    since = float(info.last_activity) if seen is None and info.last_activity else now
                    self._phase_seen[info.session_id] = (info.last_phase, since)
                    seen = self._phase_seen[info.session_id]
                panes.append(SessionPane(
                    info=info,
                    tagline=row.tagline if row else "",
                    model=row.model if row else "",
                    parent_id=row.parent_id if row else None,
                    tokens=tokens, cost=cost, usage_complete=counted, phase_since=seen[1],
                    recent=recent_msgs,
                ))
            all_infos = [self._session_info(sid, role, created, server_up) for sid, role, created in links]
            live_all = [i for i in all_infos if i.is_live]
            acts = [i.last_activity for i in all_infos if i.last_activity is not None]
            d = task_row
            blocked = tuple(sorted(t for t, st in deps_states if st not in TERMINAL_STATES))
            task = TaskRow(
                id=_int(d.get("id")), title=_str(d.get("title")), state=_str(d.get("state"), "?"),
                priority=_int(d.get("priority")),
                project=_str(d.get("project_name", d.get("project"))),
                parent_id=None if d.get("parent_id") is None else _int(d.get("parent_id")),
                held=bool(_int(d.get("held"))), created_at=_int(d.get("created_at")),
                updated_at=_int(d.get("updated_at")), session_count=len(all_infos),
                live_count=len(live_all),
                busiest_phase=max(live_all, key=lambda i: phase_rank(i.last_phase)).last_phase if live_all else None,
                last_activity=max(acts) if acts else None, blocked_by=blocked,
            )
            tags: tuple[str, ...] = ()
            raw_tags = d.get("tags")
            if raw_tags:
                try:
                    parsed = json.loads(raw_tags) if isinstance(raw_tags, str) else raw_tags
                    tags = tuple(_str(x) for x in parsed) if isinstance(parsed, list) else (_str(raw_tags),)
                except ValueError:
                    tags = (_str(raw_tags),)
            extra = tuple((k, _str(d[k])) for k in EXTRA_TASK_FIELDS
                          if d.get(k) not in (None, "", 0))
            return TaskDetail(
                task=task, branch=None if d.get("branch") is None else _str(d.get("branch")),
                tags=tags,
                worktree_path=None if d.get("worktree_path") is None else _str(d.get("worktree_path")),
                extra=extra, history=history, relations=relations, sessions=tuple(panes),
            )

    async def _read_task_rows(self, task_id: int):  # type: ignore[no-untyped-def]
        conn = self._tasks
        assert conn is not None
        conn.row_factory = sqlite3.Row
        try:
            async with conn.execute("SELECT * FROM tasks WHERE id = ?", (task_id,)) as cur:
                row = await cur.fetchone()
        finally:
            conn.row_factory = None
        if row is None:
            return None
        d = {k: row[k] for k in row.keys()}
        links: list[tuple[str, str, int]] = []
        if self._has("task_sessions", "task_id", "session_id"):
            ts = lambda c: self._tcol("task_sessions", c)  # noqa: E731
            async with conn.execute(
                f"SELECT session_id, {ts('role')}, {ts('created_at')} FROM task_sessions "
                "WHERE task_id = ? ORDER BY 3, rowid", (task_id,),
            ) as cur:
                links = [(_str(r[0]), _str(r[1], "worker"), _int(r[2])) for r in await cur.fetchall()]
        history: tuple[HistoryEntry, ...] = ()
        if self._has("task_history", "task_id"):
            th = lambda c: self._tcol("task_history", c)  # noqa: E731
            async with conn.execute(
                f"SELECT {th('id')}, {th('field')}, {th('old_value')}, {th('new_value')}, "
                f"{th('session_id')}, {th('created_at')} FROM task_history "
                "WHERE task_id = ? ORDER BY 6, 1", (task_id,),
            ) as cur:
                history = tuple(
                    HistoryEntry(id=_int(r[0]), field=_str(r[1]),
                                 old_value=None if r[2] is None else _str(r[2]),
                                 new_value=None if r[3] is None else _str(r[3]),
                                 session_id=None if r[4] is None else _str(r[4]),
                                 created_at=_int(r[5]))
                    for r in await cur.fetchall())
        relations: tuple[Relation, ...] = ()
        deps_states: list[tuple[int, str]] = []
        if self._has("task_relations", "from_task", "to_task", "relation"):
            state = "t.state" if self._has("tasks", "state") else "NULL"
            async with conn.execute(
                f"SELECT r.from_task, r.to_task, r.relation, {state} FROM task_relations r "
                "LEFT JOIN tasks t ON t.id = r.to_task WHERE r.from_task = ? OR r.to_task = ?",
                (task_id, task_id),
            ) as cur:
                rels = await cur.fetchall()
            relations = tuple(Relation(_int(a), _int(b), _str(c)) for a, b, c, _ in rels)
            deps_states = [(_int(b), _str(s, "closed")) for a, b, c, s in rels
                           if _int(a) == task_id and c == "depends_on"]
        return d, links, history, relations, deps_states

    async def _usage_of(self, session_id: str, *, read: bool = True) -> tuple[int, float, bool]:
        """Tokens and cost of a session, reading only messages newer than last time,
        and at most one chunk of them: (tokens, cost, complete).

        A 100k-message session takes about half a second to sum; a screen must
        not wait for that. An incomplete sum is marked pending and `count_usage`
        finishes it a chunk at a time, between the reads the screen asks for.
        """
        conn = self._tau
        assert conn is not None
        st = self._msg_stats.get(session_id)
        if st is None or not self._messages_ok():  # no messages (the stats are current)
            self._usage_pending.discard(session_id)
            return 0, 0.0, True
        u = self._usage.setdefault(session_id, _Usage())
        if st.max_id <= u.max_id:
            self._usage_pending.discard(session_id)
            return u.tokens, u.cost, True
        if not read:  # this read's budget is spent: what is summed so far
            self._usage_pending.add(session_id)
            return u.tokens, u.cost, False
        async with conn.execute(
            "SELECT id, message_json FROM messages WHERE session_id = ? AND id > ? AND id <= ? "
            "AND message_json LIKE '%\"usage\"%' ORDER BY id LIMIT ?",
            # no further than the counts: no double sums
            (session_id, u.max_id, st.max_id, USAGE_CHUNK),
        ) as cur:
            rows = await cur.fetchall()
        for _mid, raw in rows:
            try:
                obj = json.loads(raw)
            except (ValueError, TypeError, RecursionError):
                continue
            if isinstance(obj, dict) and obj.get("role") == "assistant":
                tokens, cost = usage_of(obj)
                u.tokens += tokens
                u.cost += cost
        complete = len(rows) < USAGE_CHUNK
        u.max_id = st.max_id if complete else _int(rows[-1][0])
        if complete:
            self._usage_pending.discard(session_id)
        else:
            self._usage_pending.add(session_id)
        return u.tokens, u.cost, complete

    def usage_pending(self) -> bool:
        """Whether some session's token and cost sums are still being counted."""
        return bool(self._usage_pending)

    async def count_usage(self) -> bool:
        """Sum one more chunk of a pending session's usage; True while more remain.

        Each chunk takes the store's lock briefly, so a change the screen must
        show waits for one chunk at most, never for the whole count.
        """
        async with self._lock:
            if not self._usage_pending:
                return False
            if self._tau is None:
                self._usage_pending.clear()
                return False
            sid = next(iter(self._usage_pending))
            try:
                await self._guarded("tau", lambda: self._usage_of(sid))
            except StoreError:
                self._usage_pending.clear()  # the next read marks them again
                return False
            return bool(self._usage_pending)

    async def _newest(self, session_id: str, n: int) -> tuple[Message, ...]:
        conn = self._tau
        assert conn is not None
        if not self._messages_ok():
            return ()
        async with conn.execute(
            f"SELECT id, {self._msg_created()}, message_json FROM messages WHERE session_id = ? "
            "ORDER BY id DESC LIMIT ?", (session_id, n),
        ) as cur:
            rows = await cur.fetchall()
        return tuple(decode_message(r[0], session_id, r[1], r[2]) for r in reversed(rows))

    # --- one session ---------------------------------------------------------------------------

    async def read_transcript(self, session_id: str, *, limit: int = 200,
                              before_id: int | None = None, after_id: int | None = None) -> Transcript:
        """A page of a session's messages, in order.

        Default: the newest ``limit``. ``before_id``: the page just older than that
        id (scrolling back). ``after_id``: everything newer (following along).
        Pages go by id through the session_id index, so a 100k-message session
        opens as fast as a small one.
        """
        async with self._lock:
            await self._ensure_open()
            server_up = server_pid(self.runtime_dir) is not None
            if self._tau is None:
                failure = self._unavailable("tau")
                if failure is not None:
                    raise failure
                header = SessionHeader(id=session_id, tagline="", model="", archived=False,
                                       last_phase=None, last_exit_status=None, is_live=False,
                                       created_at=0, message_count=0, tokens=0, cost=0.0, gone=True)
                return Transcript(header=header, messages=(), has_older=False)

            async def work():  # type: ignore[no-untyped-def]
                await self._refresh_tau_inner(frozenset((session_id,)))
                conn = self._tau
                assert conn is not None
                if not self._messages_ok():
                    return (), False, 0, 0.0, True
                cols = f"SELECT id, {self._msg_created()}, message_json FROM messages "
                if after_id is not None:
                    sql = cols + "WHERE session_id = ? AND id > ? ORDER BY id LIMIT ?"
                    args: tuple = (session_id, after_id, max(limit, 1000))
                elif before_id is not None:
                    sql = cols + "WHERE session_id = ? AND id < ? ORDER BY id DESC LIMIT ?"
                    args = (session_id, before_id, limit + 1)
                else:
                    sql = cols + "WHERE session_id = ? ORDER BY id DESC LIMIT ?"
                    args = (session_id, limit + 1)
                async with conn.execute(sql, args) as cur:
                    rows = await cur.fetchall()
                has_older = False
                if after_id is None:
                    has_older = len(rows) > limit
                    rows = list(reversed(rows[:limit]))
                msgs = tuple(decode_message(r[0], session_id, r[1], r[2]) for r in rows)
                tokens, cost, counted = await self._usage_of(session_id)
                return msgs, has_older, tokens, cost, counted

            msgs, has_older, tokens, cost, counted = await self._guarded("tau", work)
            row = self._sessions.get(session_id)
            st = self._msg_stats.get(session_id)
            header = SessionHeader(
                id=session_id,
                tagline=row.tagline if row else "",
                model=row.model if row else "",
                archived=row.archived if row else False,
                last_phase=row.last_phase if row else None,
                last_exit_status=row.last_exit_status if row else None,
                is_live=bool(server_up and row and row.last_phase and row.last_phase != "idle"),
                created_at=row.created_at if row else 0,
                message_count=st.count if st else 0,
                tokens=tokens, cost=cost, usage_complete=counted, gone=row is None,
            )
            return Transcript(header=header, messages=msgs, has_older=has_older)
