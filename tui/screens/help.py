"""The `?` screen: every key of every level, and how to read the screen."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Everywhere", (
        ("↑ ↓  j k", "move"),
        ("Enter", "go down a level (task → sessions → transcript)"),
        ("Esc", "clear the filter, else go back up"),
        ("/", "filter the list (search, in a transcript)"),
        ("r", "re-read the store now"),
        ("p", "pause / resume live refresh"),
        ("ctrl+p", "command palette: jump to a task, switch theme"),
        ("?", "this help"),
        ("q", "quit"),
    )),
    ("Tasks", (
        ("l", "only tasks with a live session"),
        ("s", "cycle the sort: activity, priority, id, state"),
        ("Enter on “Finished”", "show / fold the older finished tasks"),
    )),
    ("One task", (
        ("← → ↑ ↓", "move between session panes"),
        ("l", "only live sessions"),
        ("a", "show / hide archived sessions"),
        ("s", "cycle the sort of the panes"),
    )),
    ("Transcript", (
        ("End  G", "follow new messages again"),
        ("Home  g", "top (loads older messages)"),
        ("n  N", "next / previous search match"),
        ("t", "unfold / fold thinking"),
    )),
)

LEGEND = (
    "● a live session: its tau server is up (tau.pid names a living process) and its phase "
    "is not idle. This is inferred from disk; the status line says so.\n"
    "Exit status colours: completed/succeeded good, error/panicked bad, cancelled/max_turns "
    "warning. Archived sessions are dimmed. “session gone” is a task_sessions row whose "
    "session was deleted from tau.db."
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(Text("sessiontop: keys", style="bold"), classes="help-title")
            for section, keys in KEYS:
                table = Table.grid(padding=(0, 2))
                table.add_column(min_width=24)
                table.add_column()
                for key, what in keys:
                    table.add_row(Text(key, style="bold"), Text(what))
                yield Static(Text(section, style="bold underline"), classes="help-section")
                yield Static(table)
            yield Static(Text(LEGEND), classes="help-legend")
            yield Static(Text("Esc closes this help."), classes="help-foot")
