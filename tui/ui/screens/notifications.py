"""The `!` screen: what needs attention now (stalled sessions first, then tasks
awaiting approval, in review, failed), then the notifications told so far,
newest first. Fed plain lines by the app (`tui.notify.attention`); it only draws."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.console import Group, RenderableType
from rich.table import Table
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
        parts: list[RenderableType] = [
            Text(f"{head}\n", style="dim"),
            Text("Needs attention", style="bold"),
            _lines(attention, lambda kind: "bold yellow" if kind == "stall" else "bold")
            if attention else Text("  nothing stalled, nothing waits on you", style="dim"),
            Text("\nNotifications, newest first", style="bold"),
            _lines(log, lambda kind: "bold red" if kind in BAD_KINDS else "bold")
            if log else Text("  none since sessiontop started", style="dim"),
            Text("\nEsc closes; q quits.", style="dim"),
        ]
        self.query_one("#notifications-body", Static).update(Group(*parts))


def _lines(lines: Sequence[Line], kind_style: Callable[[str], str]) -> Table:
    """One row per line, in columns: a message that wraps (80 columns) stays in
    its own column instead of running back under the time."""
    grid = Table.grid()
    grid.add_column(style="dim")
    grid.add_column()
    grid.add_column(ratio=1, overflow="fold")
    for when, kind, msg in lines:
        grid.add_row(Text(f"  {when}  "), Text(f"{kind:<8} ", style=kind_style(kind)), Text(msg))
    return grid
