"""Waiting on a host without being held up by it (issue 23: the UI never blocks on a host).

A read of a remote host's task or transcript is a round trip over its link.
The app's refresher does one read at a time, so a host that stalls would
hold every other change back for as long as the read waits. `unless_left`
lets such a read go the moment its screen is no longer the one shown (the
operator left it): the refresher is free for the screen now shown at once.
The read's own deadline (`tui.remote.source.REQUEST_TIMEOUT`) bounds the
rest: then the screen keeps its last good data, marked stale. No Textual
here: the app says what "its screen is still shown" means.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
#: How often (s) a read still under way checks that its screen is shown.
CHECK_EVERY_S = 0.05


class Left(Exception):
    """The screen a read was for is gone: the read was let go."""


async def unless_left(read: Awaitable[T], wanted: Callable[[], bool], *,
                      meanwhile: Callable[[], None] | None = None, every: float = CHECK_EVERY_S) -> T:
    """``read``'s result; `Left` (the read cancelled) as soon as ``wanted()``
    is false. ``meanwhile()`` is called at each check while it waits (what
    must not wait for the host: the status line, the notifier)."""
    task = asyncio.ensure_future(read)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=every)
            if done:
                return task.result()
            if not wanted():
                raise Left()
            if meanwhile is not None:
                meanwhile()
    finally:
        if not task.done():
            task.cancel()  # its request is forgotten: a late answer is dropped
