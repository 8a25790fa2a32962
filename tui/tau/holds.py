"""When tau's ``Idle`` does not close a subscription: the run may not have begun yet.

tau puts a run it starts itself in ``live_sessions`` first and sets its phase
only at ``Connecting`` (TAU.md §5.2a; agent_runner.rs ``run_child_chat`` :758,
``resume_child_session`` :1064, ``run_agent_turn_inner`` :404). A ``subscribe``
in between answers ``Idle``. And a restart resume persists ``sending request``
over the same stale value a crash left: no row changes, only a commit, so the
disk cannot say "ask again". The subscription itself can: once registered, it
receives the ``Connecting`` event the moment tau emits it (dispatch.rs
``Subscribe`` registers before it answers). So a subscription to a session the
disk says may be live (a candidate) is not closed at once when tau says
``Idle``; it is held:

- ``HOLD_S`` after each ``Idle``: covers a prompt stored an instant before its
  ``Connecting``, and a run's end whose ``idle`` the next read will show;
- ``RESUME_HOLD_S`` after the session's newest message, when that message is
  newer than the server's start (its socket's bind time): on a stale phase,
  this server wrote to the session (the restart's "Resumed after server
  restart." line, mod.rs:254, or a prompt), so a run is starting and its
  ``Connecting`` comes after history load and plugin start.

Nothing is polled: the held connection waits on tau's push.

After its hold a session tau called idle is asked again only when the disk
moves for it (a new message, a new phase). A restart resume whose plugins take
longer than the hold persists ``sending request`` over the same stale value:
only a commit shows. So a commit of tau.db also asks again the sessions the
server called idle whose persisted phase is still not idle (`Reasks`): one
``subscribe`` each, at most once per ``REASK_S``, at most ``REASK_BATCH`` at a
time; one that came too soon after its last ask is asked when its time comes
(a commit is never lost). Pure policy, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

#: An ``Idle`` answer keeps a candidate's subscription open this long (s).
HOLD_S = 2.0
#: A stale phase with a message newer than the server's start: held this long
#: after that message (s), for history load and plugin start before ``Connecting``.
RESUME_HOLD_S = 60.0
#: A session the server called idle, its persisted phase still not idle, is
#: asked again after a commit of tau.db at most this often (s)…
REASK_S = 5.0
#: …and at most this many at a time (the longest unasked first).
REASK_BATCH = 16


class Holds:
    """Until when each subscription tau answered ``Idle`` stays open."""

    def __init__(self, clock: Callable[[], float], *, hold_s: float = HOLD_S,
                 resume_s: float = RESUME_HOLD_S) -> None:
        self._clock = clock
        self.hold_s, self.resume_s = hold_s, resume_s
        self.started_ms: int | None = None  # the server's start: its socket's bind time
        self._newest: dict[str, int] = {}  # candidate → its newest message (ms, tau's clock)
        self._until: dict[str, float] = {}  # session → the last Idle + hold_s (s)

    def server(self, started_ms: int | None) -> None:
        """A new server: what the old one said no longer holds anything."""
        self.started_ms = started_ms
        self._until.clear()

    def note(self, newest: Mapping[str, int]) -> None:
        """The newest message of each candidate, as the last read of tau.db found it."""
        self._newest = dict(newest)

    def idle(self, sid: str) -> None:
        """tau said ``Idle`` for ``sid`` now."""
        self._until[sid] = self._clock() + self.hold_s

    def until(self, sid: str) -> float:
        """When the hold on ``sid`` ends (wall clock, s; 0: not held)."""
        end = self._until.get(sid, 0.0)
        newest, started = self._newest.get(sid), self.started_ms
        if newest is not None and started is not None and newest >= started:
            end = max(end, newest / 1000 + self.resume_s)
        return end

    def left(self, sid: str) -> float:
        """Seconds the hold on ``sid`` has to run (≤ 0: over)."""
        return self.until(sid) - self._clock()

    def forget(self, sid: str) -> None:
        self._until.pop(sid, None)


class Reasks:
    """When the sessions tau called idle, on a stale persisted phase, are
    asked again after a commit (each at most once per ``every`` s)."""

    def __init__(self, clock: Callable[[], float], *, every: float = REASK_S,
                 batch: int = REASK_BATCH) -> None:
        self._clock = clock
        self.every, self.batch = every, batch
        self._asked: dict[str, float] = {}  # session → when it was last subscribed (s)
        self.count = 0  # re-asks so far (the price, measured)

    def asked(self, sid: str) -> None:
        """A subscription to ``sid`` was opened now."""
        self._asked[sid] = self._clock()

    def due(self, idle: list[str]) -> tuple[list[str], list[str], float | None]:
        """Of the sessions called idle (still candidates) a commit asks about:
        those to ask now, those owed an ask later, and in how long (s) the first
        of those comes due (None: none owed)."""
        now = self._clock()
        ask: list[str] = []
        owed: list[str] = []
        later: float | None = None
        for sid in sorted(idle, key=lambda s: self._asked.get(s, 0.0)):
            wait = self._asked.get(sid, 0.0) + self.every - now
            if wait <= 0 and len(ask) < self.batch:
                ask.append(sid)
            else:
                owed.append(sid)
                wait = max(wait, 0.05)
                later = wait if later is None else min(later, wait)
        self.count += len(ask)
        return ask, owed, later

    def due_in(self, sid: str) -> float:
        """Seconds until ``sid`` may be asked again (≤ 0: now)."""
        return self._asked.get(sid, 0.0) + self.every - self._clock()

    def prune(self, keep: Mapping[str, object]) -> None:
        """Forget the sessions that are no longer candidates."""
        if len(self._asked) > 2 * len(keep) + 64:
            self._asked = {s: t for s, t in self._asked.items() if s in keep}
