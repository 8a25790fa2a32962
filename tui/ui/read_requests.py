"""The refresher's inbox: what was asked of it since its last read, merged.

Any number of requests between two reads make one read (a burst of file
events, a push from tau's server, a key): `ask` only records what kind of read
is wanted and wakes the refresher, which takes the lot when it gets to it.
One small object rather than loose flags on the App, so that what a request
means is said in one place.
"""

from __future__ import annotations

import asyncio


class ReadRequests:
    """What the next read must do, and whether one is under way."""

    def __init__(self) -> None:
        self._wake = asyncio.Event()
        #: Read even if no data version moved (a screen opened, a notification, `r`).
        self.force = False
        #: The operator asked (`r`): a pause does not hold it back.
        self.through_pause = False
        #: A file event asked: a commit is on its way (look again if none shows yet).
        self.event = False
        #: A read is under way.
        self.reading = False

    def ask(self, *, force: bool = False, event: bool = False, through_pause: bool = False) -> None:
        self.force = self.force or force
        self.through_pause = self.through_pause or through_pause
        self.event = self.event or event
        self._wake.set()

    async def wait(self) -> None:
        """Until something was asked."""
        await self._wake.wait()

    def take(self) -> tuple[bool, bool]:
        """(force, through_pause) asked since the last take; both start afresh.
        The file event is taken apart (`take_event`), by a read that happens:
        one held back by a pause still owes its look."""
        self._wake.clear()
        taken = (self.force, self.through_pause)
        self.force = self.through_pause = False
        return taken

    def take_event(self) -> bool:
        event, self.event = self.event, False
        return event

    @property
    def idle(self) -> bool:
        """Nothing asked and nothing under way."""
        return not self._wake.is_set() and not self.reading
