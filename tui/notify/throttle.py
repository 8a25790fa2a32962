"""At most one bell, terminal notification and command run per kind in a while.

A burst of transitions (a server restart fails five turns at once) would ring
the bell five times and stack five desktop notifications. The first of each
kind goes out at once; the rest of that kind within the interval are held and
go out as one when it is up: the newest, with how many more it stands for
(``Event.more``). Nothing is lost: the `!` log and ``sessiontop watch`` have
every event. Plain Python, no clock of its own: the caller says what time it is.
"""

from __future__ import annotations

from dataclasses import replace

from .engine import Event


class Throttle:
    def __init__(self, every_s: float) -> None:
        """``every_s``: the least time between two sends of one kind (0: no limit)."""
        self.every_s = every_s
        self._sent_at: dict[str, float] = {}
        #: kind -> (the newest held event, how many are held)
        self._held: dict[str, tuple[Event, int]] = {}

    def offer(self, event: Event, now: float) -> Event | None:
        """``event`` if it may go out now, else None (held for `due`)."""
        kind = event.notify or event.kind
        last = self._sent_at.get(kind)
        if self.every_s <= 0 or (last is None or now - last >= self.every_s) and kind not in self._held:
            self._sent_at[kind] = now
            return event
        _, count = self._held.get(kind, (event, 0))
        self._held[kind] = (event, count + 1)
        return None

    def due(self, now: float) -> list[Event]:
        """The held events whose kind may go out again: one per kind, the newest,
        its ``more`` saying how many others it stands for."""
        out: list[Event] = []
        for kind, (event, count) in list(self._held.items()):
            if now - self._sent_at.get(kind, now - self.every_s) >= self.every_s:
                del self._held[kind]
                self._sent_at[kind] = now
                out.append(replace(event, more=count - 1) if count > 1 else event)
        return out

    def next_due(self) -> float | None:
        """When the first held kind may go out (None: nothing held)."""
        times = [self._sent_at.get(kind, 0.0) + self.every_s for kind in self._held]
        return min(times) if times else None
