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


#: The store's message gaps (the stall thresholds' medians) are read this long
#: after the first picture (s): a stall is minutes away and the floor holds
#: until then, while the first screen of the host and of its neighbours (ten
#: hosts starting at once) comes first.
MEDIANS_AFTER_S = 10.0


class Alerts:
    def __init__(self, store: Store, *, medians_after: float = MEDIANS_AFTER_S) -> None:
        self.store = store
        self.observer = Observer(store)
        self.engine = Engine(StallRule(load()))
        self.medians_after = medians_after
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
            # Beside the feed, not before it, and a while after its start.
            self._medians = asyncio.create_task(self._read_medians())
            self._medians.add_done_callback(self._medians_in)
        stalled = self.engine.stalled
        if stalled == self._stalled:
            return events, None
        self._stalled = dict(stalled)
        return events, self._stalled

    async def _read_medians(self) -> dict[str, float]:
        await asyncio.sleep(self.medians_after)
        return await median_gaps(self.store)

    def _medians_in(self, task: asyncio.Task[dict[str, float]]) -> None:
        if not task.cancelled() and task.exception() is None:
            self.engine.rule.medians.update(task.result())

    async def close(self) -> None:
        if self._medians is not None:
            self._medians.cancel()
            with contextlib.suppress(BaseException):
                await self._medians
