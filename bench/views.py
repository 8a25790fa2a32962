"""What "the change is on screen" means, checked two ways with the same rules.

An `Expect` is one visible consequence of one committed change: the target
task's row shows a title / a phase / a session count, the target session's
pane shows a phase / a message / an exit status, the task screen's heading
shows a session count, the list's title counts the tasks. It is checked
against a `View`:

- `WidgetView`: the widgets of a live app (cheap; used inside ``apply``);
- `TextView`: the characters of a frame, either the app's own compositor
  output (``render_strips``) or ``tmux capture-pane`` of the real CLI.

The text rules locate things the way an operator's eye would: the task row is
the line holding the current title marker; a session pane is the box around
the session id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tui.ui.format import SPINNER  # a live session's phase follows a spinner frame

BORDERS_V = "│║┃╎┆╏┊"

BOTTOMS = "╰╚└┗"
TOPS = "╭╔┌┏"


class View:
    def row(self, title_marker: str, task: int | None = None) -> str | None:
        """The row of the task with this title marker (``task``: its id, else the target)."""
        raise NotImplementedError

    def title(self) -> str | None:  # the task list's title line ("N tasks · …")
        raise NotImplementedError

    def card(self, sid: str) -> list[str] | None:  # the target session pane's lines
        raise NotImplementedError

    def heading(self) -> str | None:  # "Sessions (N, K live) …" on the task screen
        raise NotImplementedError


class TextView(View):
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def row(self, title_marker: str, task: int | None = None) -> str | None:
        for line in self.lines:
            if title_marker in line:
                return line
        return None

    def title(self) -> str | None:
        for line in self.lines[:3]:
            if " tasks · " in line:
                return line
        return None

    def card(self, sid: str) -> list[str] | None:
        """The lines inside the box whose first line holds ``sid``."""
        pat = re.compile(rf"(?<![\w]){re.escape(sid)}(?!\w)")
        for r, line in enumerate(self.lines):
            for m in pat.finditer(line):
                c = m.start()
                left = max(line.rfind(b, 0, c) for b in BORDERS_V)
                if left < 0 or r == 0:
                    continue
                above = self.lines[r - 1]
                if left >= len(above) or above[left] not in TOPS:
                    continue
                rights = [i for i in (line.find(b, m.end()) for b in BORDERS_V) if i >= 0]
                right = min(rights) if rights else len(line)
                out = []
                for rr in range(r, min(len(self.lines), r + 40)):
                    ln = self.lines[rr]
                    if left < len(ln) and ln[left] in BOTTOMS:
                        break
                    out.append(ln[left + 1:right])
                return out
        return None

    def heading(self) -> str | None:
        for line in self.lines:
            i = line.find("Sessions (")
            if i >= 0:
                return line[i:]
        return None

    def contains(self, text: str) -> bool:
        return any(text in line for line in self.lines)


@dataclass(frozen=True)
class Expect:
    """One visible consequence: ``where`` is row | card | heading | title."""

    where: str
    text: str  # what must be there
    title_marker: str = ""  # row: the current title marker (locates the row on a frame)
    sid: str = ""  # card: the session
    line: int | None = None  # card: which line (0: role/id, 1: phase/exit), None: any
    live: bool = False  # card: the text is a live phase (right after a spinner frame)
    task: int | None = None  # row: the task's id when not the target's

    def check(self, view: View) -> bool:
        if self.where == "row":
            row = view.row(self.title_marker, self.task)
            return row is not None and self.text in row
        if self.where == "title":
            title = view.title()
            return title is not None and self.text in title
        if self.where == "card":
            lines = view.card(self.sid)
            if not lines:
                return False
            if self.line is None:
                return any(self._in(ln) for ln in lines)
            return len(lines) > self.line and self._in(lines[self.line])
        if self.where == "heading":
            head = view.heading()
            return head is not None and head.startswith(self.text)
        raise ValueError(self.where)

    def _in(self, line: str) -> bool:
        if not self.live:
            return self.text in line
        return re.search(f"[{SPINNER}] {re.escape(self.text)}", line) is not None

    def check_lines(self, lines: list[str]) -> bool:
        return self.check(TextView(lines))
