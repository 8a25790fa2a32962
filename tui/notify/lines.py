"""The notifications screen's lines, from the notifier (plain strings)."""

from __future__ import annotations

import time

from .notifier import Notifier

Line = tuple[str, str, str]


def _when(at: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at))


def screen_lines(notifier: Notifier) -> tuple[list[Line], list[Line]]:
    """(stalled sessions now, most quiet first; the log, newest first)."""
    last = notifier.engine._last  # noqa: SLF001 - the engine's newest picture
    attention: list[tuple[float, Line]] = []
    if last is not None:
        seen: set[str] = set()
        for (tid, sid), s in last.sessions.items():
            if sid in notifier.engine.stalled and sid not in seen:
                seen.add(sid)
                quiet = last.taken_at - (s.last_event or last.taken_at)
                title = last.tasks[tid].title if tid in last.tasks else ""
                attention.append((-quiet, (_when(s.last_event or 0), "stall",
                                  f"#{tid} {title} · {s.info.role} {sid} · {s.info.last_phase} · "
                                  f"quiet {quiet / 60:.0f} min")))
    attention.sort(key=lambda x: x[0])
    log = [(_when(e.at), e.notify or e.kind, e.message) for e in notifier.log]
    return [a for _, a in attention], log
