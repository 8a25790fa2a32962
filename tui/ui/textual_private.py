"""Every private Textual name sessiontop leans on, in one place (Textual 8.2.8).

Textual has no public way to do these. Each is a break on upgrade, so they
live here and nowhere else in `tui/`, and `tests/test_textual_private.py`
fails loudly when Textual's shape under them changes (the sources this module
mirrors are pinned by their hash in `MIRRORED`):

- the input thread: `SessionTopDriver.run_input_thread` is a copy of Textual's
  own, which blocks on its input instead of waking ten times a second and stops
  at the end of its input instead of spinning (issue 21), with `EscAwareParser`
  (Esc then a punctuation key kept as one Alt key, so `tui.ui.terminal` can
  split it again); the writer thread's queue, to write without waiting on a
  terminal that is gone (`tui.ui.output`);
- `check_bindings`: a key run through the bindings to the end of its action
  (Esc then a key, `tui.ui.terminal`);
- `write_to_terminal`: the terminal's own notification (OSC 9/777), under the screen;
- `FooterKey`: the footer's keys, which `tui.ui.widgets.footer` fits to the width;
- `character_to_key`: the key name Textual gives a character.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import selectors
import sys
import termios
import threading
from codecs import getincrementaldecoder
from collections.abc import Callable, Iterable
from typing import Any

from textual import events
from textual._parser import ParseError
from textual._xterm_parser import XTermParser
from textual.app import App
from textual.drivers.linux_driver import LinuxDriver
from textual.keys import _character_to_key as character_to_key
from textual.widgets._footer import FooterKey

from .exits import LEAVING
from .output import TerminalOutput

__all__ = ["FooterKey", "SessionTopDriver", "character_to_key", "check_bindings", "write_to_terminal"]

#: The Textual sources this module copies or leans on (name → sha256 of their
#: source in Textual 8.2.8): when one changes, re-read it and mirror it anew.
MIRRORED: dict[str, str] = {
    "textual.drivers.linux_driver.LinuxDriver.run_input_thread":
        "d796af6d69db337d6fa6bd463984f7d17188d991dbb22f60efb92a8a9619507c",
    "textual.drivers._writer_thread.WriterThread":
        "411a9202bed5a877799f854c7775405c5f6d30f25b7416216bcc84a8064d0c43",
    "textual._xterm_parser.XTermParser":
        "fc1e32fb7a4ae5a008629a8fc7b6b1cc4a4f98280156ad6b171d16027eecd926",
    "textual.app.App._check_bindings":
        "c9643552d942518a5ec4f37258abb6e5123e87f12125786b5d6b13999447246f",
    "textual.app.App.bell":
        "a8ee6d70ed419640ad2ed14008844f9f6a0351e3921c74983f80462606d75416",
    "textual.widgets._footer.FooterKey":
        "3ee477e7e5814c26d35b605d49b689aa9b17e1752733d4efb367b5e05ed2a614",
    "textual.keys._character_to_key":
        "422e0a6af915a9c4bc10b338e587fadb94a4ed0a7c17514451b35f8b7e1357e8",
}

#: The status of an app whose terminal took no more output.
OUTPUT_GONE = 1
#: What the driver leaves the terminal in, written at once if leaving is wedged:
#: no Kitty keys, the main screen, the cursor, no focus reports, no bracketed
#: paste, no mouse reports, line wrap.
RESTORE = ("\x1b[<u\x1b[?1049l\x1b[?25h\x1b[?1004l\x1b[?2004l"
           "\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?7h")


async def check_bindings(app: App[None], key: str, *, priority: bool = False) -> bool:
    """Run ``key`` through the screen's bindings as a key press does, to the
    end of its action; False if nothing bound it (Textual's own step)."""
    return await app._check_bindings(key, priority=priority)  # noqa: SLF001


def write_to_terminal(app: App[None], sequence: str) -> None:
    """Write ``sequence`` straight to the terminal, under the screen (OSC 9 /
    777, the bell). Textual's own `App.bell` writes through the same private
    driver; nothing public writes anything else."""
    driver = app._driver  # noqa: SLF001
    if driver is not None:
        driver.write(sequence)
        driver.flush()


# --- the driver ---------------------------------------------------------------------------


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

    `run_input_thread` is Textual 8.2.8's own (`MIRRORED`; the version is
    pinned) with the parser swapped (the driver makes its parser inside this method), and
    two changes: Textual wakes every 0.1 s to tick its parser; here the thread
    waits without a timeout unless an escape sequence is half read (only then
    does the tick have anything to do), and the exit event wakes it. An idle
    dashboard's input thread then costs nothing. And at the end of its input
    (a zero-byte read) it stops reading: Textual read again at once, for ever,
    on a whole core.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wake = _WakingEvent()
        self.exit_event = self._wake
        stream = sys.__stderr__  # where Textual draws
        assert stream is not None
        self._output = TerminalOutput(stream.fileno(), self._output_gone, stream.encoding)
        self._file = self._output  # type: ignore[assignment]  # the writer thread's file
        #: The app's loop, once in application mode (for the writer thread's word).
        self._app_loop: asyncio.AbstractEventLoop | None = None
        self._forget_restore: Callable[[], None] | None = None

    # --- output -------------------------------------------------------------------------

    def start_application_mode(self) -> None:
        self._app_loop = asyncio.get_running_loop()
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
        loop = self._app_loop
        if loop is None:
            return
        try:
            loop.call_soon_threadsafe(self._end_without_output)
        except RuntimeError:  # the loop is closed: the app has ended
            pass

    def _end_without_output(self) -> None:
        app = self._app
        setattr(app, "output_gone", True)  # (TerminalMixin's: the app ended for it)
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
        wake = self._wake
        wake_fd = wake.open_pipe()
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        selector.register(wake_fd, selectors.EVENT_READ)
        fileno = self.fileno
        parser = EscAwareParser(self._debug)
        feed, tick = parser.feed, parser.tick
        decode = getincrementaldecoder("utf-8")().decode

        def process(selector_events: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> None:
            for index, (key, mask) in enumerate(selector_events):
                last = index == len(selector_events) - 1
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
                # parser._timeout_time: set while a sequence is half read.
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
