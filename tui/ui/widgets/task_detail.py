"""The task list's detail line: the selected task in full, under the table.

At 80 columns two titles can both read "Paginate the orde…": this line says
which task the cursor is on, with its whole title, its branch and its latest
state change (those two come from a read of the task, a moment later).
"""

from __future__ import annotations

from rich.text import Text

from .. import format as fmt
from ...model.hosts import task_label
from ...model.snapshots import TaskDetail, TaskRow
from ...model.text import one_line
from .text_line import TextLine


def detail_words(task: TaskRow, detail: TaskDetail | None, now: float) -> Text:
    """Two lines: "#12 Full title", then "active · tau · branch task-12-x ·
    ready→active 3m ago" (at 80 columns a title alone can fill a line)."""
    line = Text(no_wrap=True, overflow="ellipsis", end="")
    line.append(f"{one_line(task_label(task.host, task.id), 60)} ", style="bold")  # gpu1 #12 with hosts
    line.append(one_line(task.title, 300))
    line.append(f"\n{one_line(task.state, 20)}")
    if task.project:
        line.append(f" · {one_line(task.project, 40)}")
    if task.waits:  # tau's scheduler's words, in full (the list cell cuts them)
        line.append(" · ⏳ " + "; ".join(one_line(w, 80) for w in task.waits[:4]), style="bold")
    if detail is None or detail.task.id != task.id:
        return line
    if detail.branch:
        line.append(f" · branch {one_line(detail.branch, 80)}")
    states = [h for h in detail.history if h.field == "state"]
    if states:
        h = max(states, key=lambda e: (e.created_at, e.id))
        line.append(f" · {one_line(h.old_value or '∅', 16)}→{one_line(h.new_value or '∅', 16)} "
                    f"{fmt.age(h.created_at / 1000, now)} ago")
    return line


class TaskDetailLine(TextLine):
    """Two lines under the table; empty on a heading."""

    def show_task(self, task: TaskRow | None, detail: TaskDetail | None, now: float) -> None:
        self.show(Text("") if task is None else detail_words(task, detail, now))
