"""`RemoteSource`: one host's tau, answering what the app asks of `Store`.

The task list is held here (`Mirror`), kept current by the feed's deltas, so
reading it costs no round trip; a task's detail and a transcript's pages are
asked of the feed when the screen wants them, and answered by the remote
store's own reads. When the link fails the last good data stays, marked stale
with its age and the reason, and the link tries again by itself. A change
(a delta, a state of the link, the feed's events) calls the listeners added
with ``source.live.add_listener``, as the local tracker's do.

Beyond `Store`'s API: ``link_state`` (the host's state for the status line),
``add_event_listener`` (the remote engine's events, for the notifier),
``stalled`` (the remote stalled sessions, for the rows' marks), ``ping``.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..model.snapshots import ServerStatus, StoreStatus, TaskDetail, TaskListSnapshot, TaskRow, Transcript
from ..model.text import one_line
from ..notify.engine import Event, Stall
from ..tau.errors import StoreError
from . import clock as clocks
from .link import BACKOFF, HELLO_TIMEOUT, Link, LinkDown, LinkState
from .mirror import Inconsistent, Mirror
from .ssh import Transport
from .wire import (
    Beat, Delta, Done, Error, Events, FocusRequest, Hello, PingRequest, ResyncRequest, Snapshot, Stalls,
    TaskAnswer, TaskRequest, TranscriptAnswer, TranscriptRequest, dumps,
)

#: A request not answered in this long (s) fails: the screen keeps its last
#: good data, marked stale, and asks again at its next read (a stalled host
#: holds no screen up for longer; a page of a transcript is well under a MB).
REQUEST_TIMEOUT = 4.0
#: Requests waiting for their answers, at most.
MAX_PENDING = 32
EventListener = Callable[[tuple[Event, ...], int], None]


class RemoteLive:
    """What the app asks of ``store.live``: listeners, a version that moves on
    every change, ``up`` and ``poke``."""

    def __init__(self, source: RemoteSource) -> None:
        self._source = source
        self._listeners: list[Callable[[], None]] = []
        self.version = 0

    def add_listener(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def changed(self) -> None:
        self.version += 1
        for callback in self._listeners:
            callback()

    @property
    def up(self) -> bool:
        return self.view().up

    def view(self) -> ServerStatus:
        return self._source.status().server

    def poke(self) -> None:
        """Try the link now if it is waiting to reconnect."""
        self._source.link.retry_now()


class RemoteSource:
    def __init__(self, transport: Transport, *, request_timeout: float = REQUEST_TIMEOUT,
                 backoff: tuple[float, ...] = BACKOFF, hello_timeout: float = HELLO_TIMEOUT,
                 clock: Callable[[], float] = time.time) -> None:
        self.host = transport.host
        self.clock = clock
        self.request_timeout = request_timeout
        self.link = Link(transport, on_message=self._message, on_state=self._link_changed,
                         on_problem=self._problem, backoff=backoff, hello_timeout=hello_timeout, clock=clock)
        self.mirror = Mirror(self.host)
        self.live = RemoteLive(self)
        #: The remote engine's stalled sessions now (session id → stall), its clock.
        self._stalled: dict[str, Stall] = {}
        #: The last line from the feed that was not the wire (None: none).
        self.problem: str | None = None
        #: Remote clock minus local clock (s), from the feed's heartbeats and answers.
        self.clock_skew: float | None = None
        self.hello: Hello | None = None
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self._focus: str | None = None
        self._events: list[EventListener] = []
        self._generation = 0  # moves with each new connection
        self._resyncing = False  # a resync was asked; its snapshot has not come yet
        #: The rows on this clock: (the mirror's tuple, the shift) → its rows moved.
        self._moved: tuple[tuple[TaskRow, ...], int, tuple[TaskRow, ...]] = ((), 0, ())
        self._moved_rows: dict[int, tuple[TaskRow, int, TaskRow]] = {}

    # --- the Store API ---------------------------------------------------------------------

    @property
    def data_dir(self) -> str:
        """Where tau's data is on the host (as its feed said), for the status line."""
        return self.hello.data_dir if self.hello is not None else ""

    runtime_dir = None  # nothing here to watch: the feed watches on the host

    async def prestart(self) -> None:
        """Start the feed's process before the app is set up (`Link.prestart`)."""
        await self.link.prestart()

    async def open(self) -> None:
        """Start the link (it connects in the background; nothing here waits for it)."""
        self.link.start()

    async def close(self) -> None:
        await self.link.stop()
        self._fail_pending(f"{self.host}: closed")

    async def read_task_list(self) -> TaskListSnapshot:
        m = self.mirror
        return TaskListSnapshot(tasks=self._on_our_clock(m.tasks()), status=self.status(),
                                taken_at=self._local(m.at), live_sessions=m.live if self.link.state.connected else 0)

    async def read_task(self, task_id: int, *, recent: int = 3, include_archived: bool = True,
                        ask_waits: bool = True) -> TaskDetail | None:
        answer = await self._ask(TaskRequest(0, task_id, recent=recent, include_archived=include_archived,
                                             ask_waits=ask_waits))
        detail: TaskDetail | None = answer.task
        if detail is None:
            return None
        if self.shift:
            detail = clocks.detail(detail, self.shift)
        return replace(detail, task=replace(detail.task, host=self.host))

    async def read_transcript(self, session_id: str, *, limit: int = 200, before_id: int | None = None,
                              after_id: int | None = None) -> Transcript:
        answer = await self._ask(TranscriptRequest(0, session_id, limit=limit, before_id=before_id,
                                                   after_id=after_id))
        page: Transcript = answer.transcript
        return clocks.transcript(page, self.shift) if self.shift else page

    async def data_versions(self) -> tuple[int, int]:
        """Moves whenever the feed said the host's data may have changed, and
        with each new connection."""
        return (self.mirror.version, self._generation)

    def status(self) -> StoreStatus:
        """The host's store status as its feed said it, with the link's state:
        stale (``error``, ``stale_since``) while no feed answers."""
        m, state, now = self.mirror, self.link.state, self.clock()
        base = m.status or StoreStatus(data_dir="")
        if self.shift:
            base = clocks.status(base, self.shift)
        status = replace(base, data_dir=f"{self.host}:{base.data_dir or self.data_dir}")
        notices = list(status.notices)
        if self.problem:
            notices.append(self.problem)
        had_data = m.complete or bool(m.rows)
        if state.state == "lagging":
            notices.append(state.describe(now))
        elif state.state == "connecting" and not had_data:
            notices.append(f"{self.host}: connecting…")
        elif not state.connected:
            status = replace(status, error=state.describe(now),
                             stale_since=state.last_word_at if had_data else None,
                             server=ServerStatus("unreachable", f"{self.host}: its tau server is not "
                                                 f"known while the link is {state.state}"))
        return replace(status, notices=tuple(notices))

    def focus(self, session_id: str | None) -> None:
        """The session whose transcript is open: the feed gathers its stream."""
        if session_id != self._focus:
            self._focus = session_id
            self._send_focus()

    def usage_pending(self) -> bool:
        """The feed sums long sessions' usage itself and sends the rows when
        done: nothing to count here."""
        return False

    async def count_usage(self) -> bool:
        return False

    # --- beyond the Store API -----------------------------------------------------------------

    @property
    def link_state(self) -> LinkState:
        return self.link.state

    @property
    def shift(self) -> int:
        """Seconds the host's clock is ahead of this one (0: within a second, or not known)."""
        return clocks.shift_of(self.clock_skew)

    @property
    def stalled(self) -> dict[str, Stall]:
        """The remote engine's stalled sessions now (session id → stall), on this clock."""
        s = self.shift
        return {sid: clocks.stall(st, s) for sid, st in self._stalled.items()} if s else self._stalled

    def _on_our_clock(self, rows: tuple[TaskRow, ...]) -> tuple[TaskRow, ...]:
        """The host's rows with their times on this clock; the same objects
        while neither a row nor the shift moved (the screens skip them)."""
        s = self.shift
        if not s:
            return rows
        held, held_s, out = self._moved
        if rows is held and s == held_s:
            return out
        cache = self._moved_rows
        moved = []
        for r in rows:
            hit = cache.get(r.id)
            if hit is None or hit[0] is not r or hit[1] != s:
                hit = (r, s, clocks.row(r, s))
                cache[r.id] = hit
            moved.append(hit[2])
        if len(cache) > 2 * len(rows) + 64:  # tasks gone: forget theirs
            keep = {r.id for r in rows}
            self._moved_rows = {i: v for i, v in cache.items() if i in keep}
        out = tuple(moved)
        self._moved = (rows, s, out)
        return out

    def add_event_listener(self, callback: EventListener) -> None:
        """``callback(events, lost)`` for each batch of the remote engine's
        events (``lost``: dropped while the link was slow)."""
        self._events.append(callback)

    async def ping(self) -> float:
        """The round trip to the feed and back (s)."""
        started = time.perf_counter()
        await self._ask(PingRequest(0))
        return time.perf_counter() - started

    def _local(self, remote_at: float) -> float:
        return remote_at - (self.clock_skew or 0.0) if remote_at else 0.0

    # --- requests ---------------------------------------------------------------------------------

    async def _ask(self, request: Any) -> Any:
        state = self.link.state
        if state.state != "live":  # lagging or down: said at once, in the state line's words
            raise StoreError(state.describe(self.clock()))
        if len(self._pending) >= MAX_PENDING:
            raise StoreError(f"{self.host}: {MAX_PENDING} requests already waiting")
        rid = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[rid] = future
        try:
            self.link.send(dumps(replace(request, id=rid)))
            return await asyncio.wait_for(future, self.request_timeout)
        except LinkDown as exc:
            raise StoreError(str(exc)) from None
        except asyncio.TimeoutError:
            raise StoreError(f"{self.host} did not answer in {self.request_timeout:g} s "
                             f"(the last good data stays)") from None
        finally:
            self._pending.pop(rid, None)

    def _answered(self, rid: int | None, value: Any) -> None:
        future = self._pending.get(rid) if rid is not None else None
        if future is None or future.done():
            return
        if isinstance(value, Error):
            future.set_exception(StoreError(f"{self.host}: {one_line(value.error, 300)}"))
        else:
            future.set_result(value)

    def _fail_pending(self, reason: str) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(StoreError(reason))

    def _send_focus(self) -> None:
        if self.link.state.connected:
            try:
                self.link.send(dumps(FocusRequest(next(self._ids), self._focus)))
            except LinkDown:
                pass  # sent again with the next hello

    # --- what the feed says ----------------------------------------------------------------------

    def _message(self, msg: Any) -> None:
        if isinstance(msg, (Snapshot, Delta)):
            try:
                applied = self.mirror.apply(msg)
            except Inconsistent as exc:
                self.mirror.clear()
                if not self._resyncing:  # once, until the whole list has come
                    self._resyncing = True
                    self._problem(f"{self.host}: {exc}: asking for the whole list again")
                    try:
                        self.link.send(dumps(ResyncRequest(next(self._ids))))
                    except LinkDown:
                        pass
                return
            if isinstance(msg, Snapshot) and applied:
                self._resyncing = False
            if applied:
                self._skew(msg.at)
                self.live.changed()
        elif isinstance(msg, (TaskAnswer, TranscriptAnswer, Done, Error)):
            if isinstance(msg, Done):
                self._skew(msg.at)
            if isinstance(msg, Error) and msg.id is None:
                self._problem(f"{self.host}: {one_line(msg.error, 200)}")
            self._answered(msg.id, msg)
        elif isinstance(msg, Beat):
            self._skew(msg.at)
        elif isinstance(msg, Events):
            events = tuple(clocks.event(e, self.shift) for e in msg.events) if self.shift else msg.events
            for callback in self._events:
                callback(events, msg.lost)
            self.live.changed()
        elif isinstance(msg, Stalls):
            self._stalled = dict(msg.stalled)
            self.live.changed()
        elif isinstance(msg, Hello):
            self.hello = msg
            self._resyncing = False
            self._generation += 1
            self.problem = None
            self.mirror.clear()
            self._skew(None)
            if msg.at:
                self._skew(msg.at)
            if self._focus is not None:
                self._send_focus()

    def _skew(self, remote_at: float | None) -> None:
        """Remote clock minus local (s): the largest seen, as a line's time on
        the way only ever makes it look smaller."""
        if remote_at is None:
            self.clock_skew = None
            return
        skew = remote_at - self.clock()
        if self.clock_skew is None or skew > self.clock_skew:
            self.clock_skew = skew

    def _problem(self, text: str) -> None:
        self.problem = text
        self.live.changed()

    def _link_changed(self, state: LinkState) -> None:
        if not state.connected:
            self._fail_pending(state.describe(self.clock()))
        self.live.changed()
