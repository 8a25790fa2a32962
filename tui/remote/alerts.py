"""The feed's notifications: the engine of ``sessiontop watch``, on the remote host.

The app's notifier reads the store's own fleet model (`tui.notify.observe`),
which a remote host does not have locally; so the feed runs the same engine
on the same pictures, and sends what it finds: the events (the lines ``watch
--json`` prints) and the set of stalled sessions (the rows' marks). The local
side tells them as it tells its own. The stall thresholds are the remote
host's (its ``[notify]`` settings and its store's medians).
"""

from __future__ import annotations

import asyncio
import contextlib

from ..notify.engine import Engine, Event, Stall
from ..notify.observe import Observer
from ..notify.settings import load
from ..notify.stall import StallRule, median_gaps
from ..tau.store import Store


class Alerts:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.observer = Observer(store)
        self.engine = Engine(StallRule(load()))
        self._stalled: dict[str, Stall] = {}
        self._medians: asyncio.Task[dict[str, float]] | None = None

    @property
    def next_due(self) -> float | None:
        """s (wall clock): when a live session would become stalled."""
        return self.engine.next_stall_at

    async def step(self) -> tuple[list[Event], dict[str, Stall] | None]:
        """A picture: the events since the last one, and the stalled set if it
        changed (None: unchanged). The first picture is the baseline."""
        events = self.engine.step(await self.observer.take())
        if self._medians is None:
            # Beside the feed, not before it (a stall is minutes away; the floor holds until then).
            self._medians = asyncio.create_task(median_gaps(self.store))
            self._medians.add_done_callback(self._medians_in)
        stalled = self.engine.stalled
        if stalled == self._stalled:
            return events, None
        self._stalled = dict(stalled)
        return events, self._stalled

    def _medians_in(self, task: asyncio.Task[dict[str, float]]) -> None:
        if not task.cancelled() and task.exception() is None:
            self.engine.rule.medians.update(task.result())

    async def close(self) -> None:
        if self._medians is not None:
            self._medians.cancel()
            with contextlib.suppress(BaseException):
                await self._medians
