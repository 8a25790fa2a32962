"""When tau's ``Idle`` does not close a subscription: the run may not have begun yet.

tau puts a run it starts itself in ``live_sessions`` first and sets its phase
only at ``Connecting`` (TAU.md §5.2a; agent_runner.rs ``run_child_chat`` :758,
``resume_child_session`` :1064, ``run_agent_turn_inner`` :404). A ``subscribe``
in between answers ``Idle``. And a restart resume persists ``sending request``
over the same stale value a crash left: SQLite writes nothing for an UPDATE
that leaves the row as it was (no WAL frame, no file event, no new data
version), so the disk cannot say "ask again". The subscription itself can: once registered, it
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

After its hold a session tau called idle is asked again when the disk moves
for it (a new message, a new phase): every run tau starts on a stale value
stores something first (a prompt; a chat's ``preparing``) or just after its
``Connecting`` (a queued-message resume drains its queue), except a restart
resume, which stores its info line before it serves and then nothing until
its first answer, an LLM call after ``Connecting``. So a resume whose plugins
take longer than its hold would show only then. A later commit of tau.db (any
session's: a fleet at work commits every few seconds) therefore asks again the
sessions the server called idle, their persisted phase still not idle, that
this server may be resuming (a message newer than its start, `Holds.resuming`):
one ``subscribe`` each, at most once per ``REASK_S``, and at most
``REASK_BATCH`` in all per ``REASK_S`` (`Reasks`); one asked too recently is
owed an ask when its time comes, so a commit is never lost and nothing is
polled. A stale value older than the server's start is never asked again
this way: no resume of this server is on it. Pure policy, no I/O.
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
#: …and at most this many in all per REASK_S (the longest unasked first).
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

    def resuming(self, sid: str) -> bool:
        """This server wrote to ``sid`` (a message newer than its start): on a
        stale phase, it may be resuming it (mod.rs ``spawn_auto_resume_tasks``)."""
        newest, started = self._newest.get(sid), self.started_ms
        return newest is not None and started is not None and newest >= started

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
        self._recent: list[float] = []  # when the re-asks of the last `every` s were made
        self.count = 0  # re-asks so far (the price, measured)

    def asked(self, sid: str) -> None:
        """A subscription to ``sid`` was opened now."""
        self._asked[sid] = self._clock()

    def due(self, idle: list[str]) -> tuple[list[str], list[str], float | None]:
        """Of the sessions called idle (still candidates) a commit asks about:
        those to ask now, those owed an ask later, and in how long (s) the first
        of those comes due (None: none owed)."""
        now = self._clock()
        self._recent = [t for t in self._recent if now - t < self.every]
        room = self.batch - len(self._recent)
        full = self._recent[0] + self.every - now if self._recent else 0.0  # when room comes back
        ask: list[str] = []
        owed: list[str] = []
        later: float | None = None
        for sid in sorted(idle, key=lambda s: self._asked.get(s, 0.0)):
            wait = self._asked.get(sid, 0.0) + self.every - now
            if wait <= 0 and len(ask) < room:
                ask.append(sid)
            else:
                owed.append(sid)
                wait = max(wait, full if wait <= 0 else 0.0, 0.05)
                later = wait if later is None else min(later, wait)
        self._recent.extend([now] * len(ask))
        self.count += len(ask)
        return ask, owed, later

    def due_in(self, sid: str) -> float:
        """Seconds until ``sid`` may be asked again (≤ 0: now)."""
        return self._asked.get(sid, 0.0) + self.every - self._clock()

    def prune(self, keep: Mapping[str, object]) -> None:
        """Forget the sessions that are no longer candidates."""
        if len(self._asked) > 2 * len(keep) + 64:
            self._asked = {s: t for s, t in self._asked.items() if s in keep}
