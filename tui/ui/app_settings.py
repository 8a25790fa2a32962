"""What the operator sets while the app runs: live refresh paused or not, and the theme.

Mixed into `tui.ui.app.SessionTopApp` (a Textual App) before App itself. The
theme comes from the config file (or --theme), and one chosen in the palette
(ctrl+p) is written back to the file, so the next start has it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.command import CommandPalette
from textual.reactive import var

from .commands import ThemeCommands
from ..command.config import Config, remember_theme
from .screens.base import DataScreen
from ..model.queries import RefreshState

if TYPE_CHECKING:
    from textual.app import App

    _AppBase = App[None]
else:
    _AppBase = object


class SettingsMixin(_AppBase):
    """Pause/resume (``p``) and the remembered theme."""

    config: Config
    if TYPE_CHECKING:  # the app's (tui.ui.app)
        store: Any
        poll: float | None
        refresh_state: RefreshState

        def _mode(self) -> str: ...

        def request_refresh(self, *, force: bool = False, event: bool = False,
                            through_pause: bool = False) -> None: ...

    #: Live refresh held (`p`): the footer says "p Pause" or "p Resume" (`check_action`).
    paused = var(False, init=False, bindings=True)
    _kept_theme: str | None = None

    def _apply_config_theme(self) -> None:
        """The configured theme, then every theme chosen (ctrl+p) is kept in the file."""
        wanted = self.config.theme
        if wanted and wanted in self.available_themes:
            self.theme = wanted
        elif wanted:
            self.notify(f"No theme called “{wanted}” (ctrl+p lists them)", severity="warning",
                        timeout=6, markup=False)
        self._kept_theme = self.theme
        self.theme_changed_signal.subscribe(self, self._remember_theme)

    def _remember_theme(self, theme: object) -> None:
        name = getattr(theme, "name", None)
        path = self.config.path
        if path is None or not name or name == self._kept_theme:
            return
        self._kept_theme = name
        try:
            remember_theme(path, name)
        except OSError as exc:
            self.notify(f"Could not keep the theme in {path}: {exc}", severity="warning",
                        timeout=6, markup=False)

    def search_themes(self) -> None:
        """Textual's theme picker, with the theme in use marked (`ThemeCommands`)."""
        self.push_screen(CommandPalette(providers=[ThemeCommands], placeholder="Search for themes…"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The footer says "p Pause" while live and "p Resume" while paused."""
        if action == "pause":
            return not self.paused
        if action == "resume":
            return self.paused
        return True

    def action_pause(self) -> None:
        self.paused = True

    def action_resume(self) -> None:
        self.paused = False

    def watch_paused(self, paused: bool) -> None:
        """The status line says so at once; resumed, everything held back shows."""
        prev = self.refresh_state
        self.refresh_state = RefreshState(mode=self._mode(), poll_seconds=self.poll,
                                          last_read=prev.last_read,
                                          stale_since=prev.stale_since, error=prev.error)
        if isinstance(self.screen, DataScreen):
            self.screen.apply_status(self.store.status(), self.refresh_state)
        if not paused:
            self.request_refresh(force=True)
