"""Reading tau's store: two SQLite files, read-only, through aiosqlite.

`Store` is the one object the app talks to: it serialises reads with one lock
and composes the parts in `tui.tau` (connections, fleet model, usage sums,
task and transcript reads, and the merge with the liveness source). It never
writes: connections are opened with ``mode=ro`` and ``PRAGMA query_only``.
Reads are incremental where the store allows it (messages by id, the
per-session counts kept in memory), so a change costs what changed, not what
the store holds.

Schema variants are found with ``PRAGMA table_info`` at open: a column a later
migration added may be missing (read as NULL), and an older tasks.db has
``project`` for ``project_name`` and no ``task_sessions`` (said in a notice).
"""

from __future__ import annotations

import asyncio
import sys
import time
import types
from pathlib import Path

import aiosqlite

from .liveness import server_pid
from .model import LiveSource, StoreStatus, TaskDetail, TaskListSnapshot, Transcript
from .tau import db as _db_mod
from .tau import decode as _decode_mod
from .tau import fleet_sessions as _sessions_mod
from .tau import fleet_tasks as _tasks_mod
from .tau import task_read as _task_read_mod
from .tau import usage as _usage_mod
from .tau.db import Connections, Which
from .tau.decode import decode_message
from .tau.errors import StoreError, describe_error
from .tau.fleet import FleetModel
from .tau.merge import Liveness, PidLiveness
from .tau.task_read import TaskReader
from .tau.transcript_read import TranscriptReader
from .tau.usage import UsageSums

__all__ = ["Store", "StoreError", "decode_message", "describe_error"]


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
        self._lock = asyncio.Lock()
        self._db = Connections(self.data_dir, on_forget=self._forget, on_relearn=self._relearned)
        self.tasks_path = self._db.tasks.path
        self.tau_path = self._db.tau.path
        self._usage = UsageSums()
        self._fleet = FleetModel(self._db, self._usage)
        self._transcripts = TranscriptReader(self._db, self._fleet, self._usage)
        self._task_reader = TaskReader(self._db, self._fleet, self._usage, self._transcripts)

    def _forget(self, which: Which) -> None:
        self._fleet.forget(which)

    def _relearned(self, which: Which) -> None:
        self._fleet.relearned(which)

    def _liveness(self) -> Liveness:
        """The liveness source for one read: every is_live and shown phase of
        that read's snapshots comes from this one object (see tui.tau.merge)."""
        return PidLiveness(server_up=server_pid(self.runtime_dir) is not None)

    @property
    def _tasks(self) -> aiosqlite.Connection | None:
        return self._db.tasks.conn

    @property
    def _tau(self) -> aiosqlite.Connection | None:
        return self._db.tau.conn

    # --- connections and status ----------------------------------------------------

    async def open(self) -> None:
        """Open whatever of the two files can be opened now; note the rest."""
        async with self._lock:
            await self._db.ensure_open()

    async def close(self) -> None:
        async with self._lock:
            await self._db.close()

    async def data_versions(self) -> tuple[int | None, int | None]:
        """A version of each file that moves whenever its data may have; an
        unchanged pair means nothing to re-read; None: the file cannot be read
        (see `Connections.data_versions`)."""
        async with self._lock:
            await self._db.ensure_open()
            return await self._db.data_versions()

    def status(self) -> StoreStatus:
        """Liveness source and what is wrong with the store, for the status line."""
        pid = server_pid(self.runtime_dir)
        notices, error = self._db.report()
        return StoreStatus(
            data_dir=str(self.data_dir),
            live_source=LiveSource.PID if pid else LiveSource.NONE,
            server_pid=pid,
            notices=notices,
            error=error,
        )

    # --- reads -----------------------------------------------------------------------

    async def read_task_list(self) -> TaskListSnapshot:
        """Every task with its session counts, busiest live phase and last activity.

        Rows of tasks whose inputs did not change are the same objects as last
        time, so the screen can skip them with an identity check.
        """
        async with self._lock:
            db = self._db
            await db.ensure_open()
            liveness = self._liveness()
            if db.tasks.conn is None:
                failure = db.unavailable("tasks")
                if failure is not None and (db.listed or "tasks" in db.busy):
                    raise failure
                # Nothing to show yet: say why (the status names the path).
                return TaskListSnapshot(tasks=(), status=self.status(), taken_at=time.time())
            await self._fleet.refresh_tasks()
            await self._fleet.refresh_tau()
            db.listed = True
            tasks = self._fleet.task_rows(liveness)
            return TaskListSnapshot(tasks=tasks, status=self.status(), taken_at=time.time())

    async def read_task(self, task_id: int, *, recent: int = 3,
                        include_archived: bool = True) -> TaskDetail | None:
        """One task: fields, history, relations, and a pane per session (with
        the newest ``recent`` messages of live ones)."""
        async with self._lock:
            await self._db.ensure_open()
            return await self._task_reader.read(task_id, self._liveness(), recent=recent,
                                                include_archived=include_archived)

    async def read_transcript(self, session_id: str, *, limit: int = 200,
                              before_id: int | None = None, after_id: int | None = None) -> Transcript:
        """A page of a session's messages, in order.

        Default: the newest ``limit``. ``before_id``: the page just older than that
        id (scrolling back). ``after_id``: everything newer (following along).
        Pages go by id through the session_id index, so a 100k-message session
        opens as fast as a small one.
        """
        async with self._lock:
            await self._db.ensure_open()
            return await self._transcripts.read(session_id, self._liveness(), limit=limit,
                                                before_id=before_id, after_id=after_id)

    def usage_pending(self) -> bool:
        """Whether some session's token and cost sums are still being counted."""
        return bool(self._usage.pending)

    async def count_usage(self) -> bool:
        """Sum one more chunk of a pending session's usage; True while more remain.

        Each chunk takes the store's lock briefly, so a change the screen must
        show waits for one chunk at most, never for the whole count.
        """
        async with self._lock:
            return await self._usage.count_next(self._db, self._fleet.sessions.stats)


# --- the old module constants ----------------------------------------------------------
#
# The tuning constants moved to the tui.tau module that uses them. Until every
# caller names the new home (tests patch ``tui.store.USAGE_CHUNK``, ``SWEEP_SECONDS``,
# ``SWEEP_SLICE`` and ``RELEVANT_FINISHED``), reading or setting one here reads
# or sets it there, so a patch still takes effect. Remove once nothing uses them.

_MOVED: dict[str, types.ModuleType] = {
    "USAGE_CHUNK": _usage_mod, "USAGE_BUDGET_S": _usage_mod,
    "SWEEP_SECONDS": _sessions_mod, "SWEEP_SLICE": _sessions_mod, "CHUNK": _sessions_mod,
    "RELEVANT_FINISHED": _tasks_mod, "EXTRA_TASK_FIELDS": _task_read_mod,
    "MESSAGE_TEXT_LIMIT": _decode_mod, "BUSY_TIMEOUT_MS": _db_mod,
}


def _forward(module: types.ModuleType, name: str) -> property:
    return property(lambda _self: getattr(module, name),
                    lambda _self, value: setattr(module, name, value))


class _StoreModule(types.ModuleType):
    """tui.store's module type: the names in `_MOVED` forward to their new home."""


for _name, _module in _MOVED.items():
    setattr(_StoreModule, _name, _forward(_module, _name))
sys.modules[__name__].__class__ = _StoreModule
