"""The app's side of the engine: take a picture after each read, tell what changed.

Plain Python: the app hands in two callables (a toast, and a write to its
terminal driver), so this module needs no Textual. Each notification goes to
every sink the settings switch on, once; the log keeps the newest.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from ..store import Store
from .engine import Engine, Event
from .hook import Hooks
from .observe import observe
from .settings import NotifySettings
from .stall import StallRule, median_gaps
from .terminal import in_tmux, sequences

#: The log screen keeps this many notifications.
LOG_SIZE = 500
#: How often the role medians behind the stall thresholds are read again (s).
MEDIANS_EVERY_S = 600.0


class Notifier:
    def __init__(self, store: Store, settings: NotifySettings, *,
                 toast: Callable[[str, str, str], None] | None = None,
                 write: Callable[[str], None] | None = None,
                 tmux: bool | None = None) -> None:
        self.store = store
        self.settings = settings
        self.engine = Engine(StallRule(settings))
        self.toast = toast
        self.write = write
        self.tmux = in_tmux() if tmux is None else tmux
        self.hooks = Hooks(settings.command, settings.command_timeout)
        self.log: deque[Event] = deque(maxlen=LOG_SIZE)
        self._medians_at = -MEDIANS_EVERY_S
        self.version = 0  # moves when the log or the stalled set changes

    async def check(self) -> list[Event]:
        """Take a picture of the fleet, step the engine, tell what is worth it."""
        if time.monotonic() - self._medians_at >= MEDIANS_EVERY_S and self.engine.baselined:
            self._medians_at = time.monotonic()
            self.engine.rule.medians = await median_gaps(self.store)
        stalled = self.engine.stalled
        events = self.engine.step(await observe(self.store))
        told = [e for e in events if e.notify and e.notify in self.settings.kinds]
        for event in told:
            self.tell(event)
        if told or stalled != self.engine.stalled:
            self.version += 1
        return events

    def tell(self, event: Event) -> None:
        self.log.appendleft(event)
        s = self.settings
        title = f"sessiontop: {event.notify}"
        if s.toast and self.toast is not None:
            severity = "information" if event.notify in ("review", "server") and event.new != "down" \
                else "warning"
            self.toast(event.message, title, severity)
        if self.write is not None:
            seq = sequences(title, event.message, s, tmux=self.tmux)
            if seq:
                self.write(seq)
        self.hooks.fire(event)

    async def close(self) -> None:
        await self.hooks.close()
