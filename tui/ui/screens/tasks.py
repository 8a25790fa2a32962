"""Level 1: every task, grouped for triage."""

from __future__ import annotations

from typing import TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.reactive import var
from textual.widget import Widget
from textual.widgets import Input

from ...model.groups import SORTS, Grouper
from ...model.snapshots import StoreStatus, TaskDetail, TaskListSnapshot, TaskRow
from ...model.task_order import SORT_COLUMN, Arranger, freeze
from ...model.queries import RefreshState, TaskListQuery
from ..widgets.filter_box import FilterBox
from ..widgets.footer import FitFooter
from ..widgets.status import StatusLine
from ..widgets.task_detail import TaskDetailLine
from ..widgets.task_table import TaskTable
from ..widgets.text_line import TextLine
from .base import DataScreen

W = TypeVar("W", bound=Widget)


class TaskListScreen(DataScreen[TaskListSnapshot]):
    """All tasks, in the groups of tau's task picker (see `tui.model.groups`)."""

    BINDINGS = [
        Binding("enter", "open", "Open", show=True, tooltip="open the task: its sessions"),
        Binding("slash", "filter", "Filter", key_display="/", priority=True,
                tooltip="filter the tasks: words match id, title, project, state; #12, host:gpu1"),
        Binding("escape", "clear_filter", "Clear filter", show=False, tooltip="clear the filter"),
        Binding("l", "live_only", "Live only", tooltip="only tasks with a live session (working or chat)"),
        Binding("s", "cycle_sort", "Sort", tooltip="sort by the next column: activity, priority, id, state"),
        Binding("S", "reverse_sort", "Reverse", key_display="S", tooltip="reverse the sort"),
        Binding("F", "toggle_freeze", "Freeze", key_display="F",
                tooltip="freeze the order (rows keep their place while cells change); again: sort"),
        Binding("j", "down", "Down", show=False, tooltip="move up / down"),
        Binding("k", "up", "Up", show=False, tooltip="move up / down"),
    ]

    # The view: what the operator chose. Each change redraws the list once
    # (`_view_changed`); none is data, so none asks the store.
    #: The filter's words.
    needle = var("", init=False)
    #: Only tasks with a live session (`l`).
    live_only = var(False, init=False)
    sort = var(SORTS[0], init=False)
    reverse = var(False, init=False)
    #: The finished tasks past the newest few shown.
    unfold_finished = var(False, init=False)
    #: Groups the operator folded to their heading (Enter on a heading).
    folded: var[frozenset[str]] = var(frozenset(), init=False)
    #: htop's F: the order held as it was (task id → place), None: sorted live.
    frozen: var[dict[object, int] | None] = var(None, init=False)
    VIEW = ("needle", "live_only", "sort", "reverse", "unfold_finished", "folded", "frozen")

    def __init__(self, *, sort: str | None = None, reverse: bool = False) -> None:
        """``sort``/``reverse``: the first sort (the config file's, or --sort)."""
        super().__init__()
        self.snapshot: TaskListSnapshot | None = None
        self.set_reactive(TaskListScreen.sort, sort if sort in SORTS else SORTS[0])
        self.set_reactive(TaskListScreen.reverse, reverse)
        self._found: tuple[TaskTable, StatusLine] | None = None
        self._kept: dict[tuple[type, str], Widget] = {}  # (see `_one`)
        self._grouper = Grouper()  # regroups only the tasks that changed
        self._arranger = Arranger()  # reverses or holds only the groups that changed
        self._shown_groups: list = []
        #: The detail line's read of the selected task: (its row then, the detail).
        self._detail: tuple[TaskRow, TaskDetail | None] | None = None

    def compose(self) -> ComposeResult:
        yield TextLine(id="title", classes="screen-title")
        yield FilterBox("filter tasks: words match id, title, project, state; #12 = task 12; "
                        "host:gpu1 = a host's", id="filter")
        yield TaskTable(id="tasks")
        yield TextLine("Reading the store…", id="empty", classes="empty")
        yield TaskDetailLine(id="task-detail")
        yield StatusLine()
        yield FitFooter()

    AUTO_FOCUS = "TaskTable"

    def on_mount(self) -> None:
        self.query_one(TaskTable).focus()
        self._render_title()
        for name in self.VIEW:
            self.watch(self, name, self._view_changed, init=False)

    def _view_changed(self) -> None:
        self._redraw()

    def data_query(self) -> TaskListQuery:
        return TaskListQuery()

    # --- data in ------------------------------------------------------------------

    def apply(self, data: TaskListSnapshot, status: StoreStatus, refresh: RefreshState) -> None:
        super().apply(data, status, refresh)
        self.snapshot = data
        self._redraw(from_data=True)

    def apply_status(self, status: StoreStatus, refresh: RefreshState) -> None:
        line = self._widgets()[1]
        if line is None:
            super().apply_status(status, refresh)
        else:
            line.show(status, refresh, self.now())

    def tick(self, now: float) -> None:
        table, line = self._widgets()
        if table is None or line is None:  # (not composed yet)
            super().tick(now)
            return
        line.tick(now)
        table.tick(now)

    def _widgets(self) -> tuple[TaskTable | None, StatusLine | None]:
        """The table and the status line, found once (a DOM query on every
        read and every second was a tenth of an idle dashboard's CPU)."""
        if self._found is not None and not all(w.is_attached for w in self._found):
            self._found = None  # (torn down, or being)
        if self._found is None:
            try:
                self._found = (self.query_one(TaskTable), self.query_one(StatusLine))
            except NoMatches:
                return None, None
        return self._found

    def _one(self, kind: type[W], selector: str = "") -> W:
        """``query_one``, kept while the widget is attached: every read redraws
        the list, its title and its detail line, and a DOM query each was a
        measurable part of a read under load."""
        widget = self._kept.get((kind, selector))
        if widget is None or not widget.is_attached:
            widget = self._kept[(kind, selector)] = (
                self.query_one(selector, kind) if selector else self.query_one(kind))
        return widget  # type: ignore[return-value]

    def on_resize(self) -> None:
        self.query_one(TaskTable).fit_width(self.size.width)

    def _redraw(self, *, from_data: bool = False) -> None:
        """The list again: for new data (``from_data``: a view at the top of
        the list stays there), or for the operator's own change."""
        table = self._one(TaskTable)
        empty = self._one(TextLine, "#empty")
        snap = self.snapshot
        if snap is None:
            return
        groups = self._grouper.group(snap.tasks, sort=self.sort, needle=self.needle,
                                     live_only=self.live_only, unfold_finished=self.unfold_finished,
                                     seq=snap.seq, delta=snap.delta)
        groups = self._arranger.arrange(groups, reverse=self.reverse, frozen=self.frozen)
        self._shown_groups = groups
        table.set_sort_mark(None if self.frozen is not None else SORT_COLUMN.get(self.sort),
                            self.reverse)
        table.set_hosts(bool(snap.status.hosts))  # several hosts: a host column
        table.show(groups, self.now(), unfolded=self.unfold_finished, folded=self.folded,
                   keep_top=from_data)
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
        if groups and self.focused is None:
            # hidden while there was nothing to list, the table lost the focus
            # (Textual drops it from a hidden widget): the keys move it again
            table.focus()
        self._render_title()
        self._show_detail()

    def _render_title(self) -> None:
        snap = self.snapshot
        title = Text("sessiontop", style="bold")
        if snap is not None:
            # Running: in the Active group with a live working session (a
            # live chat that filed the task is not work on it); counted as the
            # grouper regroups what changed.
            running = self._grouper.running
            live = snap.live_sessions  # distinct sessions, on a task or not
            title.append(f"  {len(snap.tasks)} tasks · {running} running · {live} live sessions")
        bits = [f"sort: {self.sort}" + (" reversed" if self.reverse else "")]
        if self.frozen is not None:
            bits = ["order frozen (F: sort again)"]
        if self.live_only:
            bits.append("live only")
        if self.needle:
            bits.append(f"filter: {self.needle}")
        title.append("   [" + ", ".join(bits) + "]")
        self._one(TextLine, "#title").show(title)

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
        if key.startswith("fold:"):  # the finished tasks past the newest few
            self.unfold_finished = not self.unfold_finished
            return
        if key.startswith("g:"):  # any heading folds its group, and unfolds it
            self.folded = self.folded ^ {key[2:]}
            return
        task = table.task_at_cursor()
        if task is not None:
            self.dashboard.open_task(task.id, task.host)

    def action_filter(self) -> None:
        self.query_one(FilterBox).slash()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.needle = event.value
        if self.needle:  # on the first match, so that Enter opens it (not its group's heading)
            self.query_one(TaskTable).select_first_task()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        if not self.needle:
            self.query_one(FilterBox).close()
        self.query_one(TaskTable).focus()

    def action_clear_filter(self) -> None:
        if self.query_one(FilterBox).close():
            self.needle = ""
            self.query_one(TaskTable).focus()

    def action_live_only(self) -> None:
        self.live_only = not self.live_only

    def action_cycle_sort(self) -> None:
        self.set_reactive(TaskListScreen.frozen, None)  # a new sort is asked for: it is seen
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        self.notify(f"Sorted by {self.sort}", timeout=1.5)

    def action_reverse_sort(self) -> None:
        self.set_reactive(TaskListScreen.frozen, None)
        self.reverse = not self.reverse

    def action_toggle_freeze(self) -> None:
        """Hold the order as it is now (rows keep their places while their
        cells change, the cursor's line with them), or sort live again."""
        self.frozen = freeze(self._shown_groups) if self.frozen is None else None

    # --- the detail line ---------------------------------------------------------------

    @on(TaskTable.CursorMoved)
    def _cursor_moved(self, event: TaskTable.CursorMoved) -> None:
        event.stop()
        self._show_detail()

    def _show_detail(self) -> None:
        """The selected task now; its branch and latest transition once read
        (read again when its row changed)."""
        try:
            task = self._one(TaskTable).task_at_cursor()
            line = self._one(TaskDetailLine)
        except NoMatches:
            return  # the screen is being torn down (quitting) while a read lands
        if task is None:
            line.show_task(None, None, self.now())
            return
        held = self._detail
        if held is not None and held[0].id == task.id and held[0].host == task.host:
            line.show_task(task, held[1], self.now())
            if _same_task(held[0], task):
                return
        else:
            line.show_task(task, None, self.now())
        self._read_detail(task)

    @work(group="task-detail", exclusive=True, exit_on_error=False)
    async def _read_detail(self, task: TaskRow) -> None:
        self._detail = (task, await self.dashboard.read_task_detail(task.id, task.host))
        if self.is_attached:
            self._show_detail()

    def select_task(self, task_id: int, host: str = "") -> bool:
        """Put the cursor on a task (the palette's jump), if it is listed."""
        return self.query_one(TaskTable).select_task(task_id, host)

    @property
    def detail_ready(self) -> bool:
        """The detail line shows the read of the selected task (tests wait on it)."""
        task = self.query_one(TaskTable).task_at_cursor()
        return task is None or (self._detail is not None and _same_task(self._detail[0], task))


def _same_task(a: TaskRow, b: TaskRow) -> bool:
    """Whether a detail read for row ``a`` still holds for ``b``: the branch and the
    history change only with the task itself (its updated_at), not with its sessions."""
    return a.id == b.id and a.host == b.host and a.updated_at == b.updated_at and a.state == b.state
