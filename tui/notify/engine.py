"""The one engine that decides transitions: two pictures of the fleet in, events out.

Fed the same `FleetState` by the app (toasts, the terminal's notification, the
command hook) and by ``sessiontop watch`` (JSON lines), so they all say the
same thing. The first picture is the baseline: nothing that was already so
when the dashboard started is told (a restart never tells an old event
again). After that each transition is one event, once: a picture equal to the
last one yields nothing, however often it is taken.

Events (``kind``): ``session_live`` (a session started or ended a turn),
``session_phase`` (a live session's phase), ``session_exit`` (its last turn's
exit status), ``task_state``, ``approval`` (an approved task with
require_approval: the merge waits for the operator), ``stall`` (a live session
quiet too long; flag only), ``queued`` (a message waiting too long for a
session that is not running, `tui.notify.waiting`), ``server`` (tau's server
went down or came back).
Those worth telling the operator carry ``notify`` (a kind of
`tui.notify.settings.KINDS`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .observe import FleetState, SessionState
from .stall import StallRule
from .waiting import Waiting, find_waiting, words

#: A turn that ended so is told (TAU.md §5.3).
BAD_EXITS = frozenset({"error", "panicked", "max_turns"})
#: Task states told on entry, and the notification kind of each.
TOLD_STATES = {"review": "review", "failed": "failed"}


@dataclass(frozen=True, slots=True)
class Event:
    kind: str
    at: float  # s
    message: str
    notify: str | None = None  # the notification kind; None: a transition only
    task_id: int | None = None
    session_id: str | None = None
    role: str | None = None
    old: str | None = None
    new: str | None = None
    title: str | None = None
    #: How many more of its kind it stands for (sent together, `tui.notify.throttle`).
    more: int | None = None
    #: The host it happened on, with several hosts (tui.model.hosts); None: this machine alone.
    host: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True, slots=True)
class Stall:
    """A live session quiet for longer than its threshold."""

    tasks: frozenset[int]  # the tasks it is on
    since: float  # s: its newest sign of life
    after_s: float  # the threshold it passed


def _sessions_by_id(state: FleetState) -> dict[str, SessionState]:
    """One entry per session (the lowest-numbered task it is on), for session
    events (a picture from the observer carries it: `FleetState.by_session`)."""
    out: dict[str, SessionState] = {}
    for (tid, sid), s in state.sessions.items():
        had = out.get(sid)
        if had is None or tid < had.task_id:
            out[sid] = s
    return out


class Engine:
    """Keeps the last picture; `step` gives what changed since."""

    def __init__(self, rule: StallRule) -> None:
        self.rule = rule
        #: The newest picture (None before the baseline).
        self.last: FleetState | None = None
        self._last_sessions: dict[str, SessionState] = {}
        #: Sessions stalled now (marked on screen, sorted first).
        self.stalled: dict[str, Stall] = {}
        #: s: when the next live session would become stalled, or the next
        #: queued message wait too long, if nothing happens (None: neither).
        self.next_stall_at: float | None = None
        #: Sessions not live with a message waiting past the threshold (on `!`).
        self.waiting: dict[str, Waiting] = {}
        #: s: when the baseline was taken (None: not yet).
        self.since: float | None = None
        #: Sessions whose running turn is a socket chat (`preparing` was seen):
        #: its end writes an exit status, even one equal to the last.
        self._chats: set[str] = set()
        #: The tasks whose rows the last task list handed out carried a stall
        #: mark (`tui.notify.attention.mark` keeps it): a mark that goes is a
        #: change of that row too.
        self.marked_tasks: frozenset[int] = frozenset()

    @property
    def baselined(self) -> bool:
        return self.last is not None

    def stalled_tasks(self) -> frozenset[int]:
        return frozenset(t for st in self.stalled.values() for t in st.tasks)

    def step(self, state: FleetState) -> list[Event]:
        """The events between the last picture and ``state`` (none for the first)."""
        prev = self.last
        if not state.readable and prev is not None:
            # tasks.db could not be read this time: keep what was known, tell
            # only what the server did (the store's coming back is no news).
            events = self._server_events(prev, state)
            self.last = FleetState(state.taken_at, state.server_up, state.server_detail,
                                   prev.tasks, prev.sessions, by_session=prev.by_session,
                                   maybe_live=prev.maybe_live, maybe_queued=prev.maybe_queued)
            return events
        sessions = state.by_session if state.by_session is not None else _sessions_by_id(state)
        old_stalled = self.stalled
        self._find_stalls(state, sessions)
        old_waiting = self.waiting
        self.waiting, due = find_waiting(state, self.rule.settings.queued_after_s)
        if due is not None and (self.next_stall_at is None or due < self.next_stall_at):
            self.next_stall_at = due
        prev_sessions = self._last_sessions
        self.last, self._last_sessions = state, sessions
        if prev is None:
            self.since = state.taken_at
            return []  # the baseline: what is so at start-up is not news
        now = state.taken_at
        events = self._server_events(prev, state)
        # A picture that says what changed since the one before it (the same
        # observer's, and that one was seen here): only those are compared.
        chained = (state.changed_tasks is not None and state.changed_sessions is not None
                   and state.seq and prev.seq == state.seq - 1)
        task_ids = sorted(state.changed_tasks) if chained else state.tasks  # type: ignore[arg-type]
        for tid in task_ids:
            t = state.tasks.get(tid)
            if t is not None:
                events.extend(self._task_events(prev, tid, t, now))
        sids = sorted(state.changed_sessions) if chained else sessions  # type: ignore[arg-type]
        for sid in sids:
            s = sessions.get(sid)
            if s is not None:
                events.extend(self._session_events(sid, s, prev_sessions.get(sid), now, state))
        for sid in sorted(set(self.waiting) - set(old_waiting)):
            w, tid = self.waiting[sid], min(self.waiting[sid].tasks)
            role = state.sessions[(tid, sid)].info.role
            events.append(Event("queued", now, words(w.count, sid, role, tid, (now - w.since) / 60),
                                notify="queued", task_id=tid, session_id=sid, role=role,
                                new=str(w.count), title=_title(state, tid)))
        for sid in sorted(set(self.stalled) - set(old_stalled)):
            s = state.sessions[(min(self.stalled[sid].tasks), sid)]
            quiet = now - (s.last_event or now)
            events.append(Event(
                "stall", now, f"{s.info.role} {sid} of task #{s.task_id} quiet for "
                f"{quiet / 60:.0f} min ({s.info.last_phase})", notify="stall", task_id=s.task_id,
                session_id=sid, role=s.info.role, new=s.info.last_phase,
                title=_title(state, s.task_id)))
        return events

    def _find_stalls(self, state: FleetState, sessions: dict[str, SessionState]) -> None:
        now, rule = state.taken_at, self.rule
        stalled: dict[str, Stall] = {}
        next_at: float | None = None
        entries = state.sessions
        for tid, sid in entries if state.maybe_live is None else state.maybe_live:
            s = entries.get((tid, sid))
            if s is None:
                continue
            info = s.info
            if not info.is_live or s.last_event is None:
                continue
            after = rule.threshold(info.role, info.last_phase)
            due = s.last_event + after
            if now > due:
                had = stalled.get(sid)
                stalled[sid] = Stall(tasks=(had.tasks if had else frozenset()) | {tid},
                                     since=s.last_event, after_s=after)
            elif next_at is None or due < next_at:
                next_at = due
        self.stalled = stalled
        self.next_stall_at = next_at

    @staticmethod
    def _server_events(prev: FleetState, state: FleetState) -> list[Event]:
        if prev.server_up == state.server_up:
            return []
        up = state.server_up
        return [Event("server", state.taken_at, "tau server is back" if up else
                      f"tau server went down: {state.server_detail}", notify="server",
                      old="up" if prev.server_up else "down", new="up" if up else "down")]

    @staticmethod
    def _task_events(prev: FleetState, tid: int, t: Any, now: float) -> list[Event]:
        before = prev.tasks.get(tid)
        out: list[Event] = []
        if before is None or before.state != t.state:
            old = before.state if before is not None else None
            out.append(Event(
                "task_state", now, f"task #{tid} {t.title!r}: {old or 'new'} → {t.state}",
                # A task first seen is not told (tau files tasks all day long).
                notify=TOLD_STATES.get(t.state) if before is not None else None,
                task_id=tid, old=old, new=t.state, title=t.title))
        if t.awaits_approval and not (before is not None and before.awaits_approval):
            out.append(Event("approval", now, f"task #{tid} {t.title!r} awaits your approval to merge",
                             notify="approval", task_id=tid, new=t.state, title=t.title))
        return out

    def _session_events(self, sid: str, s: SessionState, before: SessionState | None,
                        now: float, state: FleetState) -> list[Event]:
        info, out = s.info, []
        common = {"task_id": s.task_id, "session_id": sid, "role": info.role,
                  "title": _title(state, s.task_id)}
        was_live = before.info.is_live if before is not None else False
        if info.is_live != was_live:
            out.append(Event("session_live", now, f"{info.role} {sid} of task #{s.task_id} "
                             f"{'started a turn' if info.is_live else 'ended its turn'}",
                             old=str(was_live).lower(), new=str(info.is_live).lower(), **common))
        elif info.is_live and before is not None and before.info.last_phase != info.last_phase:
            out.append(Event("session_phase", now, f"{info.role} {sid}: {info.last_phase}",
                             old=before.info.last_phase, new=info.last_phase, **common))
        old_exit = before.info.last_exit_status if before is not None else None
        # Only a socket chat writes an exit status, at its end, and it starts
        # with `preparing` (TAU.md §5.1, §5.3): a chat's end is told even when
        # its outcome equals the last one (a session failing twice), and a
        # run tau started, which leaves the old status, is not told again.
        if s.disk_phase == "preparing" or (info.is_live and info.last_phase == "preparing"):
            self._chats.add(sid)
        ended = (before is not None and before.disk_phase not in (None, "idle")
                 and s.disk_phase == "idle")
        again = ended and sid in self._chats
        if s.disk_phase in (None, "idle"):
            self._chats.discard(sid)
        if before is not None and info.last_exit_status and (info.last_exit_status != old_exit or again):
            bad = info.last_exit_status in BAD_EXITS
            out.append(Event("session_exit", now, f"{info.role} {sid} of task #{s.task_id}: "
                             f"turn ended {info.last_exit_status}", notify="exit" if bad else None,
                             old=old_exit, new=info.last_exit_status, **common))
        return out


def _title(state: FleetState, tid: int) -> str | None:
    t = state.tasks.get(tid)
    return t.title if t is not None else None
