"""One subscription: what each line tau sends on it does to the tracker's state.

The half of `tui.tau.live.LiveTracker` that runs per session: connect, send the
one ``subscribe``, apply each line (TAU.md §7.4) through `tui.tau.events`, feed
the open transcript's `TurnStream`, and, when tau says ``Idle``, hold or close
(`tui.tau.holds`). A mixin, so the tracker's state stays in one object.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from pathlib import Path

from .changes import Changes
from .client import Connection, Line, ServerUnavailable, Skipped, connect
from .events import END, IDLE, SUCCEEDED, USAGE, USER, LivePhase, read_line
from .holds import Holds
from .pushes import Pushes
from .stream import LINGER_MS, TurnStream

#: Phases of a turn under way: a ``user_message`` then is a queued message
#: tau fed into it (steering), not a run's own prompt, which tau stores and
#: sends before its ``Connecting`` (agent_runner.rs :840, :404; a chat's
#: during ``preparing``).
TURN_PHASES = frozenset({"sending request", "thinking", "working", "running tools", "compacting",
                         "rate limited"})

#: A subscription that has not had its first answer after this long (s)
#: means the server is not answering.
ANSWER_TIMEOUT_S = 3.0


class Following:
    """The per-session part of the tracker (its state is declared here, set there)."""

    socket_path: Path | None
    changes: Changes
    _clock: Callable[[], float]
    _phases: dict[str, LivePhase]
    _subs: dict[str, asyncio.Task[None]]
    _answered: set[str]
    _idle: dict[str, Hashable]
    _wanted: dict[str, Hashable]
    _holds: Holds
    _focus: str | None
    _stream: TurnStream | None
    _stalled: bool
    _problem: str | None
    pushes: Pushes
    _poke: asyncio.Event
    _stopping: bool

    def _look_again(self, sid: str) -> None:
        raise NotImplementedError

    def _sync(self) -> int:
        raise NotImplementedError

    async def _follow(self, sid: str) -> None:
        conn: Connection | None = None
        timer: asyncio.TimerHandle | None = None
        try:
            if self.socket_path is None:
                return
            conn = await connect(self.socket_path)
            await conn.send({"type": "subscribe", "session_id": sid})
            timer = asyncio.get_running_loop().call_later(ANSWER_TIMEOUT_S, self._no_answer, sid)
            async for item in conn.lines():
                if isinstance(item, Skipped):
                    self._note_problem(f"{sid}: {item.reason}")
                    continue
                outcome = self._take(sid, item)
                if outcome == IDLE:
                    # The server's word: not running. While the disk says it may
                    # be, the subscription is held (a run tau starts sets its
                    # phase last); then closed, and asked again only when the
                    # disk shows something new for it (a new run).
                    if sid in self._wanted:
                        self._holds.idle(sid)
                        self._look_again(sid)
                        if sid in self._subs:
                            continue
                    else:
                        self._idle[sid] = self._wanted.get(sid)
                    break
                if outcome == END:
                    break
        except ServerUnavailable:
            self._poke.set()  # let the monitor find out what happened
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            if timer is not None:
                timer.cancel()
            if conn is not None:
                await conn.close()
            if self._subs.get(sid) is asyncio.current_task():
                del self._subs[sid]
            self._answered.discard(sid)
            old = None if sid in self._idle else self._phases.pop(sid, None)
            if old is not None and (old.live or sid in self._wanted):
                if sid == self._focus and old.live:
                    self._stream = TurnStream()  # not stored, and never will be by this stream
                self.changes.session(sid)  # cut off: the server's word is unknown again
            if not self._stopping:
                self._sync()

    def _no_answer(self, sid: str) -> None:
        if sid in self._subs and sid not in self._answered and not self._stalled:
            self._stalled = True
            self.changes.everything()

    def _note_problem(self, text: str) -> None:
        if text != self._problem:
            self._problem = text
            self.changes.everything()

    def _take(self, sid: str, line: Line) -> object:
        """Apply one line of a subscription; what it means for the subscription."""
        now_ms = int(self._clock() * 1000)
        step = read_line(line, self._phases.get(sid), now_ms)
        stream = self._stream if sid == self._focus else None
        streamed = stream is not None and stream.take(line, now_ms)
        if stream is not None and step.outcome == IDLE:
            streamed = stream.ended(now_ms)
            # What is left is let go LINGER_MS on, if tau has not stored it by then.
            asyncio.get_running_loop().call_later(LINGER_MS / 1000 + 0.05, self._linger_over, sid)
        if step.answered:
            self._answered.add(sid)
            if self._stalled:
                self._stalled = False
                self.changes.everything()
        if step.problem:
            self._note_problem(f"{sid}: {step.problem}")
        if step.push is not None:
            streamed = self._pushed(sid, step.push, stream, now_ms) or streamed
        if step.unpriced is not None:
            self.pushes.unpriced_call(sid, step.unpriced)
            self.changes.session(sid, rows=False)  # a pane and a header say it
        if step.phase is not None:
            old = self._phases.get(sid)
            self._phases[sid] = step.phase
            if step.visible:
                # A new newest streamed line alone shows on a pane, not on a
                # task row: the rows of the session's tasks are rebuilt only
                # when its liveness or phase changed.
                same_row = old is not None and (old.live, old.label) == (step.phase.live, step.phase.label)
                self.changes.session(sid, rows=not same_row)
                streamed = False  # told
        if streamed:
            self.changes.session(sid, rows=False)  # only the open transcript shows it
        if step.outcome == END:
            self._poke.set()  # the server is leaving: the monitor finds out how
        return step.outcome

    def _pushed(self, sid: str, push: tuple[str, object], stream: TurnStream | None, now_ms: int) -> bool:
        """A push that is not the phase; True if only the open transcript shows it."""
        kind, value = push
        if kind == USAGE:
            if self.pushes.usage(value):  # type: ignore[arg-type]
                self.changes.poke()  # the status line's, on every screen
        elif kind == SUCCEEDED:
            if self.pushes.succeeded(sid, str(value)):
                self.changes.session(sid)
        elif kind == USER and stream is not None:
            old = self._phases.get(sid)
            if old is not None and old.live and old.label in TURN_PHASES:
                return stream.steer(str(value), now_ms)
        return False

    def _linger_over(self, sid: str) -> None:
        if sid == self._focus and not self._stopping:
            self.changes.session(sid, rows=False)
