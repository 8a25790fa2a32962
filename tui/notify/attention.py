"""What the screens need from the engine: the stalled marks on their data, and
the notifications screen's lines (what needs attention now, then the log).

Plain values and strings: the app applies `mark` to each snapshot before a
screen gets it, and hands the lines to the screen, which only draws them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TypeVar

from ..model.snapshots import SessionPane, TaskDetail, TaskListSnapshot, TaskRow
from .engine import Engine, Event
from .marks import StalledPane, StalledRow, copy_as

D = TypeVar("D")
#: (when, kind, message) per line.
Line = tuple[str, str, str]
#: Lines per kind in the "needs attention" part.
ATTENTION_SHOWN = 20
#: Failed tasks count as needing attention this long after they failed (s).
FAILED_RECENT_S = 86_400.0


def mark(data: D, engine: Engine) -> D:
    """``data`` with its stalled tasks and panes marked (unchanged if none).

    A task list that says what it differs by from the one before (its
    ``delta``: the screen regroups only those rows) says so of the marks too:
    a row that gains its mark, and one that loses it since the last list, is
    in the delta, though the store did not build it again."""
    stalled = engine.stalled if engine.last is not None else {}
    if isinstance(data, TaskListSnapshot):
        tasks = engine.stalled_tasks() if stalled else frozenset()
        touched = tasks | engine.marked_tasks
        engine.marked_tasks = tasks
        if not touched:
            return data
        rows = tuple(_row(t, engine) if t.id in tasks else t for t in data.tasks)
        delta = data.delta
        if delta is not None:
            changed = {r.id: r for r in delta.rows}
            changed.update((r.id, r) for r in rows if r.id in touched)
            delta = replace(delta, rows=tuple(changed.values()))
        return replace(data, tasks=rows, delta=delta)  # type: ignore[return-value]
    if not stalled:
        return data
    if isinstance(data, TaskDetail):
        panes = tuple(_pane(p, engine) if p.info.session_id in engine.stalled else p
                      for p in data.sessions)
        task = _row(data.task, engine) if data.task.id in engine.stalled_tasks() else data.task
        return replace(data, task=task, sessions=panes)  # type: ignore[return-value]
    return data


def _row(t: TaskRow, engine: Engine) -> TaskRow:
    if isinstance(t, StalledRow):
        return t
    sids = tuple(sorted(sid for sid, st in engine.stalled.items() if t.id in st.tasks))
    since = min(engine.stalled[sid].since for sid in sids) if sids else 0.0
    return copy_as(StalledRow, t, stalled_since=since, stalled_sessions=sids)


def _pane(p: SessionPane, engine: Engine) -> SessionPane:
    st = engine.stalled[p.info.session_id]
    if isinstance(p, StalledPane):
        return p
    return copy_as(StalledPane, p, stalled_since=st.since, stall_after_s=st.after_s)


def _when(at: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at)) if at else "--:--:--"


def attention_lines(engine: Engine) -> list[Line]:
    """Stalled sessions first (the quietest first), then sessions not running
    with a message waiting too long (the oldest first), then tasks awaiting
    approval, in review, and failed in the last day."""
    last = engine.last
    if last is None:
        return []
    out: list[Line] = []
    stalled: list[tuple[float, Line]] = []
    for sid, st in engine.stalled.items():
        tid = min(st.tasks)
        s = last.sessions[(tid, sid)]
        title = last.tasks[tid].title if tid in last.tasks else ""
        stalled.append((st.since, (_when(st.since), "stall",
                                   f"#{tid} {title} · {s.info.role} {sid} · {s.info.last_phase} · "
                                   f"quiet {(last.taken_at - st.since) / 60:.0f} min "
                                   f"(limit {st.after_s / 60:.0f})")))
    out.extend(line for _, line in sorted(stalled)[:ATTENTION_SHOWN])
    waiting: list[tuple[float, Line]] = []
    for sid, w in engine.waiting.items():
        tid = min(w.tasks)
        s = last.sessions[(tid, sid)]
        title = last.tasks[tid].title if tid in last.tasks else ""
        waiting.append((w.since, (_when(w.since), "queued",
                                  f"#{tid} {title} · {s.info.role} {sid} not running · {w.count} "
                                  f"queued, oldest {(last.taken_at - w.since) / 60:.0f} min "
                                  f"(limit {w.after_s / 60:.0f})")))
    out.extend(line for _, line in sorted(waiting)[:ATTENTION_SHOWN])
    groups: dict[str, list[tuple[int, Line]]] = {"approval": [], "review": [], "failed": []}
    for t in last.tasks.values():
        kind = "approval" if t.awaits_approval else t.state if t.state in ("review", "failed") else None
        if kind is None or (kind == "failed" and last.taken_at - t.updated_at / 1000 > FAILED_RECENT_S):
            continue
        groups[kind].append((-t.updated_at, (_when(t.updated_at / 1000), kind, f"#{t.id} {t.title}")))
    for kind in ("approval", "review", "failed"):
        out.extend(line for _, line in sorted(groups[kind])[:ATTENTION_SHOWN])
    return out


def heading(engine: Engine, new: int = 0) -> str:
    """Since when transitions are told (the first look is the baseline), and how
    many notifications are new since `!` was last open (toasts show one of a burst)."""
    if engine.since is None:
        return "Taking the first look…"
    news = f"\n{new} new since you last looked here" if new else ""
    return f"Watching since {_when(engine.since)}: what changed after that is told{news}"


def new_since(log: Sequence[Event], mark: Event | None) -> int:
    """How many notifications came after ``mark`` (the newest one when `!` was
    last closed); the log holds the newest first."""
    for i, event in enumerate(log):
        if event is mark:
            return i
    return len(log)


def log_lines(log: Iterable[Event]) -> list[Line]:
    """The notifications told, in the order given (the notifier keeps the newest first)."""
    return [(_when(e.at), e.notify or e.kind, e.message) for e in log]
