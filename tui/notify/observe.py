"""A plain picture of the fleet for the engine and the scripts.

Taken from the store's own fleet model (the same incremental reads, the same
tracker and the same `tui.tau.merge.session_info` the screens use), so a
notification, a ``watch`` line and a row on screen never disagree. It does
not go through ``Store.read_task_list``: that read also tells the tracker which
transcript is open (it closes the open one's stream) and takes the live
changes the screen's next read needs; a picture must have no side effects on
what the operator sees. Pure values: the engine compares two pictures.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import aiosqlite

from ..model.snapshots import TaskSessionInfo
from ..tau.store import Store
from ..tau.db import data_version
from ..tau.decode import as_int, as_str
from ..tau.merge import ServerLiveness, session_info


@dataclass(frozen=True, slots=True)
class SessionState:
    task_id: int
    info: TaskSessionInfo
    #: s: the newest sign of life: a message, a phase change, a streamed event.
    last_event: float | None
    #: Where the phase comes from: "server", "pending" (asked, no answer yet), "disk".
    phase_source: str = "disk"
    #: ``sessions.last_phase`` as read (None: never written, or not read): a
    #: run's end is this going from another value to ``idle`` (TAU.md §5.1).
    disk_phase: str | None = None


@dataclass(frozen=True, slots=True)
class TaskState:
    id: int
    title: str
    state: str
    project: str
    priority: int
    updated_at: int  # ms
    #: require_approval is set and the task is approved: the merge waits for the operator.
    awaits_approval: bool = False


@dataclass(frozen=True, slots=True)
class FleetState:
    taken_at: float  # s
    server_up: bool
    server_detail: str
    tasks: dict[int, TaskState] = field(default_factory=dict)
    #: (task id, session id) → its state; a session on two tasks appears twice.
    sessions: dict[tuple[int, str], SessionState] = field(default_factory=dict)
    #: False: tasks.db could not be read this time (the picture holds no tasks).
    readable: bool = True
    #: The picture's number, from its observer (0: not from a chain of pictures).
    seq: int = 0
    #: What may differ from picture ``seq - 1`` of the same observer: the tasks
    #: and the sessions on them (None: anything may).
    changed_tasks: frozenset[int] | None = None
    changed_sessions: frozenset[str] | None = None
    #: Each session once (the entry of the lowest-numbered task holding it),
    #: kept by the observer from picture to picture (None: the engine makes it).
    by_session: dict[str, SessionState] | None = None
    #: The keys of ``sessions`` that may be live, and those that may have a
    #: queued message: supersets the engine's stall and queue rules look at
    #: instead of every entry (None: every entry).
    maybe_live: frozenset[tuple[int, str]] | None = None
    maybe_queued: frozenset[tuple[int, str]] | None = None


class Observer:
    """Takes pictures of one store. A picture of the whole fleet is built again
    only where something changed: the tasks the fleet model marked (from a tap
    of its marks, so the screen's own are not taken), those of sessions whose
    live state changed, and those of live sessions whose last streamed event
    moved (that moves without a mark). On a large store that is a few entries
    of 18,000; with nothing streaming, none, and the picture shares the last
    one's dicts. The picture also says which entries may be live or have a
    queued message, and each session once, so that the engine's step costs
    what changed too (a walk over every entry was ~4 ms on a large store)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._tasks: dict[int, tuple[tuple, bool, TaskState]] = {}
        self._approval: frozenset[int] = frozenset()
        self._approval_dv: int | None = None
        self._marks = store._fleet.marks.tap()  # noqa: SLF001 - the facade's own model
        self._seq = 0
        self._live_seen = -1
        self._lv_key: tuple[bool, int, bool] | None = None
        #: The last whole picture's entries, and each task's session keys.
        self._pic_tasks: dict[int, TaskState] = {}
        self._pic_sessions: dict[tuple[int, str], SessionState] = {}
        self._keys: dict[int, list[tuple[int, str]]] = {}
        #: Keys whose entry is rebuilt on every picture: live, or asked and not answered.
        self._moving: set[tuple[int, str]] = set()
        #: Keys whose entry has a queued message; each session's entry (see
        #: `FleetState.by_session`).
        self._queued: set[tuple[int, str]] = set()
        self._by_sid: dict[str, SessionState] = {}

    async def take(self, task_ids: Iterable[int] | None = None, *,
                   every_session: bool = False) -> FleetState:
        """One picture. ``task_ids``: only these tasks (read by key; the picture
        is not part of the chain). ``every_session``: also the sessions of
        long-finished tasks (the fleet model keeps only the unfinished and
        recent ones current), for ``list``; else sessions tau.db was not read
        for are left out (they cannot change)."""
        store = self.store
        fleet = store._fleet  # noqa: SLF001 - the facade's own model, read under its lock
        wanted = None if task_ids is None else set(task_ids)
        async with store._lock:  # noqa: SLF001
            db = store._db  # noqa: SLF001
            await db.ensure_open()
            if db.tasks.conn is None:
                failure = db.unavailable("tasks")
                if failure is not None:
                    raise failure
                return self._empty(readable=False)
            if wanted is not None:
                # A few tasks asked for by id: read those by key, not the store.
                await fleet.read_some_tasks(wanted)
                await fleet.refresh_tau(frozenset(fleet.tasks.relevant))
            else:
                await fleet.refresh_tasks()
                await fleet.refresh_tau()
                if every_session:
                    tables = fleet.tasks
                    missing = frozenset(sid for links in tables.links.values() for sid, _, _ in links
                                        if sid not in fleet.sessions.rows)
                    if missing:
                        await fleet.refresh_tau(missing)
            approval = self._approval
            await self._read_approval(db.tasks.conn, db.tasks.schema)
        live = store.live
        lv = ServerLiveness(up=live.up, epoch=live.epoch, tracker=live, queue=store.queued)
        view = live.view()
        if wanted is not None:
            self._marks.take()
            self._lv_key = None  # the next whole picture starts afresh
            tasks, sessions = self._build([t for t in fleet.tasks.rows if t in wanted], lv, True)
            return FleetState(taken_at=time.time(), server_up=view.up, server_detail=view.detail,
                              tasks=tasks, sessions=sessions)
        dirty = self._dirty(lv, approval, every_session)
        rows = fleet.tasks.rows
        by_sid = self._by_sid
        if dirty is None:
            self._keys, self._moving, self._queued = {}, set(), set()
            tasks, sessions = self._build(list(rows), lv, every_session)
            by_sid = {}
            for (tid, sid), entry in sessions.items():
                had = by_sid.get(sid)
                if had is None or tid < had.task_id:
                    by_sid[sid] = entry
            changed_t: frozenset[int] | None = None
            changed_s: frozenset[str] | None = None
        elif not dirty:  # nothing moved: the last picture's dicts, shared (never changed in place)
            tasks, sessions = self._pic_tasks, self._pic_sessions
            changed_t = changed_s = frozenset()
        else:
            tasks, sessions = dict(self._pic_tasks), dict(self._pic_sessions)
            old_keys = [k for tid in dirty for k in self._keys.pop(tid, ())]
            for k in old_keys:
                sessions.pop(k, None)
                self._moving.discard(k)
                self._queued.discard(k)
            for tid in dirty:
                tasks.pop(tid, None)
            fresh_t, fresh_s = self._build([t for t in dirty if t in rows], lv, every_session)
            tasks.update(fresh_t)
            sessions.update(fresh_s)
            changed_t = frozenset(dirty)
            changed_s = frozenset(sid for _, sid in old_keys) | frozenset(sid for _, sid in fresh_s)
            by_sid = self._each_session(changed_s, sessions, fresh_s)
        self._pic_tasks, self._pic_sessions, self._by_sid = tasks, sessions, by_sid
        self._seq += 1
        return FleetState(taken_at=time.time(), server_up=view.up, server_detail=view.detail,
                          tasks=tasks, sessions=sessions, seq=self._seq,
                          changed_tasks=changed_t, changed_sessions=changed_s, by_session=by_sid,
                          maybe_live=frozenset(self._moving), maybe_queued=frozenset(self._queued))

    def _each_session(self, changed: frozenset[str], sessions: dict[tuple[int, str], SessionState],
                      fresh: dict[tuple[int, str], SessionState]) -> dict[str, SessionState]:
        """`FleetState.by_session` after these sessions' entries changed: a new
        dict (the last picture keeps its own). A session's entries are looked
        for on the tasks holding it, the rebuilt ones and its last entry's."""
        by_sid = dict(self._by_sid)
        holders = self.store._fleet.tasks.session_tasks  # noqa: SLF001
        tids: dict[str, set[int]] = {}
        for tid, sid in fresh:
            tids.setdefault(sid, set()).add(tid)
        for sid in changed:
            near = tids.get(sid, set()) | set(holders.get(sid, ()))
            had = by_sid.pop(sid, None)
            if had is not None:
                near.add(had.task_id)
            for tid in sorted(near):
                entry = sessions.get((tid, sid))
                if entry is not None:
                    by_sid[sid] = entry
                    break
        return by_sid

    def _dirty(self, lv: ServerLiveness, approval_before: frozenset[int],
               every_session: bool) -> set[int] | None:
        """The tasks whose entries may have changed since the last whole picture (None: all)."""
        marks = self._marks.take()
        live = self.store.live
        changed = live.changed_since(self._live_seen)
        self._live_seen = live.version
        key = (lv.up, lv.epoch, every_session)
        if marks is None or changed is None or key != self._lv_key:
            self._lv_key = key
            return None
        session_tasks = self.store._fleet.tasks.session_tasks  # noqa: SLF001
        for sid in changed:
            marks.update(session_tasks.get(sid, ()))
        # A live session's newest streamed event moves without a note in the
        # change log: its task is rebuilt when that (or its phase's source) moved.
        marks.update(tid for tid, sid in self._moving if self._moved(tid, sid, lv))
        marks.update(approval_before ^ self._approval)
        return marks

    def _moved(self, tid: int, sid: str, lv: ServerLiveness) -> bool:
        """A live (or asked) session's entry differs from what the server says now."""
        entry = self._pic_sessions.get((tid, sid))
        return (entry is None or lv.source(sid) != entry.phase_source
                or _last_event(entry.info, lv) != entry.last_event)

    def _build(self, tids: list[int], lv: ServerLiveness, every_session: bool
               ) -> tuple[dict[int, TaskState], dict[tuple[int, str], SessionState]]:
        """The entries of these tasks and their sessions, kept as the last picture's."""
        fleet = self.store._fleet  # noqa: SLF001
        tables = fleet.tasks
        rows, stats = fleet.sessions.rows, fleet.sessions.stats
        tasks: dict[int, TaskState] = {}
        sessions: dict[tuple[int, str], SessionState] = {}
        for tid in tids:
            tasks[tid] = self._task(tid, tables.rows[tid])
            keys = self._keys.setdefault(tid, [])
            for sid, role, created in tables.links.get(tid, ()):
                row = rows.get(sid)
                if row is None and not every_session:
                    continue
                info = session_info(sid, role, created, row, stats.get(sid), lv)
                source = lv.source(sid)
                sessions[(tid, sid)] = SessionState(task_id=tid, info=info,
                                                    last_event=_last_event(info, lv),
                                                    phase_source=source,
                                                    disk_phase=row.last_phase if row is not None else None)
                keys.append((tid, sid))
                if info.is_live or source == "pending":
                    self._moving.add((tid, sid))
                if info.queued:
                    self._queued.add((tid, sid))
        return tasks, sessions

    def _empty(self, *, readable: bool) -> FleetState:
        view = self.store.live.view()
        return FleetState(taken_at=time.time(), server_up=view.up, server_detail=view.detail,
                          readable=readable)

    def _task(self, tid: int, r: tuple) -> TaskState:
        approval = tid in self._approval
        hit = self._tasks.get(tid)
        if hit is not None and hit[0] is r and hit[1] == approval:
            return hit[2]
        state = as_str(r[3], "?") or "?"
        t = TaskState(id=tid, title=as_str(r[2]), state=state, project=as_str(r[1]),
                      priority=as_int(r[4]), updated_at=as_int(r[8]),
                      awaits_approval=approval and state == "approved")
        self._tasks[tid] = (r, approval, t)
        return t

    async def _read_approval(self, conn: aiosqlite.Connection, schema: object) -> None:
        """The approved tasks with require_approval set (a few rows, read only
        when tasks.db moved; the fleet model does not keep that flag)."""
        if not schema.has("tasks", "require_approval", "state"):  # type: ignore[attr-defined]
            self._approval = frozenset()
            return
        dv = await data_version(conn)
        if dv == self._approval_dv:
            return
        async with conn.execute(
                "SELECT id FROM tasks WHERE state = 'approved' AND require_approval = 1") as cur:
            self._approval = frozenset(as_int(r[0]) for r in await cur.fetchall())
        self._approval_dv = dv


def _last_event(info: TaskSessionInfo, lv: ServerLiveness) -> float | None:
    """s: the newest message, the phase's start, the turn's start, the last
    streamed event, whichever is newest (None: no sign of life known)."""
    last = float(info.last_activity) if info.last_activity is not None else None
    detail = lv.detail(info.session_id) if info.is_live else None
    if detail is not None:
        for ms in (detail.phase_started_ms, detail.last_event_ms, detail.turn_started_ms):
            if ms:
                last = max(last or 0.0, ms / 1000)
    return last
