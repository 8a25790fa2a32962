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
        ("PgUp PgDn", "a page up / down"),
        ("Home End  g G", "first / last (in a transcript: top, and follow)"),
        ("Enter", "go down a level (task → sessions → transcript)"),
        ("Esc", "clear the filter, else go back up"),
        ("/", "filter the list (search, in a transcript)"),
        ("Enter in the box", "keep the filter, the cursor on its first task (search: go to "
                             "the match) and give the keys back"),
        ("Esc in the box", "clear it and close it"),
        ("Tab  shift+Tab", "move the focus (box, list, panes)"),
        ("r", "re-read the store now"),
        ("p", "pause / resume live refresh (the footer says which)"),
        ("!", "notifications: what needs attention, then the log, newest first"),
        ("ctrl+p", "command palette: jump to a task, switch theme"),
        ("ctrl+z", "suspend (fg resumes, the screen redrawn)"),
        ("?  Esc", "this help / close it"),
        ("q", "quit (from every screen, this one too)"),
    )),
    ("Tasks", (
        ("l", "only tasks with a live session (working or chat)"),
        ("s  S", "sort by the next column (activity, priority, id, state) / reverse it"),
        ("F", "freeze the order (rows keep their place while cells change)"),
        ("Enter on a heading", "fold / unfold the group (Finished: the older tasks)"),
    )),
    ("One task", (
        ("← → ↑ ↓  h", "move between session panes"),
        ("l", "only live sessions"),
        ("a", "show / hide archived sessions"),
        ("s", "cycle the sort of the panes"),
        ("Enter on “retired → s43”", "offers its successor s43 (o: the retired one)"),
    )),
    ("Transcript", (
        ("End  G", "follow new messages (and the turn streaming) again"),
        ("Home  g", "top (loads older messages)"),
        ("n  N", "next search match down (newer) / up (older); the box says “2 of 8”"),
        ("t", "unfold / fold thinking"),
    )),
)

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
