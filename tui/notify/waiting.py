"""Messages waiting too long for a session that is not running.

tau feeds a queued message into the session's next turn: at once if the
session is idle (it resumes it), before the next LLM call if it runs. A
message queued while a turn ends, or for a session whose resume failed, waits
until some later run or the next server start (TAU.md §2.1; notifications.rs
``queue_and_maybe_resume``, mod.rs ``spawn_auto_resume_tasks``). So a message
older than the threshold (``[notify] queued_minutes``, 10 by default,
`tui.notify.settings`) for a
session that is not live is a thing the operator may want to know: it needs
attention on `!` and is told once, as the ``queued`` kind. Plain Python.
"""

from __future__ import annotations

from dataclasses import dataclass

from .observe import FleetState

@dataclass(frozen=True, slots=True)
class Waiting:
    """A session that is not live with a message waiting past the threshold."""

    tasks: frozenset[int]  # the tasks it is on
    since: float  # s: when its oldest waiting message was queued
    count: int  # messages waiting
    after_s: float  # the threshold it passed


def find_waiting(state: FleetState, after_s: float) -> tuple[dict[str, Waiting], float | None]:
    """The sessions waiting past ``after_s``, and when the next one would (s)."""
    now = state.taken_at
    out: dict[str, Waiting] = {}
    next_at: float | None = None
    entries = state.sessions
    for tid, sid in entries if state.maybe_queued is None else state.maybe_queued:
        s = entries.get((tid, sid))
        if s is None:
            continue
        info = s.info
        if not info.queued or info.queued_since is None or info.is_live:
            continue
        since = info.queued_since / 1000
        due = since + after_s
        if now > due:
            had = out.get(sid)
            out[sid] = Waiting(tasks=(had.tasks if had else frozenset()) | {tid}, since=since,
                               count=info.queued, after_s=after_s)
        elif next_at is None or due < next_at:
            next_at = due
    return out, next_at


def words(count: int, sid: str, role: str, tid: int, minutes: float) -> str:
    """"2 messages queued 14 min ago for worker s12 of task #3, which is not running"."""
    what = "1 message" if count == 1 else f"{count} messages"
    ago = "under a minute" if minutes < 1 else f"{minutes:.0f} min"
    return f"{what} queued {ago} ago for {role} {sid} of task #{tid}, which is not running"
