"""Level 1: every task, grouped for triage."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Input

from ..groups import SORTS, Grouper, group_of
from ..model import StoreStatus, TaskListSnapshot
from ..views import Query, RefreshState, TaskListQuery
from ..widgets.filter_box import FilterBox
from ..widgets.status import StatusLine
from ..widgets.text_line import TextLine
from ..widgets.task_table import TaskTable
from .base import DataScreen


class TaskListScreen(DataScreen):
    """All tasks, in the groups of tau's task picker (see `tui.groups`)."""

    BINDINGS = [
        Binding("enter", "open", "Open", show=True),
        Binding("slash", "filter", "Filter", key_display="/", priority=True),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("l", "live_only", "Live only"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("j", "down", "Down", show=False),
        Binding("k", "up", "Up", show=False),
    ]

    def __init__(self, *, sort: str | None = None, reverse: bool = False) -> None:
        """``sort``/``reverse``: the first sort (the config file's, or --sort)."""
        super().__init__()
        self.snapshot: TaskListSnapshot | None = None
        self.needle = ""
        self.live_only = False
        self.sort = sort if sort in SORTS else SORTS[0]
        self.reverse = reverse
        self.unfold_finished = False
        self._grouper = Grouper()  # regroups only the tasks that changed

    def compose(self) -> ComposeResult:
        yield TextLine(id="title", classes="screen-title")
        yield FilterBox("filter tasks: words match id, title, project, state; #12 = task 12",
                        id="filter")
        yield TaskTable(id="tasks")
        yield TextLine("Reading the store…", id="empty", classes="empty")
        yield StatusLine()
        yield Footer()

    AUTO_FOCUS = "TaskTable"

    def on_mount(self) -> None:
        self.query_one(TaskTable).focus()
        self._render_title()

    def data_query(self) -> Query:
        return TaskListQuery()

    # --- data in ------------------------------------------------------------------

    def apply(self, data: Any, status: StoreStatus, refresh: RefreshState) -> None:
        super().apply(data, status, refresh)
        if isinstance(data, TaskListSnapshot):
            self.snapshot = data
            self._redraw()

    def tick(self, now: float) -> None:
        super().tick(now)
        self.query_one(TaskTable).tick(now)

    def on_resize(self) -> None:
        self.query_one(TaskTable).fit_width(self.size.width)

    def _redraw(self) -> None:
        table = self.query_one(TaskTable)
        empty = self.query_one("#empty", TextLine)
        snap = self.snapshot
        if snap is None:
            return
        groups = self._grouper.group(snap.tasks, sort=self.sort, needle=self.needle,
                             live_only=self.live_only, unfold_finished=self.unfold_finished)
        table.show(groups, self.now(), unfolded=self.unfold_finished)
        if not snap.tasks:
            message = "No tasks in this store yet."
            if snap.status.error:
                message = "The store cannot be read (see below). Waiting for it…"
        elif not groups:
            message = "No task matches" + (f" “{self.needle}”" if self.needle else "") + (
                " among live tasks" if self.live_only else "") + ". Esc clears the filter."
        else:
            message = ""
        empty.show(Text(message))
        empty.display = bool(message)
        table.display = bool(groups)
        self._render_title()

    def _render_title(self) -> None:
        snap = self.snapshot
        title = Text("sessiontop", style="bold")
        if snap is not None:
            tasks = snap.tasks
            # Running: in the Active group with a live working session (a
            # live chat that filed the task is not work on it).
            running = sum(1 for t in tasks if t.live_count and group_of(t) == "active")
            live = snap.live_sessions  # distinct sessions, on a task or not
            title.append(f"  {len(tasks)} tasks · {running} running · {live} live sessions")
        bits = [f"sort: {self.sort}"]
        if self.live_only:
            bits.append("live only")
        if self.needle:
            bits.append(f"filter: {self.needle}")
        title.append("   [" + ", ".join(bits) + "]")
        self.query_one("#title", TextLine).show(title)

    # --- keys -------------------------------------------------------------------------

    def action_down(self) -> None:
        self.query_one(TaskTable).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(TaskTable).action_cursor_up()

    @on(TaskTable.RowSelected)
    def _row_selected(self, event: TaskTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        table = self.query_one(TaskTable)
        key = table.cursor_key()
        if key is None:
            return
        if key.startswith("fold:") or key == "g:finished":
            self.unfold_finished = not self.unfold_finished
            self._redraw()
            return
        task = table.task_at_cursor()
        if task is not None:
            self.app.open_task(task.id)  # type: ignore[attr-defined]

    def action_filter(self) -> None:
        self.query_one(FilterBox).slash()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.needle = event.value
        self._redraw()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        if not self.needle:
            self.query_one(FilterBox).close()
        self.query_one(TaskTable).focus()

    def action_clear_filter(self) -> None:
        if self.query_one(FilterBox).close():
            self.needle = ""
            self.query_one(TaskTable).focus()
            self._redraw()

    def action_live_only(self) -> None:
        self.live_only = not self.live_only
        self._redraw()

    def action_cycle_sort(self) -> None:
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self._redraw()
        self.notify(f"Sorted by {self.sort}", timeout=1.5)

    def select_task(self, task_id: int) -> bool:
        return self.query_one(TaskTable).select_task(task_id)
