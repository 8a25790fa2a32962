"""The terminal side of the app: keys that never get lost, and signals that end it cleanly.

A terminal sends Alt+key as Esc followed by the key, so Esc then ``q`` typed
within the escape delay (~100 ms; usual over ssh and tmux) arrives as one
Alt+q. Textual reports it as ``alt+q`` and nothing binds that: both keys
were lost. `split_escape` turns an Alt+key that nothing binds back into the
two keys it was typed as. (Textual's parser also drops the Alt of a
punctuation key, Esc then ``/`` arriving as a bare ``/``: `EscAwareParser`
keeps it.)

SIGTERM and SIGHUP would otherwise kill the process where it stands,
leaving the terminal in the alternate screen with mouse tracking on and the
cursor hidden: they end the app as an ordinary exit does, so the driver
restores the terminal, the store and the watcher close, and the command line
removes what it made; it exits with 128 + the signal's number (SIGINT, as
Ctrl+C: 0). Under the command line the signals are `tui.ui.exits`'s, which
reach the app at every moment and bound the time to leave; elsewhere (an app
run in a test) `install_exit_signals` asks asyncio for SIGTERM and SIGHUP.

The terminal can also go while the app runs. Its output failing (the window
closed, the pipe gone) ends the app with status 1 (`tui.ui.output`); its
input reaching the end (a hung-up terminal reads as end of file) is no
longer read, at no cost, and the app runs on until it is told to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import selectors
import signal
import sys
import termios
import threading
from codecs import getincrementaldecoder
from collections.abc import Callable, Iterable
from typing import Any

from textual import events
from textual._loop import loop_last
from textual._parser import ParseError
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver
from textual.keys import _character_to_key

from .exits import LEAVING, exit_status
from .output import TerminalOutput

__all__ = ["SessionTopDriver", "TerminalMixin", "exit_status", "install_exit_signals"]

#: The status of an app whose terminal took no more output.
OUTPUT_GONE = 1
#: What the driver leaves the terminal in, written at once if leaving is wedged:
#: no Kitty keys, the main screen, the cursor, no focus reports, no bracketed
#: paste, no mouse reports, line wrap.
RESTORE = ("\x1b[<u\x1b[?1049l\x1b[?25h\x1b[?1004l\x1b[?2004l"
           "\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?7h")


def install_exit_signals(on_signal: Callable[[int], None]) -> Callable[[], None]:
    """Call ``on_signal(signum)`` from the event loop on SIGTERM/SIGHUP;
    returns the undo (the default handlers come back). Under the command line
    (`tui.ui.exits` installed) the app is already told, from `run_async` on."""
    if LEAVING.installed:
        return lambda: None
    loop = asyncio.get_running_loop()
    installed: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            loop.add_signal_handler(sig, on_signal, int(sig))
        except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover - not a main thread
            continue
        installed.append(sig)

    def undo() -> None:
        for sig in installed:
            try:
                loop.remove_signal_handler(sig)
            except (RuntimeError, ValueError):  # pragma: no cover - the loop is closed
                pass

    return undo


# --- Esc then a key ------------------------------------------------------------------------


def _plain_key(character: str) -> str:
    """The key name Textual gives ``character`` typed alone."""
    if character.isalnum():
        return character
    return _character_to_key(character)


def split_escape(event: events.Key, is_bound: Callable[[str], bool]) -> str | None:
    """The key typed after Esc, if ``event`` is an Alt+key that nothing binds
    and that a terminal sends as Esc + the key; else None."""
    key, character = event.key, event.character
    if not key.startswith("alt+") or is_bound(key):
        return None
    if character is None or len(character) != 1 or not character.isprintable():
        return None  # alt+up and friends: a real modifier, sent as a CSI sequence
    return _plain_key(character)


class EscAwareParser(XTermParser):
    """Textual's parser, but Esc then a punctuation key is ``alt+slash`` and
    so on (Textual keeps ``alt+`` for letters and digits only)."""

    def _sequence_to_key_events(self, sequence: str, alt: bool = False) -> Iterable[events.Key]:
        for event in super()._sequence_to_key_events(sequence, alt=alt):
            if (alt and len(sequence) == 1 and not sequence.isalnum() and sequence.isprintable()
                    and not event.key.startswith("alt+")):
                yield events.Key(f"alt+{event.key}", event.character)
            else:
                yield event


class _WakingEvent(threading.Event):
    """The driver's exit event, which also wakes the input thread's `select`
    (through a pipe the thread opens and closes), so that the thread can
    block until a key or the exit."""

    def __init__(self) -> None:
        super().__init__()
        self._pipe_lock = threading.Lock()
        self._pipe: tuple[int, int] | None = None

    def open_pipe(self) -> int:
        """A fresh pipe for this input thread; its read end, to select on."""
        self.close_pipe()
        r, w = os.pipe()
        os.set_blocking(r, False)
        os.set_blocking(w, False)
        with self._pipe_lock:
            self._pipe = (r, w)
        return r

    def close_pipe(self) -> None:
        # Under the lock: `set` never writes to a number closed and reused since.
        with self._pipe_lock:
            pipe, self._pipe = self._pipe, None
        for fd in pipe or ():
            os.close(fd)

    def set(self) -> None:
        super().set()
        with self._pipe_lock:
            if self._pipe is not None:
                try:
                    os.write(self._pipe[1], b"x")
                except OSError:  # full: a wake-up is pending anyway
                    pass

    def drain(self, fd: int) -> None:
        try:
            while os.read(fd, 512):
                pass
        except OSError:  # nothing left
            pass


#: How often the parser is ticked while an escape sequence may be half read
#: (Textual's own step): a lone Esc becomes the Esc key after ~100 ms.
ESCAPE_TICK_S = 0.1


class SessionTopDriver(LinuxDriver):
    """Textual's Linux driver reading keys with `EscAwareParser`, writing
    through `TerminalOutput`.

    `run_input_thread` is Textual 8.2.8's own (the version is pinned) with
    the parser swapped (the driver makes its parser inside this method), and
    two changes: Textual wakes every 0.1 s to tick its parser; here the thread
    waits without a timeout unless an escape sequence is half read (only then
    does the tick have anything to do), and the exit event wakes it. An idle
    dashboard's input thread then costs nothing. And at the end of its input
    (a zero-byte read) it stops reading: Textual read again at once, for ever,
    on a whole core.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exit_event = _WakingEvent()
        stream = sys.__stderr__  # where Textual draws
        assert stream is not None
        self._output = TerminalOutput(stream.fileno(), self._output_gone, stream.encoding)
        self._file = self._output  # type: ignore[assignment]  # the writer thread's file
        self._loop: asyncio.AbstractEventLoop | None = None
        self._forget_restore: Callable[[], None] | None = None

    # --- output -------------------------------------------------------------------------

    def start_application_mode(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._forget_restore = LEAVING.last_resort(self._restore_now)
        super().start_application_mode()

    def write(self, data: str) -> None:
        """Queue ``data`` for the terminal: it waits for room as Textual's
        does, but never for a terminal that is gone, nor, leaving, for one
        that takes nothing more."""
        writer = self._writer_thread
        assert writer is not None, "Driver must be in application mode"
        self._output.put(writer._queue, data, lambda: LEAVING.leaving)  # noqa: SLF001

    def close(self) -> None:
        """Stop the writer thread once it has written the rest (Textual's
        `stop` would wait for room, and for the thread, for ever)."""
        writer = self._writer_thread
        if writer is not None:
            room = writer._queue  # noqa: SLF001
            queued = self._output.put(room, None, lambda: LEAVING.leaving)
            if not queued:  # gone: the thread drops what it takes, so there is room soon
                with contextlib.suppress(queue.Full):
                    room.put(None, timeout=0.5)
            # A thread stuck writing to a terminal that takes nothing is left to the exit.
            writer.join(None if queued else 0.5)
        if self._forget_restore is not None:
            self._forget_restore()

    def _output_gone(self) -> None:
        """From the writer thread: a write failed, the terminal is gone. The
        app ends (status 1; a signal that came says its own)."""
        LEAVING.leave_soon(OUTPUT_GONE)
        loop = self._loop
        if loop is None:
            return
        try:
            loop.call_soon_threadsafe(self._end_without_output)
        except RuntimeError:  # the loop is closed: the app has ended
            pass

    def _end_without_output(self) -> None:
        app = self._app
        app.output_gone = True  # type: ignore[attr-defined]
        if LEAVING.signum is None:
            app.exit(return_code=OUTPUT_GONE)

    def _restore_now(self) -> None:  # pragma: no cover - the last resort of a wedged exit
        """Put the terminal back at once, without waiting on it."""
        fd = os.open(f"/proc/self/fd/{self._output.fd}", os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY)
        try:
            os.write(fd, RESTORE.encode())
        finally:
            os.close(fd)
        if self.attrs_before is not None:
            termios.tcsetattr(self.fileno, termios.TCSANOW, self.attrs_before)

    # --- input --------------------------------------------------------------------------

    def run_input_thread(self) -> None:
        wake = self.exit_event
        wake_fd = wake.open_pipe()
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        selector.register(wake_fd, selectors.EVENT_READ)
        fileno = self.fileno
        parser = EscAwareParser(self._debug)
        feed, tick = parser.feed, parser.tick
        decode = getincrementaldecoder("utf-8")().decode

        def process(selector_events: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> None:
            for last, (key, mask) in loop_last(selector_events):
                if key.fd == wake_fd:
                    wake.drain(wake_fd)
                    continue
                if mask & selectors.EVENT_READ:
                    try:
                        raw = os.read(fileno, 1024 * 4)
                    except OSError:  # the terminal is gone (SIGHUP follows): stop reading
                        gone.append(True)
                        return
                    if not raw:  # the end of the input (a hung-up terminal): stop reading
                        gone.append(True)
                        return
                    data = decode(raw, final=final and last)
                    if not data:
                        break
                    for event in feed(data):
                        self.process_message(event)
            for event in tick():
                self.process_message(event)

        gone: list[bool] = []
        try:
            while not self.exit_event.is_set() and not gone:
                # parser._timeout_time: set while a sequence is half read (Textual 8.2.8).
                pending = parser._timeout_time is not None  # noqa: SLF001
                process(selector.select(ESCAPE_TICK_S if pending else None))
            selector.unregister(self.fileno)
            if not gone:
                process(selector.select(0.1), final=True)
        finally:
            selector.close()
            wake.close_pipe()
            try:
                for _ in feed(""):
                    pass
            except (EOFError, ParseError):
                pass


class TerminalMixin:
    """The app's side of this module: its driver, Esc then a key, the exit signals.

    Mixed into `tui.ui.app.SessionTopApp` (a Textual App) before App itself.
    """

    exit_signal: int | None = None
    #: The terminal took no more output (the app ended for it).
    output_gone: bool = False

    async def run_async(self, *args: Any, **kwargs: Any) -> Any:
        """Under the command line, a signal reaches the app from the very start
        of its run to its very end (`tui.ui.exits`)."""
        detach = LEAVING.attach(asyncio.get_running_loop(), self._exit_on_signal) \
            if LEAVING.installed else None
        try:
            return await super().run_async(*args, **kwargs)  # type: ignore[misc]
        finally:
            if detach is not None:
                detach()

    def get_driver_class(self):  # type: ignore[no-untyped-def]
        """Textual's driver with keys read so that Esc then a key is never lost."""
        driver = super().get_driver_class()  # type: ignore[misc]
        return SessionTopDriver if driver.__name__ == "LinuxDriver" else driver

    def _exit_on_signal(self, signum: int) -> None:
        """SIGTERM/SIGHUP/SIGINT: quit as `q` does (the terminal is restored, the
        store and the watcher closed), with the shell's status for the signal."""
        self.exit_signal = signum
        self.exit(return_code=exit_status(signum))  # type: ignore[attr-defined]

    # --- keys ----------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        """An Alt+key that nothing binds was typed as Esc then the key: both act."""
        if isinstance(event, events.Key) and not event.is_forwarded:
            after = split_escape(event, self._is_bound)
            if after is not None:
                await self._escape_then(after, event.character)
                return
        await super().on_event(event)  # type: ignore[misc]

    def _is_bound(self, key: str) -> bool:
        return any(key in bindings.key_to_bindings for _, bindings in self.screen._binding_chain)  # type: ignore[attr-defined]

    async def _escape_then(self, key: str, character: str | None) -> None:
        """Esc through the bindings as a lone Esc goes, to the end of its action
        (a screen closes, a box loses its focus), then the key after it."""
        escape = events.Key("escape", "\x1b")
        check = self._check_bindings  # type: ignore[attr-defined]
        if not (await check("escape", priority=True) or await check("escape")):
            await super().on_event(escape)  # type: ignore[misc]
        self.post_message(events.Key(key, character))  # type: ignore[attr-defined]
