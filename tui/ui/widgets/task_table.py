"""The task list: tasks under group headings, drawn line by line and updated in place."""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...model.groups import Group
from ...model.snapshots import TaskRow
from .row_paint import RowPainter, line_text
from .table_cursor import TableCursor
from .table_rows import TableRows
from .task_cells import (  # noqa: F401  (the column sets, re-exported)
    NARROW_BELOW,
    NARROW_COLUMNS,
    WIDE_COLUMNS,
    Cells,
    age_cell,
    columns_for,
    fold_cells,
    heading_cells,
    task_cells,
)


class TaskTable(TableCursor, ScrollView, can_focus=True):
    """Rows keyed ``t:<id>``; headings ``g:<group>``; the fold row ``fold:<group>``.

    Drawn with Textual's line API: each row is rendered once into a `Strip`
    and kept until its cells change, so a change to one task redraws one line
    (a DataTable re-renders every visible cell on any update, ~100 ms for a
    full screen). The rows of a group that is the same object as last time are
    kept as they were, so a change costs the groups it touched. `show` keeps
    the cursor on the same task; the view holds still, and a view at its top
    stays at its top (new work above the cursor comes into sight).
    """

    COMPONENT_CLASSES = {
        "tasktable--header", "tasktable--cursor", "tasktable--cursor-blurred",
        "tasktable--heading", "tasktable--live", "tasktable--busy", "tasktable--good",
        "tasktable--bad", "tasktable--warn", "tasktable--queued", "tasktable--muted",
        "tasktable--unknown", "tasktable--held", "tasktable--dim", "tasktable--chat",
    }
    BINDINGS = [  # (`?` help shows the tooltips: tui/ui/screens/help.py)
        Binding("up", "cursor_up", "Up", show=False, tooltip="move up / down"),
        Binding("down", "cursor_down", "Down", show=False, tooltip="move up / down"),
        Binding("pageup", "page_up", "Page up", show=False, tooltip="a page up / down"),
        Binding("pagedown", "page_down", "Page down", show=False, tooltip="a page up / down"),
        Binding("home", "first", "First", show=False, tooltip="the first / last row"),
        Binding("end", "last", "Last", show=False, tooltip="the first / last row"),
        Binding("g", "first", "First", show=False, tooltip="the first / last row"),
        Binding("G", "last", "Last", show=False, tooltip="the first / last row"),
        Binding("enter", "select", "Open", show=False, tooltip="open the task: its sessions"),
    ]

    class RowSelected(Message):
        """Enter, or a click on the row under the cursor."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    class CursorMoved(Message):
        """The cursor is on another row (another task), by a key or by the data."""

        def __init__(self, key: str | None) -> None:
            super().__init__()
            self.key = key

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        #: (key, cells) of every row, in order.
        self._rows: list[tuple[str, Cells]] = []
        #: Row key → its index in ``_rows`` (None: to be made again).
        self._index: dict[str, int] | None = {}
        self._made = TableRows(self._task_cells, self._heading_cells, self._fold_cells)
        self._tasks = self._made.tasks  # row key → its task (the same dict, kept by _made)
        self._columns, self._title_width = columns_for(120)
        self._width = 120
        self._hosts = False  # rows of several hosts: the host column
        self._last: tuple[Sequence[Group], float] | None = None
        self._unfolded = False
        self._folded: frozenset[str] = frozenset()
        #: (column key, reversed) of the sort: its header gets ▼ (or ▲).
        self.sort_mark: tuple[str, bool] | None = None
        self._announced: str | None = None
        self._strips: dict[str, tuple[Cells, bool, int, Strip]] = {}
        self._painter = RowPainter()
        self._tones: dict[str, str] = {}  # tone → its style (see `_style`)
        self._header: tuple[int, Strip] | None = None
        self.cursor_row = 0

    def _cursor_moved(self, key: str | None) -> Message:
        return self.CursorMoved(key)

    def _row_selected(self, key: str) -> Message:
        return self.RowSelected(key)

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._restyle)

    def _restyle(self, _theme: object = None) -> None:
        """Colours come from the stylesheet: a new theme means new cells."""
        self._made.clear()
        self._tones = {}
        self._tasks = self._made.tasks
        self._strips = {}
        self._painter.clear()
        self._header = None
        if self._last is not None:
            self._rows = []
            self.show(self._last[0], self._last[1], unfolded=self._unfolded, folded=self._folded)

    def on_focus(self) -> None:
        self._strips = {}
        self.refresh()

    def on_blur(self) -> None:
        self._strips = {}
        self.refresh()

    def _style(self, tone: str) -> str:
        """A tone's style, kept until the styles change (Textual's cache empties on a refresh)."""
        style = self._tones.get(tone)
        if style is None:
            style = self._tones[tone] = str(
                self.get_component_rich_style(f"tasktable--{tone}", partial=True))
        return style

    def notify_style_update(self) -> None:
        self._tones = {}
        super().notify_style_update()

    # --- rendering -----------------------------------------------------------------

    def _task_cells(self, t: TaskRow, now: float) -> Cells:
        return task_cells(t, now, self._columns, self._title_width, self._style)

    def _heading_cells(self, group: Group, folded: bool = False) -> Cells:
        return heading_cells(group, self._style, folded)

    def _fold_cells(self, group: Group, unfolded: bool) -> Cells:
        return fold_cells(group, unfolded, self._columns, self._style)

    def build_rows(self, groups: Sequence[Group], now: float, unfolded: bool) -> list[tuple[str, Cells]]:
        """Rows for these groups (see `TableRows.build`)."""
        rows = self._made.build(groups, now, unfolded=unfolded, folded=self._folded)
        self._tasks = self._made.tasks
        return rows

    # --- updating --------------------------------------------------------------------

    def show(self, groups: Sequence[Group], now: float, *, unfolded: bool = False,
             folded: frozenset[str] = frozenset(), keep_top: bool = True) -> None:
        """Put these groups on screen: unchanged lines keep their rendering; the
        cursor stays on its task, the view with it, but a view at the top stays
        there (a task added above the cursor comes into sight). ``keep_top=False``:
        the operator changed the list (filter, sort): the view follows the
        cursor's task. ``folded``: the groups shown as their heading alone."""
        self._last = (groups, now)
        self._unfolded = unfolded
        refold = folded != self._folded  # rows come or go under a heading: redraw all
        self._folded = folded
        cursor_key, cursor_index = self.cursor_key(), self.cursor_row
        top = int(self.scroll_y)
        offset = cursor_index - top  # the cursor's line on screen
        old = self._rows
        new = self.build_rows(groups, now, unfolded)
        # The same rows in the same places (a phase, a count, an age changed):
        # repaint just the lines whose cells changed, not the whole table.
        in_place = not refold and len(old) == len(new)
        changed: list[int] = []
        if in_place:
            for i, (a, b) in enumerate(zip(old, new)):
                if a is b:
                    continue
                if a[0] != b[0]:
                    in_place = False
                    break
                if a[1] is not b[1]:
                    changed.append(i)
        self._rows = new
        if not in_place:  # (the index of every row is made again when asked for)
            self._index = None
            for key in [k for k in self._strips if k.startswith("t:") and k not in self._tasks]:
                del self._strips[key]  # tasks no longer listed
        found = self._find(cursor_key, cursor_index)
        if found is not None:
            index = found
        else:
            index = min(cursor_index, len(new) - 1)
            # Prefer a task row to a heading when the old task vanished.
            while 0 <= index < len(new) - 1 and not new[index][0].startswith("t:"):
                index += 1
        moved = self.cursor_row != max(0, index)
        self.cursor_row = max(0, index)
        self.virtual_size = Size(self.size.width, len(new) + 1)
        scrolls = False
        if (moved and (top > 0 or not keep_top) and found is not None
                and 0 <= offset < self._visible_rows()):
            # Its task moved (re-sorted, rows came or went above it): a view
            # scrolled down the list moves with it, so the operator's row stays
            # on the line it was on. A view at the top stays there: new work
            # shows up where the operator watches for it (the cursor stays on
            # its task, lower down, off screen if that is where it went).
            # (after the refresh: the new virtual size must be in place first)
            self.call_after_refresh(self.scroll_to, y=max(0, self.cursor_row - offset),
                                    animate=False, immediate=True)
            scrolls = True
        self.tick(now)
        self._announce()
        if in_place and not moved:
            for i in changed:
                self._refresh_row(i)
        elif refold or len(old) != len(new) or int(self.scroll_y) != top or scrolls:
            self.refresh()
        else:  # rows moved (a re-sort): the lines on screen that show another row
            self._refresh_moved(old, new, cursor_index)

    def _refresh_moved(self, old: list[tuple[str, Cells]], new: list[tuple[str, Cells]],
                       old_cursor: int) -> None:
        """Repaint the lines on screen that show another row (a task moved up: from its new
        place to its old one) and the cursor's: a full refresh sends all through the compositor."""
        top, cursors = int(self.scroll_y), (old_cursor, self.cursor_row)
        spans: list[list[int]] = []
        for i in range(top, min(len(new), top + self._visible_rows())):
            if old[i] is not new[i] or i in cursors:
                if spans and spans[-1][1] == i:
                    spans[-1][1] = i + 1
                else:
                    spans.append([i, i + 1])
        width = max(self.virtual_size.width, self.size.width)
        if spans:
            self.refresh(*(Region(0, a + 1 - top, width, b - a) for a, b in spans))

    def _find(self, key: str | None, near: int) -> int | None:
        """Row ``key``'s index: first near where it was (a re-sort moves it a place or two)."""
        for i in range(max(0, near - 4), min(len(self._rows), near + 5)):
            if self._rows[i][0] == key:
                return i
        return None if key is None else self._key_index().get(key)

    def _key_index(self) -> dict[str, int]:
        """Row key → its index (made again after rows moved)."""
        if self._index is None:
            self._index = {key: i for i, (key, _) in enumerate(self._rows)}
        return self._index

    def _visible_rows(self) -> int:
        """Rows the view shows at once (the header takes a line)."""
        return max(1, self.size.height - 1)

    def _refresh_row(self, index: int) -> None:
        """Repaint the line of row ``index`` (line 0 is the header)."""
        self.refresh_lines(index + 1)

    def tick(self, now: float) -> None:
        """Age cells of the rows on screen; no store access."""
        if not self._rows:
            return
        col = next((i for i, (key, _, _) in enumerate(self._columns) if key == "age"), None)
        if col is None:
            return
        top = int(self.scroll_y)
        bottom = top + self.size.height + 1
        for i in range(max(0, top - 1), min(len(self._rows), bottom)):
            key, cells = self._rows[i]
            task = self._tasks.get(key)
            if task is None:
                continue
            age = age_cell(task, now)  # the only cell the clock moves
            if age.plain != cells[col].plain:  # (a paused app does not tick: ages hold)
                fresh = cells[:col] + (age,) + cells[col + 1:]
                self._rows[i] = row = (key, fresh)
                self._made.retick(i, row, task)
                self._refresh_row(i)

    def fit_width(self, width: int) -> None:
        """Choose the columns for this width; redraw if they changed."""
        self._width = width
        columns, title_width = columns_for(width, self._hosts)
        if (columns, title_width) == (self._columns, self._title_width):
            return
        self._columns, self._title_width = columns, title_width
        self._restyle()

    def set_hosts(self, hosts: bool) -> None:
        """Rows of several hosts (issue 23): a host column, or none."""
        if hosts != self._hosts:
            self._hosts = hosts
            self._header = None
            self.fit_width(self._width)

    # --- drawing ------------------------------------------------------------------------

    def _strip(self, line: Text, extra_style: str | None = None) -> Strip:
        width = self.size.width
        if extra_style:
            line.stylize(extra_style)
        segments = list(line.render(self.app.console))
        base = self.rich_style
        return Strip(Segment.apply_style(segments, base)).adjust_cell_length(width, base)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            if self._header is None or self._header[0] != width:
                self._header = (width, self._strip(
                    self._header_line(), str(self.get_component_rich_style("tasktable--header"))))
            return self._header[1]
        index = int(self.scroll_y) + y - 1
        if not (0 <= index < len(self._rows)):
            return Strip.blank(width, self.rich_style)
        key, cells = self._rows[index]
        cursor = index == self.cursor_row
        hit = self._strips.get(key)
        if hit is not None and hit[0] is cells and hit[1] == cursor and hit[2] == width:
            return hit[3]
        if cursor:
            style = str(self.get_component_rich_style(
                "tasktable--cursor" if self.has_focus else "tasktable--cursor-blurred"))
            strip = self._strip(line_text(self._columns, self._title_width, cells), style)
        elif len(cells) == 1:  # a heading
            strip = self._strip(line_text(self._columns, self._title_width, cells))
        else:  # from each cell's kept segments: a tick re-renders the age cell only
            base = self.rich_style
            segments = self._painter.segments(self._columns, self._title_width, cells, self.app.console)
            strip = Strip(Segment.apply_style(segments, base)).adjust_cell_length(width, base)
        self._strips[key] = (cells, cursor, width, strip)
        return strip

    def _header_line(self) -> Text:
        """The column labels; the sort's column says which way it goes (▼ as
        tau means the key, ▲ reversed) in the space after it."""
        line = Text(no_wrap=True, end="")
        mark_key, reverse = self.sort_mark or (None, False)
        for key, label, width in self._columns:
            width = self._title_width if key == "title" else width
            cell = label[:width]
            line.append(" " + (cell.rjust(width) if key in ("id", "prio", "age") else cell.ljust(width)))
            line.append(("▲" if reverse else "▼") if key == mark_key else " ")
        return line

    def set_sort_mark(self, column: str | None, reverse: bool) -> None:
        mark = (column, reverse) if column else None
        if mark != self.sort_mark:
            self.sort_mark = mark
            self._header = None
            self.refresh_lines(0)

    def on_resize(self) -> None:
        self._header = None
        self._strips = {}
        self.virtual_size = Size(self.size.width, len(self._rows) + 1)

    def get_row(self, key: str) -> Cells:
        """The cells of the row ``key`` (as DataTable's get_row); KeyError if absent."""
        index = self._key_index().get(key)
        if index is None:
            raise KeyError(key)
        return self._rows[index][1]
