"""The app's side of the engine: look at the fleet, tell what changed.

Plain Python: the app hands in two callables (a toast, and a write to its
terminal driver), so this module needs no Textual. Each notification goes to
every sink the settings switch on, once; the log keeps the newest. A look
costs two PRAGMAs while nothing changed; a picture is taken only when the
store or tau's server moved, when a live session's stall threshold (or a
queued message's) has passed, and every few seconds while a session is
flagged stalled (a streamed event that keeps its phase is a sign of life the
tracker notes nowhere: the next picture clears the flag). A quiet fleet
costs no picture at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace

from ..model.hosts import host_words
from ..tau.store import Store
from .engine import Engine, Event
from .hook import Hooks
from .observe import Observer
from .settings import NotifySettings
from .stall import StallRule, median_gaps
from .terminal import in_tmux, sequences
from .throttle import Throttle

#: The log screen keeps this many notifications.
LOG_SIZE = 500
#: How often the role medians behind the stall thresholds are read again (s).
MEDIANS_EVERY_S = 600.0
#: The store's versions are compared when the app is told something may have
#: changed (`poke`: a file event, the watcher's tick, a word from tau's server),
#: at most this often (s).
LOOK_EVERY_S = 0.25
#: A look at least this often (s), and a picture this often while a session
#: is flagged stalled, even with nothing moving.
PICTURE_EVERY_S = 5.0
#: Severity of each kind's toast.
SEVERITY = {"exit": "error", "failed": "error", "stall": "warning", "queued": "warning", "server": "warning",
            "review": "information", "approval": "information"}

Toast = Callable[[str, str, str], None]  # (message, title, severity)


class Notifier:
    def __init__(self, store: Store | None, settings: NotifySettings, *,
                 toast: Toast | None = None, write: Callable[[str], None] | None = None,
                 tmux: bool | None = None) -> None:
        self.store = store
        self.settings = settings
        self.engine = Engine(StallRule(settings))
        #: None without this machine's store (only remote hosts shown): then it
        #: looks at nothing and tells what the hosts' own engines found (`tell`).
        self.observer = Observer(store) if store is not None else None
        #: With several hosts, this machine's name: its events say it, as theirs do.
        self.host: str | None = None
        self.toast = toast
        self.write = write
        self.tmux = in_tmux() if tmux is None else tmux
        self.hooks = Hooks(settings.command, settings.command_timeout)
        #: The bell, OSC and the command: at most once per kind per repeat_s.
        self.throttle = Throttle(settings.repeat_s)
        self.log: deque[Event] = deque(maxlen=LOG_SIZE)
        self._medians_at = -MEDIANS_EVERY_S
        self._seen: object = None
        self._wake = asyncio.Event()
        self._pictured_at = -PICTURE_EVERY_S
        #: Looks and pictures taken so far (tests wait on them).
        self.looks = 0
        self.pictures = 0
        #: Moves when the log or the stalled set changes (the screens show both).
        self.version = 0

    async def run(self, stop: asyncio.Event, on_change: Callable[[], None] | None = None,
                  on_error: Callable[[str], None] | None = None) -> None:
        """Look until ``stop``; ``on_change`` after a look that moved `version`."""
        if self.toast is not None and self.settings.problems:  # one toast for them all
            self.toast("\n".join(self.settings.problems), "sessiontop: config", "warning")
        try:
            while not stop.is_set():
                self._wake.clear()
                version = self.version
                try:
                    await self.look()
                except Exception as exc:  # noqa: BLE001 - notifications never stop the dashboard
                    if on_error is not None:
                        on_error(f"notifications: {exc!r}")
                if self.version != version and on_change is not None:
                    on_change()
                self._send_held()
                await asyncio.sleep(LOOK_EVERY_S)
                # Then until poked, a stall falls due, or a picture is owed: an
                # idle dashboard does not ask the store four times a second.
                due = self.engine.next_stall_at
                wait = PICTURE_EVERY_S if due is None else min(PICTURE_EVERY_S, max(0.0, due - time.time()) + 0.05)
                held = self.throttle.next_due()  # a burst's held rest goes out on time
                if held is not None:
                    wait = min(wait, max(0.0, held - time.monotonic()) + 0.05)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
        finally:
            await self.close()

    def poke(self) -> None:
        """Something may have changed (a file event, the watcher's tick, tau's server spoke)."""
        self._wake.set()

    async def look(self) -> list[Event]:
        """A picture if something may have changed, else nothing (two PRAGMAs)."""
        if self.store is None:
            return []
        key = (await self.store.data_versions(), self.store.live.version)
        self.looks += 1
        due = self.engine.next_stall_at
        clear = bool(self.engine.stalled) and time.monotonic() - self._pictured_at >= PICTURE_EVERY_S
        if key == self._seen and not clear and (due is None or time.time() <= due):
            return []
        self._seen = key
        return await self.check()

    async def check(self) -> list[Event]:
        """Take a picture of the fleet, step the engine, tell what is worth it."""
        if self.engine.baselined and time.monotonic() - self._medians_at >= MEDIANS_EVERY_S:
            self._medians_at = time.monotonic()
            self.engine.rule.medians = await median_gaps(self.store)
        stalled, waiting = self.engine.stalled, self.engine.waiting
        events = self.engine.step(await self.observer.take())
        self._pictured_at = time.monotonic()
        self.pictures += 1
        told = [e for e in events if e.notify and e.notify in self.settings.kinds]
        for event in told:
            self.tell(event)
        if told or stalled.keys() != self.engine.stalled.keys() or waiting.keys() != self.engine.waiting.keys():
            self.version += 1
        return events

    def tell(self, event: Event) -> None:
        """One notification: to the log and the toast each time; to the bell,
        the terminal and the command unless one of its kind went out less than
        repeat_s ago (then it goes with the rest of the burst, `_send_held`).
        With hosts, an event of this machine says so, as a remote host's does."""
        if self.host is not None and event.host is None:
            event = replace(event, host=self.host, message=host_words(self.host, event.message, event.task_id))
        self.log.appendleft(event)
        s = self.settings
        if s.toast and self.toast is not None:
            severity = "information" if event.kind == "server" and event.new == "up" else \
                SEVERITY.get(event.notify or "", "warning")
            self.toast(event.message, f"sessiontop: {event.notify}", severity)
        now = self.throttle.offer(event, time.monotonic())
        if now is not None:
            self._send(now)

    def _send_held(self) -> None:
        for event in self.throttle.due(time.monotonic()):
            self._send(event)

    def _send(self, event: Event) -> None:
        """The bell, the terminal's notification and the command, for one event
        (and the ``more`` it stands for)."""
        if self.write is not None:
            more = f" (+{event.more} more)" if event.more else ""
            seq = sequences(f"sessiontop: {event.notify}", event.message + more, self.settings,
                            tmux=self.tmux)
            if seq:
                self.write(seq)
        self.hooks.fire(event)

    async def close(self) -> None:
        await self.hooks.close()
