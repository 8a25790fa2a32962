"""The bytes to the terminal: a write that fails ends the app, and none hangs it.

Textual's writer thread takes frames from a queue of 30 and writes them to the
terminal. When a write failed (the terminal vanished: EIO; a pipe closed:
EPIPE) the thread died, the queue filled, and the event loop blocked for ever
on the next frame, signals and all. `TerminalOutput` is the file that thread
writes to: it writes the bytes itself (``os.write``: no Python file lock that a
stuck write could hold at exit), and on a failure it says so once
(``on_gone``) and drops everything after. `put` is the driver's side of the
queue: it waits for room as Textual does, but gives up once the terminal is
gone, or once the process is leaving and the terminal has taken nothing for
`STUCK_S` (a terminal that stopped reading must not keep a signal waiting).
"""

from __future__ import annotations

import os
import queue
import select
import sys
import time
from collections.abc import Callable

#: Flush what is pending beyond this many characters even while frames keep coming.
FLUSH_AT = 65536
#: How long the driver waits for room in the queue between two looks (s).
PUT_STEP_S = 0.1
#: Leaving, a terminal that has taken nothing for this long (s) is given up on.
STUCK_S = 1.0


class TerminalOutput:
    """A file-like for Textual's writer thread, over the terminal's fd."""

    def __init__(self, fd: int, on_gone: Callable[[], None], encoding: str | None = None) -> None:
        self.fd = fd
        self.encoding = encoding or getattr(sys.__stderr__, "encoding", None) or "utf-8"
        self._on_gone = on_gone
        self._pending: list[str] = []
        self._size = 0
        #: A write failed: the terminal is gone.
        self.gone = False
        #: Leaving, and the terminal takes nothing: what is left is dropped.
        self.dropping = False
        #: When a write last went through (monotonic s).
        self.wrote_at = time.monotonic()

    def fileno(self) -> int:
        return self.fd

    def write(self, text: str) -> int:
        if not (self.gone or self.dropping):
            self._pending.append(text)
            self._size += len(text)
            if self._size >= FLUSH_AT:
                self.flush()
        return len(text)

    def flush(self) -> None:
        pending, self._pending, self._size = self._pending, [], 0
        if not pending or self.gone or self.dropping:
            return
        data = memoryview("".join(pending).encode(self.encoding, errors="replace"))
        try:
            while data and not self.dropping:
                try:
                    written = os.write(self.fd, data)
                except BlockingIOError:  # someone made the terminal non-blocking: wait for room
                    select.select([], [self.fd], [], 1.0)
                    continue
                data = data[written:]
                self.wrote_at = time.monotonic()
        except OSError:
            self.gone = True
            self._on_gone()

    def put(self, room: queue.Queue[str | None], item: str | None, leaving: Callable[[], bool]) -> bool:
        """Queue ``item`` for the writer thread; False if it was dropped."""
        while not (self.gone or self.dropping):
            try:
                room.put(item, timeout=PUT_STEP_S)
                return True
            except queue.Full:
                if leaving() and time.monotonic() - self.wrote_at > STUCK_S:
                    self.dropping = True
        return False
