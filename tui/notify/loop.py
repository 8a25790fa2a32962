"""When the app's notifier looks: after a read was applied or tau's server said
something, and every few seconds (a stall is the absence of change)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable

from .notifier import Notifier

#: Quiet time between two looks while nothing changes (s): stalls are found this late at most.
STALL_LOOK_S = 5.0
#: How often the change marks are compared (two integers) (s).
POLL_S = 0.1


async def notify_loop(notifier: Notifier, marks: Callable[[], Hashable], stop: asyncio.Event,
                      on_error: Callable[[str], None] | None = None) -> None:
    seen: Hashable = object()
    last = 0.0
    while not stop.is_set():
        now_marks = marks()
        if now_marks != seen or time.monotonic() - last >= STALL_LOOK_S:
            seen, last = now_marks, time.monotonic()
            try:
                await notifier.check()
            except Exception as exc:  # noqa: BLE001 - notifications never stop the dashboard
                if on_error is not None:
                    on_error(f"notifications: {exc!r}")
        await asyncio.sleep(POLL_S)
    await notifier.close()
