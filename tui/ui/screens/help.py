"""The `?` screen: every key of every level, from the bindings themselves, and
how to read the screen.

Each key is declared once, in the BINDINGS of the app, a screen or a widget:
the footer shows its description, this screen its tooltip (keys with the same
tooltip share a line; within a level a key shows once, the first that declares
it). A short legend says what no binding of ours says: Textual's own keys, the
keys in the filter box, Enter where it means more, the mouse. README's key
table lists the same keys (tests/test_keys_documented.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..widgets.task_table import TaskTable
from ..widgets.transcript_scroll import TranscriptScroll
from .session import TranscriptScreen
from .successor import SuccessorPrompt
from .task import TaskScreen
from .tasks import TaskListScreen

#: How a key is written here and in README's key table (else as Textual names it).
KEY_LABELS = {
    "up": "↑", "down": "↓", "left": "←", "right": "→", "pageup": "PgUp", "pagedown": "PgDn",
    "home": "Home", "end": "End", "enter": "Enter", "escape": "Esc", "tab": "Tab",
    "shift+tab": "shift+Tab", "slash": "/", "question_mark": "?", "exclamation_mark": "!",
}


def key_label(key: str) -> str:
    return KEY_LABELS.get(key, key)


@dataclass(frozen=True, slots=True)
class Row:
    """One line of help: its keys (Textual's names), what they do, and, for a
    legend line, the words that stand for the keys ("Enter on a heading")."""

    keys: tuple[str, ...]
    text: str
    label: str = ""

    @property
    def shown_keys(self) -> str:
        return self.label or "  ".join(key_label(k) for k in self.keys)


def rows_of(*bindings: Iterable[BindingType]) -> list[Row]:
    """One row per help text, in the order declared; a key once (the first)."""
    seen: set[str] = set()
    keys_by_text: dict[str, list[str]] = {}
    for binding in Binding.make_bindings([b for group in bindings for b in group]):
        if binding.key in seen:
            continue
        seen.add(binding.key)
        keys_by_text.setdefault(binding.tooltip or binding.description, []).append(binding.key)
    return [Row(tuple(keys), text) for text, keys in keys_by_text.items()]


#: What no binding of ours says, by level.
EVERYWHERE = (
    Row(("ctrl+p",), "command palette: jump to a task, switch theme"),
    Row(("tab", "shift+tab"), "move the focus (box, list, panes)"),
    Row(("enter",), "keep the filter, the cursor on its first match (search: go to the match), "
        "and give the keys back", "Enter in the box"),
    Row(("escape",), "clear it and close it", "Esc in the box"),
    Row((), "select a row or a pane; click it again to open it", "click"),
)
ON_A_HEADING = Row(("enter",), "fold / unfold the group (Finished: the older tasks)", "Enter on a heading")
ON_A_RETIRED_PANE = Row(("enter",), "on a pane saying “retired → s43”, asks first:", "Enter on “retired”")


def sections(app_bindings: Iterable[BindingType]) -> list[tuple[str, list[Row]]]:
    """Every level's keys: the app's (``app_bindings``), then each screen's."""
    return [
        ("Everywhere", rows_of(app_bindings) + list(EVERYWHERE)),
        ("Tasks", rows_of(TaskTable.BINDINGS, TaskListScreen.BINDINGS) + [ON_A_HEADING]),
        ("One task", rows_of(TaskScreen.BINDINGS) + [ON_A_RETIRED_PANE]),
        ("", [Row(r.keys, r.text, "  " + r.shown_keys) for r in rows_of(SuccessorPrompt.BINDINGS)
              if r.keys != ("q",)]),  # (q quits, as everywhere)
        ("Transcript", rows_of(TranscriptScroll.BINDINGS, TranscriptScreen.BINDINGS)),
    ]


LEGEND = (
    "Groups, as tau's task picker: Active (active, review, merging, refining; “tau 3 of 8 "
    "slots” is tau's budget per project: those tasks plus planning tasks whose planner runs, of "
    "8), Queued — ready, Queued — planning, Blocked (waits on a depends_on task that is not "
    "merged or closed: done and failed still block), Held (never dispatched); then Interactive, "
    "Approved, Failed and Finished, which tau's picker leaves out. A live session never moves "
    "a task.\n\n"
    "● a live working session (worker, planner, refiner, reviewer, assigned): tau's server says "
    "it is running a turn. ○ only a live chat (creator, interactive, contributor): a person's or "
    "an orchestrator's chat that filed or discussed the task, not work on it. Sessions "
    "“4 (2 live)” counts working sessions; “(chat live)” and “+chat” mark a live chat; the Phase "
    "is the busiest working session's, else “waits on #N”, else the chat's (○, in its colour).\n\n"
    "Sorts as tau means them: priority higher first (then older first), state in workflow "
    "order (interactive, planning, refining, ready, active, review, approved, merging, then "
    "the finished ones); Finished is always newest first, by its Last column.\n\n"
    "Exit status colours: completed/succeeded good, error/panicked bad, cancelled/max_turns "
    "warning. Archived sessions are dimmed. “session gone” is a task_sessions row whose "
    "session was deleted from tau.db.\n\n"
    "✉ messages queued for a session's next turn, not delivered yet (tau feeds them in before "
    "its next LLM call; one that waits for a session that is not running is on !). "
    "“↪ steering”: a queued message fed into a running turn, in its place. “retired → s43”: "
    "tau retired the session for s43, where its messages now go; Enter on it offers s43.\n\n"
    "Costs count the calls tau stored: the LLM calls that write a compaction summary, and tau's "
    "loop reviews, are stored nowhere, and its stream says only that they happen (“compacting "
    "session…”, “Loop review at turn N”), never what they cost. “+2 unpriced” counts those seen "
    "while watching.\n\n"
    "The status line shows tau's rate-limit windows when it pushes them (“5h 72% · resets 14:00 "
    "· 7d 31%”, every 5 minutes on a subscription login), coloured as they near 100%, with their "
    "age; sessiontop never asks for them."
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("question_mark", "dismiss", "Close", show=False),
        Binding("q", "app.quit", "Quit", show=False),
    ]

    def compose(self) -> ComposeResult:
        levels = sections(self.app.BINDINGS)
        width = max(cell_len(row.shown_keys) for _, rows in levels for row in rows)
        with VerticalScroll(id="help-body"):
            yield Static(Text("sessiontop: keys", style="bold"), classes="help-title")
            for section, rows in levels:
                table = Table.grid(padding=(0, 2))
                table.add_column(min_width=width)  # one column of keys down the whole help
                table.add_column()
                for row in rows:
                    table.add_row(Text(row.shown_keys, style="bold"), Text(row.text))
                if section:
                    yield Static(Text(section, style="bold underline"), classes="help-section")
                yield Static(table)
            yield Static(Text(LEGEND), classes="help-legend")
            yield Static(Text("Esc closes this help; ↑ ↓ PgUp PgDn scroll it."), classes="help-foot")
