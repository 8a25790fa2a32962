"""The terminal side of the app: keys that never get lost, and signals that end it cleanly.

A terminal sends Alt+key as Esc followed by the key, so Esc then ``q`` typed
within the escape delay (~100 ms; usual over ssh and tmux) arrives as one
Alt+q. Textual reports it as ``alt+q`` and nothing binds that: both keys
were lost. `split_escape` turns an Alt+key that nothing binds back into the
two keys it was typed as. (Textual's parser also drops the Alt of a
punctuation key, Esc then ``/`` arriving as a bare ``/``: the driver's
`EscAwareParser` keeps it. The driver, and every other private Textual name
this leans on, is `tui.ui.textual_private`.)

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
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import events

from .exits import LEAVING, exit_status
from .textual_private import SessionTopDriver, character_to_key, check_bindings

__all__ = ["SessionTopDriver", "TerminalMixin", "exit_status", "install_exit_signals"]


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
    return character_to_key(character)


def split_escape(event: events.Key, is_bound: Callable[[str], bool]) -> str | None:
    """The key typed after Esc, if ``event`` is an Alt+key that nothing binds
    and that a terminal sends as Esc + the key; else None."""
    key, character = event.key, event.character
    if not key.startswith("alt+") or is_bound(key):
        return None
    if character is None or len(character) != 1 or not character.isprintable():
        return None  # alt+up and friends: a real modifier, sent as a CSI sequence
    return _plain_key(character)


if TYPE_CHECKING:
    from textual.app import App
    from textual.driver import Driver

    _AppBase = App[None]
else:
    _AppBase = object


class TerminalMixin(_AppBase):
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
            return await super().run_async(*args, **kwargs)
        finally:
            if detach is not None:
                detach()

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver with keys read so that Esc then a key is never lost."""
        driver = super().get_driver_class()
        return SessionTopDriver if driver.__name__ == "LinuxDriver" else driver

    def _exit_on_signal(self, signum: int) -> None:
        """SIGTERM/SIGHUP/SIGINT: quit as `q` does (the terminal is restored, the
        store and the watcher closed), with the shell's status for the signal."""
        self.exit_signal = signum
        self.exit(return_code=exit_status(signum))

    # --- keys ----------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        """An Alt+key that nothing binds was typed as Esc then the key: both act."""
        if isinstance(event, events.Key) and not event.is_forwarded:
            after = split_escape(event, self._is_bound)
            if after is not None:
                await self._escape_then(after, event.character)
                return
        await super().on_event(event)

    def _is_bound(self, key: str) -> bool:
        return key in self.screen.active_bindings

    async def _escape_then(self, key: str, character: str | None) -> None:
        """Esc through the bindings as a lone Esc goes, to the end of its action
        (a screen closes, a box loses its focus), then the key after it."""
        escape = events.Key("escape", "\x1b")
        if not (await check_bindings(self, "escape", priority=True) or await check_bindings(self, "escape")):
            await super().on_event(escape)
        self.post_message(events.Key(key, character))
