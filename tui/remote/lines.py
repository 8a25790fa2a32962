"""Lines from a stream, each at most so long: a longer one is skipped whole,
never buffered (a 10 MB line costs a read buffer, not 10 MB of memory).

asyncio's own ``readline`` clears its buffer on an overlong line and hands the
rest of that line over as the next one; this reader discards up to the end
of the line instead and says so once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

READ_SIZE = 64 * 1024


@dataclass(frozen=True, slots=True)
class Overlong:
    """A line longer than the limit was skipped; ``size``: bytes seen of it
    when it was given up (at least the limit)."""

    size: int


class LineReader:
    def __init__(self, stream: asyncio.StreamReader, limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self._buf = bytearray()
        self._skipping = 0  # bytes of an overlong line skipped so far (0: not skipping)
        self._eof = False
        self._scanned = 0  # no newline in the buffer before this offset
        #: Bytes read so far (the benchmark's bytes on the wire).
        self.bytes_read = 0

    async def next(self) -> bytes | Overlong | None:
        """The next line (without its newline), an `Overlong`, or None at the end."""
        while True:
            nl = self._buf.find(b"\n", self._scanned)
            if nl < 0:
                self._scanned = len(self._buf)
            else:
                self._scanned = 0
                if self._skipping:
                    skipped = self._skipping + nl
                    del self._buf[:nl + 1]
                    self._skipping = 0
                    return Overlong(skipped)
                line = bytes(self._buf[:nl])
                del self._buf[:nl + 1]
                if len(line) > self.limit:
                    return Overlong(len(line))
                return line
            if self._skipping:
                self._skipping += len(self._buf)
                self._buf.clear()
                self._scanned = 0
            elif len(self._buf) > self.limit:
                self._skipping = len(self._buf)
                self._buf.clear()
                self._scanned = 0
            if self._eof:
                if self._skipping:
                    self._skipping = 0
                    return Overlong(self.limit)
                if self._buf:  # a last line without its newline
                    line = bytes(self._buf)
                    self._buf.clear()
                    self._scanned = 0
                    return line
                return None
            chunk = await self.stream.read(READ_SIZE)
            if not chunk:
                self._eof = True
            self.bytes_read += len(chunk)
            self._buf += chunk
