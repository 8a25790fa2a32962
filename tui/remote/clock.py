"""A host's times on this machine's clock (issue 23: ages of a host's rows).

A host's rows say when things happened by the host's clock (its tau wrote
them, its feed stamped them). If that clock is off, every age shown here is
off by as much: a host two hours behind shows a task touched five minutes
ago as "2h". `RemoteSource` estimates the skew (the host's clock minus this
one: the largest seen of a stamp's time less the time it arrived, as a line's
way here only ever makes it look smaller) and hands out every time a host's
snapshot carries moved onto this clock, in whole seconds: under a second
nothing moves (an age is shown in seconds at best) and the objects stay the
very ones the mirror holds. Ids and message stamps are not times of day: they
stay as the host wrote them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TypeVar

from ..model.snapshots import (
    HistoryEntry, Message, QueuedMessage, SessionHeader, SessionPane, StoreStatus, TaskDetail, TaskRow,
    TaskSessionInfo, Transcript,
)
from ..notify.engine import Event, Stall

R = TypeVar("R", bound=TaskRow)


def shift_of(skew: float | None) -> int:
    """Seconds to take off a host's times: its skew, rounded; 0 under a second."""
    return 0 if skew is None or abs(skew) < 1.0 else round(skew)


def _ms(v: int | None, s: int) -> int | None:
    return None if v is None else v - s * 1000


def _s(v: float | None, s: int) -> float | None:
    return None if v is None else v - s


def _si(v: int | None, s: int) -> int | None:
    return None if v is None else v - s


def row(r: R, s: int) -> R:
    return replace(r, created_at=r.created_at - s * 1000, updated_at=r.updated_at - s * 1000,  # type: ignore[return-value]
                   last_activity=_si(r.last_activity, s), queued_since=_ms(r.queued_since, s))


def _info(i: TaskSessionInfo, s: int) -> TaskSessionInfo:
    return replace(i, created_at=i.created_at - s * 1000, last_activity=_si(i.last_activity, s),
                   queued_since=_ms(i.queued_since, s))


def _message(m: Message, s: int) -> Message:
    return replace(m, created_at=m.created_at - s * 1000)


def _pane(p: SessionPane, s: int) -> SessionPane:
    return replace(p, info=_info(p.info, s), phase_since=_s(p.phase_since, s), turn_since=_s(p.turn_since, s),
                   recent=tuple(_message(m, s) for m in p.recent))


def _history(h: HistoryEntry, s: int) -> HistoryEntry:
    return replace(h, created_at=h.created_at - s * 1000)


def detail(d: TaskDetail, s: int) -> TaskDetail:
    return replace(d, task=row(d.task, s), history=tuple(_history(h, s) for h in d.history),
                   sessions=tuple(_pane(p, s) for p in d.sessions))


def _header(h: SessionHeader, s: int) -> SessionHeader:
    return replace(h, created_at=h.created_at - s * 1000, phase_since=_s(h.phase_since, s),
                   turn_since=_s(h.turn_since, s), queued_since=_ms(h.queued_since, s))


def _queued(q: QueuedMessage, s: int) -> QueuedMessage:
    return replace(q, created_at=q.created_at - s * 1000)


def transcript(t: Transcript, s: int) -> Transcript:
    return replace(t, header=_header(t.header, s), messages=tuple(_message(m, s) for m in t.messages),
                   queued=tuple(_queued(q, s) for q in t.queued))


def status(st: StoreStatus, s: int) -> StoreStatus:
    """The host's status: when its rate limits arrived (their resets are tau's
    provider's own times, not the host's), when its reads went stale."""
    limits = st.limits
    return replace(st, stale_since=_s(st.stale_since, s),
                   limits=None if limits is None else replace(limits, received_at=limits.received_at - s))


def stall(st: Stall, s: int) -> Stall:
    return replace(st, since=st.since - s)


def event(e: Event, s: int) -> Event:
    return replace(e, at=e.at - s)
