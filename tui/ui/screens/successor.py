"""Enter on a retired session: its successor is offered first.

tau retires a session in favour of a successor (``succeed_session``: a new
session, ``sessions.successor_id`` on the old one); messages sent to the old
one are forwarded to it, and tau's own client switches to it. So Enter on a
retired pane asks: the successor (Enter, or y), or the retired session's own
transcript (o), or neither (Esc).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from ...model.text import one_line

#: What the prompt answers: open the successor, open the retired one, or nothing.
SUCCESSOR, RETIRED = "successor", "retired"


class SuccessorPrompt(ModalScreen[str | None]):
    BINDINGS = [
        Binding("enter,y", "choose('successor')", "Open the successor", tooltip="open its successor s43"),
        Binding("o", "choose('retired')", "Open this one", tooltip="open the retired session anyway"),
        Binding("escape,n", "choose(None)", "Cancel", tooltip="stay on the task"),
        Binding("q", "app.quit", "Quit", show=False, tooltip="quit (from every screen, help and ! too)"),
    ]

    def __init__(self, session_id: str, successor_id: str) -> None:
        super().__init__()
        self.session_id, self.successor_id = session_id, successor_id

    def compose(self) -> ComposeResult:
        old, new = one_line(self.session_id, 24), one_line(self.successor_id, 24)
        t = Text()
        t.append(f"{old} is retired → {new}\n", style="bold")
        t.append(f"tau forwards what is sent to {old} to its successor {new}.\n\n")
        t.append("Enter", style="bold")
        t.append(f"  open {new}\n")
        t.append("o", style="bold")
        t.append(f"      open {old} anyway\n")
        t.append("Esc", style="bold")
        t.append("    stay here")
        with Vertical():
            yield Static(t, id="successor-body")

    def action_choose(self, choice: str | None) -> None:
        self.dismiss(choice)
