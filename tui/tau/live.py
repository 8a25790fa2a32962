"""The live truth: which sessions tau's server is running, and in which phase.

tau keeps ``is_live`` and the real phase (thinking, working, running tools, …)
only in its server's memory (TAU.md §5). From disk alone, "live" cannot be
known; asking the server for it with ``list_sessions`` or
``get_session_info`` takes tau's state lock and parses messages (§7.6). So the
tracker costs tau almost nothing instead:

- the disk says which sessions *may* be live: every run writes
  ``sending request`` when it starts and ``idle`` when it ends, so a persisted
  phase other than idle is a candidate (`want`);
- each candidate gets a ``subscribe``: tau answers at once with the phase it
  holds in memory, and ``Idle`` unmasks a stale value left by a crash;
- the subscription is kept while the turn runs (phases are derived from its
  events as tau's own client does, §7.4) and ends with tau's ``Idle`` phase
  (not at ``agent_done``: tau also sends that after a refused chat, with no
  run ending, dispatch.rs:1036-1070);
- an ``Idle`` does not close it at once while the disk still says the session
  may be live: tau sets a run's phase only at ``Connecting``, after history
  load and plugin start, and a restart resume persists the same stale value,
  so only the held subscription sees that run begin (`tui.tau.holds`); after
  the hold it is closed, so no idle session's plugins are kept alive, and
  asked again (one ``subscribe``, at most every few seconds) when a later
  commit of tau.db may be that run's start on the same stale value;
- what else tau pushes on a subscription is kept (`tui.tau.pushes`): its
  rate-limit windows, a session's retirement, unstored LLM calls seen;
- one more connection, idle, tells at once when the server goes away (EOF),
  shuts down (``server_shutdown``) or comes back (a new socket).

No Textual here: listeners are plain callables (the app asks for a re-read).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Hashable, Mapping
from pathlib import Path

from ..model.snapshots import LiveTurn, Message, RateLimits, ServerStatus
from .changes import Changes
from .client import Line, ServerUnavailable, connect, socket_identity, socket_started_ms
from .events import LivePhase
from .follow import ANSWER_TIMEOUT_S, Following
from .holds import HOLD_S, RESUME_HOLD_S, Holds, Reasks
from .paths import ForeignSocket
from .pushes import Pushes
from .stream import TurnStream

#: At most this many subscriptions at once (each is a connection, and keeps
#: the session's plugins awake in tau).
MAX_SUBSCRIPTIONS = 256
#: Reconnect backoff while the server is away (s): back within about a second.
BACKOFF = (0.05, 0.1, 0.2, 0.4, 0.7, 1.0)
STALLED = (f"tau server has not answered a subscribe in {ANSWER_TIMEOUT_S:g} s (busy, or stalled): "
           f"phases shown are the persisted ones")


class LiveTracker(Following):
    """Subscriptions to the sessions that may be live, and what they say."""

    def __init__(self, locate: Callable[[], Path | None] | Path | None, *,
                 cap: int = MAX_SUBSCRIPTIONS, clock: Callable[[], float] = time.time,
                 hold_s: float = HOLD_S, resume_hold_s: float = RESUME_HOLD_S) -> None:
        # A path, or a function finding it anew each time (a per-process
        # runtime dir moves with every server start).
        self._locate = locate if callable(locate) else (lambda: locate)
        self.enabled = locate is not None
        try:
            self.socket_path: Path | None = self._locate()
        except ForeignSocket:
            self.socket_path = None
        self.cap = cap
        self._clock = clock
        self._state = "starting" if self.enabled else "off"
        self._detail = "connecting to the tau server…" if self.enabled else \
            "no tau runtime directory given: nothing is live"
        self._problem: str | None = None
        self._stalled = False  # a subscribe went unanswered for ANSWER_TIMEOUT_S
        self._server_ident: tuple[int, int] | None = None
        self._phases: dict[str, LivePhase] = {}
        self._subs: dict[str, asyncio.Task[None]] = {}
        self._answered: set[str] = set()
        self._idle: dict[str, Hashable] = {}  # closed: the server said idle while the disk said this
        self._holds = Holds(clock, hold_s=hold_s, resume_s=resume_hold_s)
        self._timers: dict[str, asyncio.TimerHandle] = {}  # when each held subscription is looked at again
        self._reasks = Reasks(clock)
        self._reask_timer: asyncio.TimerHandle | None = None
        self._reask_owed: set[str] = set()  # a commit came while these were asked too recently
        self._commit: Hashable | None = None  # tau.db's data version at the last `want`
        self.pushes = Pushes()
        self._wanted: dict[str, Hashable] = {}
        self._order: list[str] = []
        self._capped = False
        self._monitor: asyncio.Task[None] | None = None
        self._poke = asyncio.Event()
        self._stopping = False
        self._focus: str | None = None  # the session whose transcript is open
        self._stream: TurnStream | None = None  # what it streams, not stored yet
        self.changes = Changes()

    # --- lifecycle ---------------------------------------------------------------

    def add_listener(self, callback: Callable[[], None]) -> None:
        """Called (on the event loop) whenever what the server says changed."""
        self.changes.listen(callback)

    async def start(self) -> None:
        if self._monitor is None and self.enabled:
            self._stopping = False
            self._monitor = asyncio.create_task(self._watch_server(), name="tau-server-monitor")

    async def stop(self) -> None:
        self._stopping = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        if self._reask_timer is not None:
            self._reask_timer.cancel()
            self._reask_timer = None
        tasks = [t for t in (self._monitor, *self._subs.values()) if t is not None]
        self._monitor = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
        self._subs.clear()

    async def settle(self, timeout: float) -> bool:
        """Wait (at most ``timeout`` s) until the server's word is in: it was
        reached or found absent, and every session asked about has answered.
        A first screen then shows the truth rather than correcting itself a
        moment later. True if settled."""
        deadline = time.monotonic() + timeout
        while True:
            if self._state not in ("starting",) and not (self.up and self._unanswered()):
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.005)

    def _unanswered(self) -> bool:
        eligible = [sid for sid in self._order if sid in self._wanted and sid not in self._idle]
        return any(sid not in self._phases for sid in eligible[:self.cap])

    def poke(self) -> None:
        """Something changed in the runtime directory: try the socket now."""
        self._poke.set()

    # --- what the screens read -------------------------------------------------------

    def view(self) -> ServerStatus:
        return ServerStatus(state=self._state, detail=self._detail, socket=str(self.socket_path or ""),
                          watching=len(self._subs), wanted=len(self._wanted), capped=self._capped,
                          problem=STALLED if self._stalled else self._problem)

    def phase(self, session_id: str) -> LivePhase | None:
        """What the server said of this session, if it was asked and answered."""
        return self._phases.get(session_id)

    def live_count(self) -> int:
        """Distinct sessions the server says are running a turn now."""
        return sum(1 for p in self._phases.values() if p.live)

    def said_idle(self, session_id: str) -> bool:
        """The server answered: not running (a stale phase on disk, or a turn
        just ended), whether the subscription was closed or is held."""
        p = self._phases.get(session_id)
        return session_id in self._idle or (p is not None and not p.live)

    def pending(self, session_id: str) -> bool:
        """Subscribed, no answer yet (or over the cap): the server's word is unknown."""
        return session_id in self._wanted and session_id not in self._phases \
            and session_id not in self._idle

    def focus(self, session_id: str | None) -> None:
        """The session whose transcript is open (None: none): only its stream
        is gathered and decoded, and each of its events is a change."""
        if session_id != self._focus:
            self._focus = session_id
            self._stream = TurnStream() if session_id is not None else None

    def turn(self, session_id: str, stored: tuple[Message, ...]) -> LiveTurn | None:
        """The focused session's turn as it streams, less what ``stored`` (the
        messages a read just found) shows tau has stored."""
        stream = self._stream
        if session_id != self._focus or stream is None:
            return None
        now_ms = int(self._clock() * 1000)
        stream.cover({m.stamp for m in stored if m.role == "assistant" and m.stamp},
                     {m.tool_call_id for m in stored if m.role == "tool_result" and m.tool_call_id},
                     tuple((m.id, m.text) for m in stored if m.role == "user"), now_ms)
        return stream.view(now_ms)

    def steered(self, session_id: str) -> tuple[int, ...]:
        """The focused session's stored user messages that reached its turn as steering."""
        stream = self._stream
        return tuple(stream.steered) if session_id == self._focus and stream is not None else ()

    def limits(self) -> RateLimits | None:
        """tau's newest rate-limit push (None: it sent none)."""
        return self.pushes.limits

    def changed_since(self, version: int) -> set[str] | None:
        """Sessions whose live state changed after ``version``; None: all may have."""
        return self.changes.since(version)

    # --- what the disk says may be live ------------------------------------------------

    def want(self, candidates: Mapping[str, Hashable], order: list[str] | None = None,
             newest: Mapping[str, int] | None = None, commit: Hashable | None = None) -> int:
        """Sessions whose persisted phase is not idle, each with a stamp of what
        the disk said (phase, newest message…): a session the server called idle
        and whose subscription was closed is asked again when its stamp moves (a
        new run on a stale value), or after a commit (``commit``: tau.db's data
        version moved) within the rate of `tui.tau.holds.Reasks`. ``order``: the
        most interesting first, for when the cap bites. ``newest``: each one's
        newest message (ms), which decides how long an ``Idle`` holds its
        subscription (`tui.tau.holds`)."""
        self._wanted = dict(candidates)
        self._order = order if order is not None else sorted(candidates)
        if newest is not None:
            self._holds.note(newest)
        for sid in list(self._idle):
            if self._wanted.get(sid, None) != self._idle[sid]:
                del self._idle[sid]
                # The disk moved: a new run, maybe. The server's old "idle"
                # is not its word on it: unknown until it answers again.
                old = self._phases.get(sid)
                if old is not None and not old.live:
                    del self._phases[sid]
        for sid in list(self._subs):  # a held one's hold may have moved, or ended
            p = self._phases.get(sid)
            if p is not None and not p.live:
                self._look_again(sid)
        if commit is not None and commit != self._commit:
            if self._commit is not None:
                self._reask()
            self._commit = commit
        return self._sync()

    def _reask(self, only: set[str] | None = None) -> None:
        """A commit of tau.db: the sessions the server called idle whose disk
        still says they may be live, and that it may be resuming, are asked
        again (`tui.tau.holds.Reasks`); one asked too recently is owed an ask
        when its time comes (``only``: those owed), so no commit is lost and
        none is polled."""
        self._reasks.prune(self._wanted)
        idle = [sid for sid in self._idle if sid in self._wanted and self._holds.resuming(sid)
                and (only is None or sid in only)]
        ask, owed, later = self._reasks.due(idle)
        for sid in ask:
            del self._idle[sid]  # the server's "idle" stays shown until it answers again
        self._reask_owed.update(owed)
        self._reask_owed.difference_update(ask)
        if later is not None and self._reask_timer is None and not self._stopping:
            self._reask_timer = asyncio.get_running_loop().call_later(later, self._reask_due)

    def _reask_due(self) -> None:
        self._reask_timer = None
        owed, self._reask_owed = self._reask_owed, set()
        if not self._stopping and owed:
            self._reask(owed)
            self._sync()

    def _sync(self) -> int:
        """Open and close subscriptions to match what is wanted; how many were opened."""
        if not self.up or self._stopping:
            return 0
        for sid in list(self._subs):
            if sid not in self._wanted and not self._is_live(sid):
                self._close(sid)
        eligible = [sid for sid in self._order if sid in self._wanted and sid not in self._idle]
        self._capped = len(eligible) > self.cap
        opened = 0
        for sid in eligible:
            if len(self._subs) >= self.cap:
                break
            if sid not in self._subs:
                self._subs[sid] = asyncio.create_task(self._follow(sid), name=f"tau-subscribe-{sid}")
                self._reasks.asked(sid)
                opened += 1
        return opened

    @property
    def up(self) -> bool:
        return self._state in ("up", "draining")

    @property
    def epoch(self) -> int:
        """Moves when every session's live state may have changed (the server
        came, went or was replaced)."""
        return self.changes.epoch

    @property
    def version(self) -> int:
        """Moves on every change of what the server says (the app re-reads)."""
        return self.changes.version

    def _is_live(self, sid: str) -> bool:
        p = self._phases.get(sid)
        return p is not None and p.live

    def _close(self, sid: str) -> None:
        timer = self._timers.pop(sid, None)
        if timer is not None:
            timer.cancel()
        self._holds.forget(sid)
        task = self._subs.pop(sid, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def _look_again(self, sid: str) -> None:
        """A held subscription (tau said Idle): keep it while its hold runs and
        the disk still says the session may be live; else close it, keeping the
        server's word (asked again when the disk's stamp moves)."""
        timer = self._timers.pop(sid, None)
        if timer is not None:
            timer.cancel()
        p = self._phases.get(sid)
        if sid not in self._subs or p is None or p.live or self._stopping or sid not in self._answered:
            return  # (one asked again keeps the last "idle" shown: its answer decides)
        left = self._holds.left(sid)
        if sid in self._wanted and left > 0:
            self._timers[sid] = asyncio.get_running_loop().call_later(left, self._look_again, sid)
            return
        self._idle[sid] = self._wanted.get(sid)
        self._close(sid)

    # --- the server ---------------------------------------------------------------------

    async def _watch_server(self) -> None:
        """Hold one idle connection: its end is the server's end."""
        attempt = 0
        while not self._stopping:
            try:
                try:
                    self.socket_path = self._locate()
                except ForeignSocket as exc:  # never connected to: named, and refused
                    self.socket_path = None
                    raise ServerUnavailable("denied", str(exc)) from exc
                if self.socket_path is None:
                    raise ServerUnavailable("down", "tau server not running (no /tmp/tau-*/tau.sock)")
                conn = await connect(self.socket_path)
            except ServerUnavailable as exc:
                self._set_state(exc.kind, exc.detail)
                await self._nap(BACKOFF[min(attempt, len(BACKOFF) - 1)])
                attempt += 1
                continue
            attempt = 0
            ident = socket_identity(self.socket_path)
            # A new server: a new socket file; its inode may be the old one's
            # (reused after the unlink), its bind time is not.
            if ident != self._server_ident or self._holds.started_ms is None:
                self._server_ident = ident
                self._forget_all()  # a new server: its memory starts empty
                self._holds.server(socket_started_ms(self.socket_path))
                self._set_state("up", "live from tau server")
            elif self._state != "draining":
                self._set_state("up", "live from tau server")
            self._sync()
            try:
                async for item in conn.lines():
                    if isinstance(item, Line) and b'"server_shutdown"' in item.raw[:64]:
                        self._set_state("draining", "tau server shutting down: finishing its turns")
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                await conn.close()
            if self._stopping:
                return
            # The server closed us: shutting down or gone. Ask again at once.
            if self._state != "draining":
                self._set_state("starting", "tau server closed the connection: reconnecting…")

    async def _nap(self, seconds: float) -> None:
        self._poke.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._poke.wait(), seconds)

    def _set_state(self, state: str, detail: str) -> None:
        if (state, detail) == (self._state, self._detail):
            return
        was_up = self.up
        self._state, self._detail = state, detail
        if state == "up":
            self._problem = None
        if was_up and not self.up:
            self._forget_all()
            if state == "down":
                self._server_ident = None
        self.changes.everything()

    def _forget_all(self) -> None:
        for sid in list(self._subs):
            self._close(sid)
        self._holds.server(None)
        self._phases.clear()
        self._idle.clear()
        self._reask_owed.clear()
        self._answered.clear()
        if self._focus is not None:
            self._stream = TurnStream()  # what streamed and was not stored is gone with the server
        self._stalled = False
        self.changes.everything()
