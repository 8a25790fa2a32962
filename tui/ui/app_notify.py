"""The app's side of notifications: the notifier's worker, where it tells, and `!`.

Mixed into `tui.ui.app.SessionTopApp` before App itself. The engine is
`tui.notify` (plain Python, no Textual): it looks at the store after the
screen had its read, and tells through the two callbacks here: a toast (one at
a time, none over a modal: `tui.ui.alerts`) and the terminal's own
notification and bell, written under the screen.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual import work

from ..notify.attention import heading, log_lines, new_since
from ..notify.engine import Event
from ..notify.notifier import Notifier
from .alerts import AlertToasts
from .screens.notifications import NotificationsScreen
from .textual_private import write_to_terminal

if TYPE_CHECKING:
    from textual.app import App

    _AppBase = App[None]
else:
    _AppBase = object


class NotifyMixin(_AppBase):
    """Starts the notifier once, tells what it finds, opens `!`."""

    notifier: Notifier
    _alerts: AlertToasts
    _stop: asyncio.Event
    _notifier_started: bool = False
    #: The newest notification when `!` was last closed (what is new since).
    _seen_mark: Event | None = None

    if TYPE_CHECKING:  # the app's (tui.ui.app, tui.ui.app_hosts)
        def request_refresh(self, *, force: bool = False, event: bool = False,
                            through_pause: bool = False) -> None: ...

        def _attention(self) -> list[tuple[str, str, str]]: ...

    def _start_notifier(self) -> None:
        if not self._notifier_started and not self._stop.is_set():
            self._notifier_started = True
            self._run_notifier()

    @work(group="notify", exclusive=True, exit_on_error=False)
    async def _run_notifier(self) -> None:
        """The notifier looks until the app stops; when the stalled set or the
        log moved, the screen is read again (its rows carry the stall marks)."""
        await self.notifier.run(self._stop, on_change=lambda: self.request_refresh(force=True))

    def _toast(self, message: str, title: str, severity: str) -> None:
        self._alerts.show(message, title, severity)

    def _write_terminal(self, sequence: str) -> None:
        """OSC 9 / 777 and the bell, straight to the terminal (under the screen)."""
        write_to_terminal(self, sequence)

    def action_notifications(self) -> None:
        if not isinstance(self.screen, NotificationsScreen):
            notifier = self.notifier
            new = new_since(notifier.log, self._seen_mark)

            def seen(_: object = None) -> None:
                self._seen_mark = notifier.log[0] if notifier.log else None

            self.push_screen(NotificationsScreen(
                lambda: (heading(notifier.engine, new), self._attention(),
                         log_lines(notifier.log))), callback=seen)
