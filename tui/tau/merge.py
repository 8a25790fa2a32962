"""The one place where snapshots are built from the disk's record plus liveness.

The disk says what tau last wrote (``sessions.last_phase`` and the rest); it
cannot say whether a session is running now. That comes from tau's server, asked
through `Liveness` for every session with a record, once per read
(`ServerLiveness`: what the subscriptions of `tui.tau.live` say). Everything
that decides ``is_live``, the phase shown and where it comes from, a task's
live count and busiest phase, or a pane's time in its phase and turn is here,
so the two sources meet in one place; and what else is neither a sessions row
nor a message: the messages queued for a session (`tui.tau.queued`), its
retirement as tau pushed it, the unstored LLM calls its stream showed. Pure
functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from ..model.snapshots import (
    CHAT_ROLES,
    DEPENDENCY_MET_STATES,
    Message,
    SessionHeader,
    SessionPane,
    TaskRow,
    TaskSessionInfo,
    TokenUse,
    phase_rank,
)
from .decode import as_int, as_str
from .events import LivePhase
from .records import Link, MsgStats, SessionRecord

if TYPE_CHECKING:
    from .live import LiveTracker
    from .queued import QueuedMessages


class Liveness(Protocol):
    """Whether a session is running now, and the phase to show for it.

    One object per read, asked about every session that has a record on disk
    (a session missing from tau.db is never live). Two objects that compare
    equal answer alike for every session whose live state did not change
    (`LiveTracker.changed_since` names those that did): the task list rebuilds
    all its rows when the object differs from the previous read's.
    """

    def live(self, session_id: str, persisted_phase: str | None) -> tuple[bool, str | None]:
        """(is_live, phase shown) given the phase tau last wrote to disk."""
        ...

    def source(self, session_id: str) -> str:
        """Where the phase shown comes from: "server", "pending" or "disk"."""
        ...

    def detail(self, session_id: str) -> LivePhase | None:
        """What the server says of a session (times, newest streamed line)."""
        ...

    def queued(self, session_id: str) -> tuple[int, int | None]:
        """Messages waiting for the session's next turn, and the oldest's time (ms)."""
        ...

    def successor(self, session_id: str) -> str | None:
        """The successor tau pushed (``session_succeeded``), if it did."""
        ...

    def unpriced(self, session_id: str) -> tuple[int, int]:
        """(compactions, loop reviews) its stream showed: LLM calls tau never stores."""
        ...


@dataclass(frozen=True, slots=True)
class ServerLiveness:
    """tau's server's word (TAU.md §5.2), read from the subscriptions the
    tracker holds. With the server up, a session it has not been asked about
    is idle (tau's default for a session it holds nothing for); one asked and
    not answered yet, or over the subscription cap, shows its persisted phase,
    marked as such. With no server, nothing is live and the phases shown are
    the persisted ones."""

    up: bool
    epoch: int  # moves when every session's answer may have changed
    tracker: LiveTracker = field(compare=False, repr=False)
    #: What waits in queued_messages (a change of it marks its sessions' tasks).
    queue: QueuedMessages | None = field(default=None, compare=False, repr=False)

    def live(self, session_id: str, persisted_phase: str | None) -> tuple[bool, str | None]:
        if not self.up:
            return False, persisted_phase
        p = self.tracker.phase(session_id)
        if p is not None:
            return p.live, p.label
        if self.tracker.pending(session_id):
            return False, persisted_phase
        return False, "idle"

    def source(self, session_id: str) -> str:
        if not self.up:
            return "disk"
        if self.tracker.phase(session_id) is None and self.tracker.pending(session_id):
            return "pending"
        return "server"

    def detail(self, session_id: str) -> LivePhase | None:
        return self.tracker.phase(session_id) if self.up else None

    def queued(self, session_id: str) -> tuple[int, int | None]:
        return self.queue.of(session_id) if self.queue is not None else (0, None)

    def successor(self, session_id: str) -> str | None:
        return self.tracker.pushes.successor(session_id)

    def unpriced(self, session_id: str) -> tuple[int, int]:
        return self.tracker.pushes.unpriced(session_id)


def _last_activity_ms(row: SessionRecord, st: MsgStats | None) -> int:
    """The newest message's time, or the session's creation without messages."""
    return st.last_created if st and st.count and st.last_created else row.created_at


def session_info(session_id: str, role: str, created_at: int, row: SessionRecord | None,
                 st: MsgStats | None, liveness: Liveness) -> TaskSessionInfo:
    """A task's session: the bare task_sessions row, enriched from tau.db if it is there."""
    if row is None:
        return TaskSessionInfo(
            session_id=session_id, role=role, created_at=created_at,
            message_count=None, archived=None, last_activity=None,
            last_phase=None, last_exit_status=None, is_live=False,
        )
    is_live, phase = liveness.live(session_id, row.last_phase)
    queued, since = liveness.queued(session_id)
    return TaskSessionInfo(
        session_id=session_id, role=role, created_at=created_at,
        message_count=st.count if st else 0,
        archived=row.archived,
        last_activity=_last_activity_ms(row, st) // 1000,
        last_phase=phase,
        last_exit_status=row.last_exit_status,
        is_live=is_live, tau_loads=row.tau_loads,
        queued=queued, queued_since=since,
        successor_id=row.successor_id or liveness.successor(session_id),
    )


def task_row(tid: int, r: tuple, links: Sequence[Link], sessions: Mapping[str, SessionRecord],
             stats: Mapping[str, MsgStats], blocked: tuple[int, ...], liveness: Liveness) -> TaskRow:
    """One task's list row from the kept state (``r``: the task's list columns).

    Live sessions are counted apart by role: the task's own working sessions,
    and the chats that filed or discussed it (CHAT_ROLES), so a live
    orchestrator does not look like work on every task it filed. Sessions never
    read (those of long-finished tasks) count, but carry no liveness or
    activity. The same rules as `session_info`, inlined: this runs for every task.
    A retired session live beside its successor on the same task (the
    successor took over while the old turn ends) is counted once.
    """
    live_of, queued_of = liveness.live, liveness.queued
    live = chat = queued = 0
    busiest: str | None = None
    chat_busiest: str | None = None
    last: int | None = None
    oldest: int | None = None
    for sid, role, _ in links:
        row = sessions.get(sid)
        if row is None:
            continue
        st = stats.get(sid)
        act = (st.last_created if st and st.count and st.last_created else row.created_at) // 1000
        last = act if last is None or act > last else last
        n, since = queued_of(sid)
        if n:
            queued += n
            oldest = since if oldest is None or (since is not None and since < oldest) else oldest
        is_live, phase = live_of(sid, row.last_phase)
        if not is_live or (row.successor_id and _live_successor(row, links, sessions, liveness)):
            continue
        if role in CHAT_ROLES:
            chat += 1
            if chat_busiest is None or phase_rank(phase) > phase_rank(chat_busiest):
                chat_busiest = phase
        else:
            live += 1
            if busiest is None or phase_rank(phase) > phase_rank(busiest):
                busiest = phase
    owner = r[9] if len(r) > 9 else None
    return TaskRow(
        id=tid, title=as_str(r[2]), state=as_str(r[3], "?"), priority=as_int(r[4]),
        project=as_str(r[1]), parent_id=None if r[5] is None else as_int(r[5]),
        held=bool(as_int(r[6])), created_at=as_int(r[7]), updated_at=as_int(r[8]),
        session_count=len(links), live_count=live, busiest_phase=busiest,
        last_activity=last, blocked_by=blocked, chat_live=chat, chat_phase=chat_busiest,
        owner=None if owner is None else (as_str(owner) or None), queued=queued, queued_since=oldest,
    )


def _live_successor(row: SessionRecord, links: Sequence[Link], sessions: Mapping[str, SessionRecord],
                    liveness: Liveness) -> bool:
    """``row``'s successor is on the same task and live (then it is the one counted)."""
    succ = row.successor_id
    other = sessions.get(succ) if succ else None
    return (other is not None and any(sid == succ for sid, _, _ in links)
            and liveness.live(succ, other.last_phase)[0])


def _busiest(infos: Sequence[TaskSessionInfo]) -> str | None:
    return max(infos, key=lambda i: phase_rank(i.last_phase)).last_phase if infos else None


def detail_task_row(d: Mapping[str, object], infos: Sequence[TaskSessionInfo],
                    deps_states: Sequence[tuple[int, str]]) -> TaskRow:
    """The task screen's row, from the whole ``tasks`` row and all its sessions'
    infos (built by `session_info`, so liveness is already decided).
    ``deps_states``: (id, state) of the depends_on targets in the store; those
    not merged or closed block (TAU.md §4.5)."""
    live_ids = {i.session_id for i in infos if i.is_live}
    counted = [i for i in infos if i.is_live and not (i.successor_id and i.successor_id in live_ids)]
    working = [i for i in counted if i.role not in CHAT_ROLES]
    chats = [i for i in counted if i.role in CHAT_ROLES]
    waiting = [i for i in infos if i.queued]
    acts = [i.last_activity for i in infos if i.last_activity is not None]
    blocked = tuple(sorted(t for t, st in deps_states if st not in DEPENDENCY_MET_STATES))
    owner = d.get("session_id")
    return TaskRow(
        id=as_int(d.get("id")), title=as_str(d.get("title")), state=as_str(d.get("state"), "?"),
        priority=as_int(d.get("priority")),
        project=as_str(d.get("project_name", d.get("project"))),
        parent_id=None if d.get("parent_id") is None else as_int(d.get("parent_id")),
        held=bool(as_int(d.get("held"))), created_at=as_int(d.get("created_at")),
        updated_at=as_int(d.get("updated_at")), session_count=len(infos),
        live_count=len(working), busiest_phase=_busiest(working),
        last_activity=max(acts) if acts else None, blocked_by=blocked,
        chat_live=len(chats), chat_phase=_busiest(chats),
        owner=None if owner is None else (as_str(owner) or None),
        queued=sum(i.queued for i in waiting),
        queued_since=min((i.queued_since for i in waiting if i.queued_since is not None), default=None),
    )


def _times(detail: LivePhase | None) -> tuple[float | None, float | None, str]:
    """(phase since, turn since, newest streamed line) of a live session, in s."""
    if detail is None or not detail.live:
        return None, None, ""
    since = detail.phase_started_ms / 1000 if detail.phase_started_ms else None
    turn = detail.turn_started_ms / 1000 if detail.turn_started_ms else None
    return since, turn, detail.activity


def context_pct(use: TokenUse | None, row: SessionRecord | None) -> float | None:
    """tau's ``context_pct``: the newest usable turn's input and cache tokens
    over the model's context window (TAU.md §3, §7.3)."""
    if use is None or use.context is None or row is None or not row.context_window:
        return None
    return use.context / row.context_window * 100


def pane(info: TaskSessionInfo, row: SessionRecord | None, *, tokens: int, cost: float,
         usage_complete: bool, recent: tuple[Message, ...], liveness: Liveness,
         use: TokenUse | None = None, unreadable: int = 0) -> SessionPane:
    """A session's pane on the task screen: its info plus what the pane shows.
    With a message row tau cannot parse, tau reads the whole history as empty
    (TAU.md §6.1): the record then says 0 messages, as tau's would."""
    rows = info.message_count or 0
    if unreadable:
        info = replace(info, message_count=0)
    since, turn, activity = _times(liveness.detail(info.session_id) if info.is_live else None)
    return SessionPane(
        info=info,
        tagline=row.tagline if row else "",
        model=row.model if row else "",
        parent_id=row.parent_id if row else None,
        tokens=tokens, cost=cost, usage_complete=usage_complete,
        phase_since=since, recent=recent, turn_since=turn,
        phase_source=liveness.source(info.session_id) if row else "disk", activity=activity,
        use=use, context_pct=context_pct(use, row), unreadable=unreadable, rows=rows,
        unpriced=liveness.unpriced(info.session_id),
    )


def session_header(session_id: str, row: SessionRecord | None, st: MsgStats | None, *,
                   tokens: int, cost: float, usage_complete: bool,
                   liveness: Liveness, use: TokenUse | None = None, epoch: int = 0,
                   unreadable: int = 0) -> SessionHeader:
    """The transcript's header; a session missing from tau.db is ``gone``, not live."""
    is_live, phase = liveness.live(session_id, row.last_phase) if row is not None else (False, None)
    since, turn, activity = _times(liveness.detail(session_id) if is_live else None)
    queued, queued_since = liveness.queued(session_id) if row is not None else (0, None)
    return SessionHeader(
        id=session_id,
        tagline=row.tagline if row else "",
        model=row.model if row else "",
        archived=row.archived if row else False,
        last_phase=phase,
        last_exit_status=row.last_exit_status if row else None,
        is_live=is_live,
        created_at=row.created_at if row else 0,
        message_count=st.count if st else 0,
        tokens=tokens, cost=cost, usage_complete=usage_complete, gone=row is None,
        phase_since=since, turn_since=turn, activity=activity,
        phase_source=liveness.source(session_id) if row is not None else "disk",
        use=use, context_pct=context_pct(use, row), epoch=epoch,
        unreadable=unreadable, tau_loads=row.tau_loads if row else True,
        queued=queued, queued_since=queued_since,
        successor_id=(row.successor_id if row else None) or liveness.successor(session_id),
        unpriced=liveness.unpriced(session_id),
    )


def unreadable_header(session_id: str) -> SessionHeader:
    """The header when tau.db has nothing to show (missing, or not created yet)."""
    return SessionHeader(id=session_id, tagline="", model="", archived=False,
                         last_phase=None, last_exit_status=None, is_live=False,
                         created_at=0, message_count=0, tokens=0, cost=0.0, gone=True)
