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
cursor hidden: `install_exit_signals` turns them into an ordinary exit, so
the driver restores the terminal, the store and the watcher close, and the
command line removes what it made; it exits with 128 + the signal's number.
"""

from __future__ import annotations

import asyncio
import os
import selectors
import signal
from codecs import getincrementaldecoder
from collections.abc import Callable, Iterable

from textual import events
from textual._loop import loop_last
from textual._parser import ParseError
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver
from textual.keys import _character_to_key

#: Signals that end the app as a quit does (SIGINT keeps Python's
#: KeyboardInterrupt: the command line treats it as Ctrl+C, status 0).
EXIT_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGHUP)


def exit_status(signum: int) -> int:
    """The shell's convention for "ended by signal N"."""
    return 128 + signum


def install_exit_signals(on_signal: Callable[[int], None]) -> Callable[[], None]:
    """Call ``on_signal(signum)`` from the event loop on SIGTERM/SIGHUP;
    returns the undo (the default handlers come back)."""
    loop = asyncio.get_running_loop()
    installed: list[int] = []
    for sig in EXIT_SIGNALS:
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


class SessionTopDriver(LinuxDriver):
    """Textual's Linux driver reading keys with `EscAwareParser`.

    `run_input_thread` is Textual 8.2.8's own (the version is pinned) with
    the parser swapped: the driver makes its parser inside this method.
    """

    def run_input_thread(self) -> None:
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        fileno = self.fileno
        parser = EscAwareParser(self._debug)
        feed, tick = parser.feed, parser.tick
        decode = getincrementaldecoder("utf-8")().decode

        def process(selector_events: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> None:
            for last, (_key, mask) in loop_last(selector_events):
                if mask & selectors.EVENT_READ:
                    try:
                        raw = os.read(fileno, 1024 * 4)
                    except OSError:  # the terminal is gone (SIGHUP follows): stop reading
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
                process(selector.select(0.1))
            selector.unregister(self.fileno)
            if not gone:
                process(selector.select(0.1), final=True)
        finally:
            selector.close()
            try:
                for _ in feed(""):
                    pass
            except (EOFError, ParseError):
                pass


class TerminalMixin:
    """The app's side of this module: its driver, Esc then a key, the exit signals.

    Mixed into `tui.app.SessionTopApp` (a Textual App) before App itself.
    """

    exit_signal: int | None = None

    def get_driver_class(self):  # type: ignore[no-untyped-def]
        """Textual's driver with keys read so that Esc then a key is never lost."""
        driver = super().get_driver_class()  # type: ignore[misc]
        return SessionTopDriver if driver.__name__ == "LinuxDriver" else driver

    def _exit_on_signal(self, signum: int) -> None:
        """SIGTERM/SIGHUP: quit as `q` does (the terminal is restored, the store
        and the watcher closed), with the shell's status for the signal."""
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
