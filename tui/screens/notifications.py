"""The `!` screen: what needs attention now (stalled sessions), then the
notifications told so far, newest first. Fed plain lines by the app."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

#: (when, kind, message) per line.
Line = tuple[str, str, str]


class NotificationsScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("exclamation_mark", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]
    DEFAULT_CSS = """
    NotificationsScreen { align: center middle; }
    NotificationsScreen > VerticalScroll { width: 90%; height: 80%; border: round $accent;
                                           background: $surface; padding: 0 1; }
    """

    def __init__(self, source: Callable[[], tuple[Sequence[Line], Sequence[Line]]]) -> None:
        super().__init__()
        self.source = source  # () → (needs attention, the log newest first)
        self._shown: object = None

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(id="notifications-body")

    def on_mount(self) -> None:
        self._render()
        self.set_interval(1.0, self._render)

    def _render(self) -> None:
        attention, log = self.source()
        key = (tuple(attention), tuple(log))
        if key == self._shown:
            return
        self._shown = key
        t = Text()
        t.append("Needs attention\n", style="bold")
        if not attention:
            t.append("  nothing stalled\n", style="dim")
        for when, kind, msg in attention:
            t.append(f"  {when}  ", style="dim")
            t.append(f"{kind:<7} ", style="bold yellow")
            t.append(f"{msg}\n")
        t.append("\nNotifications, newest first\n", style="bold")
        if not log:
            t.append("  none yet\n", style="dim")
        for when, kind, msg in log:
            t.append(f"  {when}  ", style="dim")
            t.append(f"{kind:<7} ", style="bold red" if kind in ("exit", "failed", "stall") else "bold")
            t.append(f"{msg}\n")
        self.query_one("#notifications-body", Static).update(t)
