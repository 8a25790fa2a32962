"""The one engine that decides transitions: two pictures of the fleet in, events out.

Fed the same `FleetState` by the app (toasts, the terminal's notification, the
command hook) and by ``sessiontop watch`` (JSON lines), so they all say the
same thing. The first picture is the baseline: nothing that was already so
when the dashboard started is told. After that each transition is one event,
once: a picture equal to the last one yields nothing, however often it is
taken.

Events (``kind``): ``session_live`` (a session started or ended a turn),
``session_phase`` (a live session's phase), ``session_exit`` (its last turn's
exit status), ``task_state``, ``stall`` (a live session quiet too long; flag
only), ``server`` (tau's server went down or came back). Those worth telling
the operator carry ``notify`` (the kinds of `tui.notify.settings.KINDS`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .observe import FleetState, SessionState
from .stall import StallRule

BAD_EXITS = frozenset({"error", "panicked", "max_turns"})
TOLD_STATES = {"review": "review", "failed": "failed"}


@dataclass(frozen=True, slots=True)
class Event:
    kind: str
    at: float  # s
    message: str
    notify: str | None = None  # the notification kind, None: a transition only
    task_id: int | None = None
    session_id: str | None = None
    role: str | None = None
    old: str | None = None
    new: str | None = None
    title: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def _sessions_by_id(state: FleetState) -> dict[str, SessionState]:
    """One entry per session (the first task it is on), for session events."""
    out: dict[str, SessionState] = {}
    for (_, sid), s in state.sessions.items():
        out.setdefault(sid, s)
    return out


class Engine:
    """Keeps the last picture; `step` gives what changed since."""

    def __init__(self, rule: StallRule) -> None:
        self.rule = rule
        self._last: FleetState | None = None
        self._last_sessions: dict[str, SessionState] = {}
        #: Sessions stalled now (marked on screen and sorted first).
        self.stalled: frozenset[str] = frozenset()
        self.baselined = False

    def step(self, state: FleetState) -> list[Event]:
        now = state.taken_at
        sessions = _sessions_by_id(state)
        stalled = frozenset(sid for sid, s in sessions.items()
                            if self.rule.stalled(s.info.role, s.info.last_phase, s.info.is_live,
                                                 s.last_event, now))
        prev, prev_sessions = self._last, self._last_sessions
        self._last, self._last_sessions = state, sessions
        old_stalled, self.stalled = self.stalled, stalled
        if prev is None:
            self.baselined = True
            return []  # the baseline: what is so at start-up is not news
        events: list[Event] = []
        if prev.server_up != state.server_up:
            up = state.server_up
            events.append(Event("server", now, "tau server is back" if up else
                                f"tau server went down: {state.server_detail}", notify="server",
                                old="up" if prev.server_up else "down", new="up" if up else "down"))
        for tid, t in state.tasks.items():
            before = prev.tasks.get(tid)
            if before is not None and before.state == t.state:
                continue
            told = TOLD_STATES.get(t.state)
            events.append(Event(
                "task_state", now, f"task #{tid} {t.title!r}: {before.state if before else 'new'} → {t.state}",
                notify=told if before is not None else None, task_id=tid,
                old=before.state if before else None, new=t.state, title=t.title))
        for sid, s in sessions.items():
            events.extend(self._session_events(sid, s, prev_sessions.get(sid), now, state))
        for sid in sorted(stalled - old_stalled):
            s = sessions[sid]
            quiet = now - (s.last_event or now)
            events.append(Event(
                "stall", now, f"{s.info.role} {sid} of task #{s.task_id} quiet for {quiet / 60:.0f} min "
                f"({s.info.last_phase})", notify="stall", task_id=s.task_id, session_id=sid,
                role=s.info.role, new=s.info.last_phase, title=state.tasks[s.task_id].title))
        return events

    def _session_events(self, sid: str, s: SessionState, before: SessionState | None,
                        now: float, state: FleetState) -> list[Event]:
        info, out = s.info, []
        title = state.tasks[s.task_id].title if s.task_id in state.tasks else None
        common = {"task_id": s.task_id, "session_id": sid, "role": info.role, "title": title}
        was_live = before.info.is_live if before else False
        if info.is_live != was_live:
            out.append(Event("session_live", now, f"{info.role} {sid} of task #{s.task_id} "
                             f"{'started a turn' if info.is_live else 'ended its turn'}",
                             old=str(was_live).lower(), new=str(info.is_live).lower(), **common))
        elif info.is_live and before is not None and before.info.last_phase != info.last_phase:
            out.append(Event("session_phase", now, f"{info.role} {sid}: {info.last_phase}",
                             old=before.info.last_phase, new=info.last_phase, **common))
        old_exit = before.info.last_exit_status if before else None
        if before is not None and info.last_exit_status != old_exit and info.last_exit_status:
            bad = info.last_exit_status in BAD_EXITS
            out.append(Event("session_exit", now, f"{info.role} {sid} of task #{s.task_id}: "
                             f"turn ended {info.last_exit_status}", notify="exit" if bad else None,
                             old=old_exit, new=info.last_exit_status, **common))
        return out
