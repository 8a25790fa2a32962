"""The feed's stdout, bounded: what waits to be written never passes a limit.

The pipe (to ssh, or to the local side) takes what the link can carry; what it
cannot take waits in the transport's buffer. Once that holds `max_queued`
bytes the feed stops producing deltas and waits for room; the next delta is
then made against what was last *sent*, so a slow link gets the newest row of
each task once, not every step of it (coalescing), and the memory held is the
store's own plus at most `max_queued` and one line.
"""

from __future__ import annotations

import asyncio
import os
import time

#: Default bound on the bytes written and not yet taken by the pipe.
MAX_QUEUED = 1024 * 1024


class Closed(Exception):
    """The other end is gone (EPIPE): the feed ends."""


class Outbox:
    def __init__(self, fd: int, max_queued: int = MAX_QUEUED) -> None:
        self.fd = fd
        self.max_queued = max_queued
        self._writer: asyncio.StreamWriter | None = None
        self._file = os.fdopen(fd, "wb", buffering=0, closefd=False)
        #: When the last line went out (the heartbeat is due after a quiet spell).
        self.last_sent = time.monotonic()
        self.bytes_sent = 0

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            transport, protocol = await loop.connect_write_pipe(
                asyncio.streams.FlowControlMixin, self._file)
        except (ValueError, OSError):
            return  # a regular file (stdout redirected to one): plain blocking writes
        transport.set_write_buffer_limits(high=self.max_queued, low=self.max_queued // 4)
        self._writer = asyncio.StreamWriter(transport, protocol, None, loop)

    @property
    def closed(self) -> bool:
        return self._writer is not None and self._writer.transport.is_closing()

    def queued(self) -> int:
        """Bytes written and not yet taken by the pipe."""
        return 0 if self._writer is None else self._writer.transport.get_write_buffer_size()

    def room(self) -> bool:
        """Whether another line may be queued now."""
        return self.queued() <= self.max_queued  # asyncio pauses the writer above it

    def send(self, line: bytes) -> None:
        if self.closed:
            raise Closed()
        self.last_sent = time.monotonic()
        self.bytes_sent += len(line)
        if self._writer is not None:
            self._writer.write(line)
            return
        try:
            self._file.write(line)
        except (BrokenPipeError, ConnectionResetError):
            raise Closed() from None

    async def wait_room(self) -> None:
        """Until the pipe has taken enough (`Closed` if it is gone)."""
        if self._writer is None:
            return
        try:
            while not self.room():
                await self._writer.drain()
                if self.closed:
                    break
        except (ConnectionResetError, BrokenPipeError):
            raise Closed() from None
        if self.closed:
            raise Closed()

    async def close(self) -> None:
        if self._writer is not None and not self.closed:
            self._writer.close()
