"""The notifications' toasts: one on screen at a time, never over a modal.

A burst of notifications stacked a toast each over the right half of an 80x24
terminal, the help screen too. Here the newest replaces the one standing and
says how many more came ("+3 more · ! lists them"); while help, the palette or
another modal screen is up, they wait and the newest shows when it closes; on
the `!` screen, which lists them as they come, none is shown. The `!` log has
every one of them regardless (the notifier keeps it).
"""

from __future__ import annotations

import time

from textual.app import App, ScreenStackError
from textual.screen import ModalScreen, Screen

from .screens.notifications import NotificationsScreen

#: How long a notification's toast stands (s).
TOAST_S = 8.0

Toast = tuple[str, str, str]  # (message, title, severity)


class AlertToasts:
    def __init__(self, app: App[None]) -> None:
        self.app = app
        #: The toast standing now, how many it stands for beyond itself, and until when.
        self._shown: Toast | None = None
        self._more = 0
        self._until = 0.0
        #: The newest that came while a modal was up, and how many more.
        self._held: Toast | None = None
        self._held_more = 0

    def start(self) -> None:
        """Follow the screens (once the app runs)."""
        self.app.screen_change_signal.subscribe(self.app, self.screen_changed)

    def show(self, message: str, title: str, severity: str) -> None:
        try:
            screen = self.app.screen
        except ScreenStackError:  # not started yet: nothing to cover
            screen = None
        if isinstance(screen, NotificationsScreen):
            return  # `!` lists it as it comes
        if isinstance(screen, ModalScreen):
            if self._held is not None:
                self._held_more += 1
            self._held = (message, title, severity)
            return
        more = self._more + 1 if self._standing() else 0
        self._post((message, title, severity), more)

    def screen_changed(self, screen: Screen[object]) -> None:
        """A modal came up: the standing toast waits under it. It went: what
        waited shows (the newest, with how many more)."""
        if isinstance(screen, ModalScreen):
            if self._standing() and self._shown is not None:
                if self._held is not None:
                    self._held_more += self._more + 1
                else:
                    self._held, self._held_more = self._shown, self._more
                self._clear()
                self._shown, self._until = None, 0.0
            if isinstance(screen, NotificationsScreen):
                self._held, self._held_more = None, 0  # `!` lists them all
        elif self._held is not None:
            held, more = self._held, self._held_more
            self._held, self._held_more = None, 0
            self._post(held, more)

    def _clear(self) -> None:
        """Take the toasts down, after every toast already on its way: `notify`
        posts a message, so a toast told a moment ago is not up yet (a clear now
        would miss it and the two would stack)."""
        self.app.call_later(self.app.clear_notifications)

    def _standing(self) -> bool:
        return self._shown is not None and time.monotonic() < self._until

    def _post(self, toast: Toast, more: int) -> None:
        message, title, severity = toast
        if self._standing():
            self._clear()  # the newest wins
        text = message + (f"\n+{more} more · ! lists them" if more else "")
        # markup=False: titles and messages come from the store (data, not markup)
        self.app.notify(text, title=title, severity=severity, timeout=TOAST_S,  # type: ignore[arg-type]
                        markup=False)
        self._shown, self._more, self._until = toast, more, time.monotonic() + TOAST_S
