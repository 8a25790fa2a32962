"""The `!` screen: what needs attention now (stalled sessions first, then tasks
awaiting approval, in review, failed), then the notifications told so far,
newest first. Fed plain lines by the app (`tui.notify.attention`); it only draws."""

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
#: () → (heading, needs attention, the log newest first).
Lines = Callable[[], tuple[str, Sequence[Line], Sequence[Line]]]
#: Kinds drawn as bad news.
BAD_KINDS = frozenset({"exit", "failed", "stall"})


class NotificationsScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("exclamation_mark", "dismiss", "Close", show=False),
        Binding("q", "app.quit", "Quit", show=False),  # q quits from every screen
    ]

    def __init__(self, lines: Lines) -> None:
        """``lines``: what to show, asked once a second."""
        super().__init__()
        self.lines = lines
        self._shown: object = None

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(id="notifications-body")

    def on_mount(self) -> None:
        self._draw()
        self.set_interval(1.0, self._draw)

    def _draw(self) -> None:
        head, attention, log = self.lines()
        key = (head, tuple(attention), tuple(log))
        if key == self._shown:
            return
        self._shown = key
        t = Text()
        t.append(f"{head}\n\n", style="dim")
        t.append("Needs attention\n", style="bold")
        if not attention:
            t.append("  nothing stalled, nothing waits on you\n", style="dim")
        for when, kind, msg in attention:
            t.append(f"  {when}  ", style="dim")
            t.append(f"{kind:<8} ", style="bold yellow" if kind == "stall" else "bold")
            t.append(f"{msg}\n")
        t.append("\nNotifications, newest first\n", style="bold")
        if not log:
            t.append("  none since sessiontop started\n", style="dim")
        for when, kind, msg in log:
            t.append(f"  {when}  ", style="dim")
            t.append(f"{kind:<8} ", style="bold red" if kind in BAD_KINDS else "bold")
            t.append(f"{msg}\n")
        t.append("\nEsc closes; q quits.", style="dim")
        self.query_one("#notifications-body", Static).update(t)
