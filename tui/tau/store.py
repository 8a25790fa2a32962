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
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import aiosqlite

from ..model.snapshots import StoreStatus, TaskDetail, TaskListSnapshot, TaskRow, Transcript
from .db import Connections, Which
from .decode import decode_message
from .errors import StoreError, describe_error
from .fleet import FleetModel
from .fleet_sessions import SessionTable
from .live import LiveTracker
from .loose import LooseSessions
from .merge import ServerLiveness
from .overview import WAITING_STATES, ProjectVersions, WaitReasons
from .paths import SOCKET
from .queued import QueuedMessages
from .task_read import TaskReader
from .transcript_read import TranscriptReader
from .usage import UsageSums

__all__ = ["Store", "StoreError", "decode_message", "describe_error"]

#: How long the first read waits for tau's server to answer its subscribes (s).
FIRST_ANSWER_WAIT_S = 0.5


class Store:
    """Read-only access to one tau data directory.

    Usage: ``await store.open()``, then the ``read_*`` coroutines, then
    ``await store.close()`` (an unclosed aiosqlite connection hangs exit).
    Files that are missing or unreadable are reported in ``status`` and retried
    on the next read, so the store can appear, vanish and come back.
    """

    def __init__(self, data_dir: Path, runtime_dir: Path | None = None, *,
                 socket: Path | Callable[[], Path | None] | None = None) -> None:
        """``runtime_dir``: where tau's socket is; ``socket`` instead, a path or
        a function that finds it (a per-process runtime dir moves with each
        server start). Neither: no server is asked, nothing is live."""
        self.data_dir = Path(data_dir)
        self.runtime_dir = runtime_dir
        if socket is None and runtime_dir is not None:
            socket = Path(runtime_dir) / SOCKET
        #: The live truth: tau's server, over its socket (TAU.md §5, §7).
        self.live = LiveTracker(socket)
        #: Messages waiting for a session's next turn (tau.db's queued_messages).
        self.queued = QueuedMessages()
        self._live_seen = 0
        self._settled = False  # the first read waited for the server's first answers
        self._lock = asyncio.Lock()
        self._db = Connections(self.data_dir, on_forget=self._forget, on_relearn=self._relearned)
        self.tasks_path = self._db.tasks.path
        self.tau_path = self._db.tau.path
        self._usage = UsageSums()
        self._fleet = FleetModel(self._db, self._usage, on_tau_read=self._ask_server)
        #: Sessions on no kept task that may be live (a side scan, every 30 s).
        self._loose = LooseSessions(self.tau_path, self._loose_found)
        self._transcripts = TranscriptReader(self._db, self._fleet, self._usage)
        #: Why queued tasks wait, from tau's scheduler; asked only while no
        #: transcript is open (the screens that show it are).
        self._waits = WaitReasons(lambda: self.live.socket_path if self.live.up else None,
                                  self.live.changes.poke)
        self._waits_on = True
        self._versions = ProjectVersions()
        self._with_waits: dict[int, tuple[TaskRow, tuple[str, ...], TaskRow]] = {}
        self._list_seq = 0  # the number of the last task list handed out
        self._task_reader = TaskReader(self._db, self._fleet, self._usage, self._transcripts)

    def _forget(self, which: Which) -> None:
        self._fleet.forget(which)
        if which == "tau":
            self.queued.forget()

    def _relearned(self, which: Which) -> None:
        self._fleet.relearned(which)

    async def _ask_server(self, sessions: SessionTable) -> None:
        """After each read of tau.db: the sessions the disk says may be live
        are the ones the tracker subscribes to. The first read gives the server
        a moment to answer, so that the first screen shows the truth rather than
        correcting itself a moment later; later reads never wait for it (its
        answer arrives as a change of its own)."""
        if sessions.untracked:
            self._loose.check(sessions.untracked)
            sessions.untracked.clear()
        for sid in await self.queued.refresh(self._db.tau, sessions.dv):
            self._fleet.tasks.mark_session(sid)
        self.live.want(*self._candidates(sessions), commit=sessions.dv)
        if not self._settled:
            self._settled = True
            await self.live.settle(FIRST_ANSWER_WAIT_S)

    def _loose_found(self) -> None:
        """The side scan found sessions to ask about: ask, without a read."""
        if self._settled:
            self.live.want(*self._candidates(self._fleet.sessions))

    def _candidates(self, sessions: SessionTable) -> tuple[dict[str, tuple[object, ...]], list[str],
                                                            dict[str, int]]:
        """The sessions the disk says may be live: the fleet's, then the side
        scan's; and each one's newest message (ms: how long tau's Idle holds
        its subscription, see tui.tau.holds)."""
        stamps, order = sessions.candidates()
        for sid, phase in self._loose.found.items():
            if sid not in stamps and sid not in sessions.rows:
                stamps[sid] = (phase, 0, 0)
                order.append(sid)
        stats, seen = sessions.stats, sessions.newest
        newest = {sid: max(stats[sid].last_created if sid in stats else 0, seen.get(sid, 0))
                  for sid in stamps}
        return stamps, order, newest

    def _liveness(self) -> ServerLiveness:
        """The liveness source for one read, taken after the disk was read
        (every is_live and shown phase of its snapshots comes from it, see
        tui.tau.merge). Sessions whose live state changed since the last read
        are marked, so only their tasks' rows are built again."""
        live = self.live
        changed = live.changed_since(self._live_seen)
        self._live_seen = live.version
        if changed:
            for sid in changed:
                self._fleet.tasks.mark_session(sid)
        return ServerLiveness(up=live.up, epoch=live.epoch, tracker=live, queue=self.queued)

    @property
    def _tasks(self) -> aiosqlite.Connection | None:
        return self._db.tasks.conn

    @property
    def _tau(self) -> aiosqlite.Connection | None:
        return self._db.tau.conn

    # --- connections and status ----------------------------------------------------

    async def open(self) -> None:
        """Open whatever of the two files can be opened now; note the rest;
        start asking tau's server."""
        await self.live.start()
        self._loose.start()
        async with self._lock:
            await self._db.ensure_open()

    async def close(self) -> None:
        await self.live.stop()
        await self._waits.stop()
        await self._loose.stop()
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
        """Where liveness comes from and what is wrong with the store, for the status line."""
        notices, error = self._db.report()
        return StoreStatus(data_dir=str(self.data_dir), server=self.live.view(),
                           notices=notices, error=error, limits=self.live.limits())

    # --- reads -----------------------------------------------------------------------

    async def read_task_list(self) -> TaskListSnapshot:
        """Every task with its session counts, busiest live phase and last activity.

        Rows of tasks whose inputs did not change are the same objects as last
        time, so the screen can skip them with an identity check.
        """
        async with self._lock:
            db = self._db
            await db.ensure_open()
            if db.tasks.conn is None:
                failure = db.unavailable("tasks")
                if failure is not None and (db.listed or "tasks" in db.busy):
                    raise failure
                # Nothing to show yet: say why (the status names the path).
                return TaskListSnapshot(tasks=(), status=self.status(), taken_at=time.time())
            await self._fleet.refresh_tasks()
            await self._fleet.refresh_tau()
            db.listed = True
            liveness = self._liveness()
            tasks = self._fleet.task_rows(liveness, self._list_waits())
            self._ask_waits()
            self._list_seq += 1
            return TaskListSnapshot(tasks=tasks, status=self.status(), taken_at=time.time(),
                                    live_sessions=self.live.live_count() if liveness.up else 0,
                                    seq=self._list_seq, delta=self._fleet.delta)

    async def read_task(self, task_id: int, *, recent: int = 3, include_archived: bool = True,
                        ask_waits: bool = True) -> TaskDetail | None:
        """One task: fields, history, relations, and a pane per session (with
        the newest ``recent`` messages of live ones). ``ask_waits=False``: the
        wait reasons already known, tau not asked (the list's detail line: the
        list asks for its own)."""
        async with self._lock:
            await self._db.ensure_open()
            detail = await self._task_reader.read(task_id, self._liveness(), recent=recent,
                                                  include_archived=include_archived)
            if detail is None:
                return None
            tasks_version = (await self._db.data_versions())[0]
            row = self._add_waits((detail.task,), tasks_version, ask=ask_waits)[0]
            return detail if row is detail.task else replace(detail, task=row)

    async def read_transcript(self, session_id: str, *, limit: int = 200,
                              before_id: int | None = None, after_id: int | None = None) -> Transcript:
        """A page of a session's messages, in order.

        Default: the newest ``limit``. ``before_id``: the page just older than that
        id (scrolling back). ``after_id``: everything newer (following along).
        Pages go by id through the session_id index, so a 100k-message session
        opens as fast as a small one. A newest or following read also carries
        the turn streaming now (what tau's server sends and has not stored).
        """
        async with self._lock:
            await self._db.ensure_open()
            page = await self._transcripts.read(session_id, self._liveness(), limit=limit,
                                                before_id=before_id, after_id=after_id)
            if before_id is not None:
                return page
            queued = ()
            if self.queued.of(session_id)[0] and self._db.tau.conn is not None:
                queued = await self._db.guarded("tau", lambda: self.queued.messages(
                    self._db.tau.conn, self._db.tau, session_id))
            return replace(page, live=self.live.turn(session_id, page.messages), queued=queued,
                           steered=self.live.steered(session_id))

    def focus(self, session_id: str | None) -> None:
        """The session whose transcript is on screen (None: none): its turn is
        gathered as it streams, and carried by `read_transcript`. With none,
        the task screens are shown, and tau's wait reasons are asked."""
        self.live.focus(session_id)
        self._waits_on = session_id is None

    def _list_waits(self) -> dict[int, tuple[str, ...]]:
        """tau's wait reasons for the whole list; the tasks whose reasons
        changed are marked, so only their rows are built again."""
        waits = self._waits
        if not self.live.up:
            waits.forget()
        changed = waits.take_changed()
        if changed:
            self._fleet.marks.mark_many(changed)
        return waits.reasons()

    def _ask_waits(self) -> None:
        """Ask tau's scheduler again for the projects whose tasks changed (per
        `ProjectVersions`: the cost follows the change, not the list)."""
        if self.live.up and self._waits_on:
            fleet = self._fleet
            every = self._versions.update(fleet.row_map(), fleet.rebuilt, fleet.tasks.deps)
            self._waits.want({p: every.get(p, 0) for p, n in fleet.waiting.items() if n > 0})

    def _add_waits(self, rows: tuple[TaskRow, ...], version: object, *,
                   ask: bool = True) -> tuple[TaskRow, ...]:
        """One task's screen: its row with tau's wait reasons (asked when
        tasks.db moved, within the rate); a row is the same object while its
        reasons are."""
        live = self.live
        if not live.up:
            self._waits.forget()
            return rows
        if self._waits_on and ask:
            projects = {r.project for r in rows if r.state in WAITING_STATES}
            self._waits.want({p: ("dv", version) for p in projects})
        reasons = self._waits.reasons()
        out = []
        for row in rows:
            why = reasons.get(row.id, ())
            if not why:
                out.append(row)
                continue
            seen = self._with_waits.get(row.id)
            if seen is None or seen[0] is not row or seen[1] != why:
                seen = (row, why, replace(row, waits=why))
                self._with_waits[row.id] = seen
            out.append(seen[2])
        return tuple(out)

    def first_screen_first(self) -> None:
        """Read a large store's first screen first, the rest after it: for a
        reader that then calls `count_usage` until it says done (the app)."""
        self._fleet.tasks.first_screen_first = True

    def first_screen_pending(self) -> bool:
        """The links of long-finished tasks are still being read (`count_usage`):
        their rows do not say all yet (a feed holds them back until they do)."""
        return self._fleet.tasks.links_pending()

    def usage_pending(self) -> bool:
        """Whether some session's token and cost sums are still being counted,
        or the links of long-finished tasks still read (the first screen of a
        large store did without them)."""
        tasks = self._fleet.tasks
        return bool(self._usage.pending) or tasks.links_pending() or tasks.relevant_pending()

    async def count_usage(self) -> bool:
        """Read one more chunk of what the first screen did without (the links
        of long-finished tasks, the sessions of the queued ones), else sum one
        more chunk of a pending session's usage; True while more remain.

        Each chunk takes the store's lock briefly, so a change the screen must
        show waits for one chunk at most, never for the whole count.
        """
        async with self._lock:
            tasks = self._fleet.tasks
            if tasks.links_pending():
                if self._db.tasks.conn is None:
                    return False  # (the file went away: what was read is forgotten)
                await self._db.guarded("tasks", lambda: tasks.fill_links(self._db.tasks))
                self.live.changes.poke()  # their rows say more now: a read of its own each
                return True
            if tasks.relevant_pending():  # the sessions of the groups below the first screen
                await self._fleet.refresh_tau(frozenset(tasks.count_deferred()))
                self.live.changes.poke()
                return True
            return await self._usage.count_next(self._db, self._fleet.sessions.stats)
