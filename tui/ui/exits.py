"""How the process leaves: a signal ends it at every moment, and soon.

asyncio's own signal handlers only wake the event loop; a loop that is stuck
(waiting for a terminal that takes no more output, say) never hears them, and
SIGTERM, SIGHUP and SIGINT were all ignored. Here one handler, installed by the
command line for the whole run, takes the three:

- while the app runs, it asks the app's loop to quit as ``q`` does (the
  terminal is restored, the store and the watcher closed);
- while the demo starts, it unwinds through the command line's cleanup
  (`Terminated`);
- while the command line cleans up, it lets the cleanup finish;

and in every case it arms a deadline: if the process is still here `GRACE_S`
later (a wedged read, a terminal that accepts no more bytes), it restores what
it can of the terminal, removes what the command line made (the last resorts
registered here) and leaves with ``os._exit``. A failed write to the terminal
arms the same deadline (`leave_soon`).

No Textual here: the command line installs this before it imports the app.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

#: The signals that end the app.
EXIT_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
#: After a signal (or a terminal gone), the process is gone within this (s),
#: cleanly or, failing that, by the last resort.
GRACE_S = 5.0


def exit_status(signum: int) -> int:
    """The shell's convention for "ended by signal N"; SIGINT is Ctrl+C, a quit: 0."""
    return 0 if signum == signal.SIGINT else 128 + signum


class Terminated(Exception):
    """A signal while the command line starts the demo: unwind through the
    ``finally`` that cleans up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class Leaving:
    """The process's exit signals, and the deadline that bounds leaving."""

    def __init__(self, grace_s: float = GRACE_S) -> None:
        self.grace_s = grace_s
        #: The first exit signal received, if any.
        self.signum: int | None = None
        #: Set once the handlers are in place (`install`).
        self.installed = False
        #: While True, a signal with no app to tell raises `Terminated`.
        self.unwind = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._quit: Callable[[int], None] | None = None
        self._last_resorts: list[Callable[[], None]] = []
        self._leaving = False
        self._status = 1
        self._arm_fd = -1  # written once to start the deadline

    # --- set up ------------------------------------------------------------------------

    def install(self) -> None:
        """Take SIGTERM, SIGHUP and SIGINT for the rest of the process."""
        for sig in EXIT_SIGNALS:
            signal.signal(sig, self._on_signal)
        # Started now, and woken through a pipe: a handler takes no lock (a
        # signal may come while the main thread holds one, threading's own
        # too). It sleeps in a read until armed: no wake-ups before.
        armed, self._arm_fd = os.pipe()
        threading.Thread(target=self._watch, args=(armed,), name="sessiontop-exit-deadline",
                         daemon=True).start()
        self.installed = True

    def attach(self, loop: asyncio.AbstractEventLoop, quit: Callable[[int], None]) -> Callable[[], None]:
        """While the app runs on ``loop``: a signal calls ``quit(signum)`` there.
        A signal that came before is passed on now. Returns the undo."""
        self._loop, self._quit = loop, quit
        if self.signum is not None:
            loop.call_soon(quit, self.signum)

        def detach() -> None:
            if self._loop is loop:
                self._loop = self._quit = None

        return detach

    def last_resort(self, action: Callable[[], None]) -> Callable[[], None]:
        """Run ``action`` if the deadline passes (quick, never blocking: restore
        the terminal, remove a directory). Returns the undo."""
        self._last_resorts.append(action)

        def remove() -> None:
            if action in self._last_resorts:
                self._last_resorts.remove(action)

        return remove

    # --- leaving -------------------------------------------------------------------------

    @property
    def leaving(self) -> bool:
        """A signal came, or the terminal went: the process is on its way out."""
        return self._leaving

    def leave_soon(self, status: int) -> None:
        """Arm the deadline (once): gone within `grace_s`, with ``status`` if
        the last resort has to do it. (Only in the command line's process.)"""
        if self.installed and not self._leaving:
            self._leaving, self._status = True, status
            os.write(self._arm_fd, b"!")

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        """Runs in the main thread between two bytecodes, wherever it is
        (also inside a blocked wait: Python's waits return to run it)."""
        if self.signum is None:
            self.signum = signum
        self.leave_soon(exit_status(self.signum))
        loop, quit = self._loop, self._quit
        if loop is not None and quit is not None:
            try:
                loop.call_soon_threadsafe(quit, signum)
                return
            except RuntimeError:  # the loop is closed: the app has ended
                pass
        if self.unwind:
            raise Terminated(signum)

    def _watch(self, armed: int) -> None:  # pragma: no cover - runs only when leaving is wedged
        os.read(armed, 1)
        time.sleep(self.grace_s)
        for action in reversed(self._last_resorts):
            try:
                action()
            except BaseException:  # noqa: BLE001 - the next one still runs
                pass
        os._exit(self._status)


#: The process's one instance (the command line installs it).
LEAVING = Leaving()
