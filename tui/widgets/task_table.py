"""The task list: a DataTable of tasks under group headings, updated in place."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from .. import format as fmt
from ..groups import Group
from ..model import TaskRow
from ..text import one_line

#: (key, label, width); the title takes what the others leave.
WIDE_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("live", " ", 1),
    ("state", "State", 14),
    ("id", "#", 5),
    ("prio", "P", 2),
    ("title", "Title", 0),
    ("project", "Project", 10),
    ("sessions", "Sessions", 11),
    ("phase", "Phase", 16),
    ("age", "Last", 6),
)
#: Below this width the project and priority columns give way to the title.
NARROW_BELOW = 110
NARROW_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("live", " ", 1),
    ("state", "State", 13),
    ("id", "#", 4),
    ("title", "Title", 0),
    ("sessions", "Sessions", 10),
    ("phase", "Phase", 15),
    ("age", "Last", 4),
)
MIN_TITLE = 16


def columns_for(width: int) -> tuple[tuple[tuple[str, str, int], ...], int]:
    """The columns that fit ``width``, and the title's width among them."""
    cols = WIDE_COLUMNS if width >= NARROW_BELOW else NARROW_COLUMNS
    fixed = sum(w + 2 for key, _, w in cols if key != "title") + 2 + 1  # padding, scrollbar
    return cols, max(MIN_TITLE, width - fixed)


Cells = tuple[Text, ...]


class TaskTable(DataTable[Text]):
    """Rows keyed ``t:<id>``; headings ``g:<group>``; the fold row ``fold:<group>``.

    `show` compares the new rows with those on screen: when the order is the
    same only the changed cells are touched; otherwise the table is rebuilt in
    one go with the cursor and scroll position kept on the same task.
    """

    COMPONENT_CLASSES = {
        "tasktable--heading", "tasktable--live", "tasktable--busy", "tasktable--good",
        "tasktable--bad", "tasktable--warn", "tasktable--queued", "tasktable--muted",
        "tasktable--unknown", "tasktable--held", "tasktable--dim",
    }

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self._rows: list[tuple[str, Cells]] = []
        self._tasks: dict[str, TaskRow] = {}
        self._columns, self._title_width = columns_for(120)
        self._last: tuple[Sequence[Group], float] | None = None
        self._unfolded = False

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        for key, label, width in self._columns:
            self.add_column(label, key=key, width=self._title_width if key == "title" else width)

    def _style(self, tone: str) -> str:
        return str(self.get_component_rich_style(f"tasktable--{tone}", partial=True))

    # --- rendering -----------------------------------------------------------------

    def _task_cells(self, t: TaskRow, now: float) -> Cells:
        tone = fmt.state_tone(t.state)
        live = Text("●" if t.live_count else " ", style=self._style("live"))
        state = Text(f"{fmt.state_glyph(t.state)} {one_line(t.state, 11)}", style=self._style(tone))
        if t.held:
            state = Text(f"‖ {one_line(t.state, 11)}", style=self._style("held"))
        sessions = Text(f"{t.session_count}" + (f" ({t.live_count} live)" if t.live_count else ""),
                        no_wrap=True, overflow="ellipsis")
        if not t.live_count:
            sessions.stylize(self._style("dim"))
        phase = Text("")
        if t.busiest_phase:
            # A glyph per phase, not a spinner: an idle screen must not redraw
            # the table every second (the panes of one task do spin).
            glyph = fmt.PHASE_GLYPH.get(t.busiest_phase, "•")
            phase = Text(f"{glyph} {one_line(t.busiest_phase, 13)}", style=self._style("busy"),
                         no_wrap=True, overflow="ellipsis")
        elif t.blocked_by:
            phase = Text("waits on " + ",".join(f"#{b}" for b in t.blocked_by[:3]), style=self._style("warn"))
        title = Text(one_line(t.title, self._title_width), no_wrap=True, overflow="ellipsis")
        if fmt.is_terminal(t.state):
            title.stylize(self._style("dim"))
        cells = {
            "live": live,
            "state": state,
            "id": Text(str(t.id), justify="right"),
            "prio": Text(str(t.priority) if t.priority else "", justify="right"),
            "title": title,
            "project": Text(one_line(t.project, 10), style=self._style("dim")),
            "sessions": sessions,
            "phase": phase,
            "age": Text(fmt.age(t.last_activity if t.last_activity is not None else t.updated_at / 1000,
                                now), justify="right"),
        }
        return tuple(cells[key] for key, _, _ in self._columns)

    def _heading_cells(self, group: Group) -> Cells:
        style = self._style("heading")
        label = f"{group.heading} ({len(group.tasks) + group.folded})"
        return (Text("▾", style=style), Text(label, style=style, no_wrap=True)) + tuple(
            Text("") for _ in self._columns[2:])

    def _fold_cells(self, group: Group, unfolded: bool) -> Cells:
        style = self._style("dim")
        text = "▴ fold" if unfolded else f"▸ {group.folded} more (Enter to show)"
        return tuple(Text(text, style=style) if key == "title" else Text("")
                     for key, _, _ in self._columns)

    def build_rows(self, groups: Sequence[Group], now: float, unfolded: bool) -> list[tuple[str, Cells]]:
        rows: list[tuple[str, Cells]] = []
        tasks: dict[str, TaskRow] = {}
        for group in groups:
            rows.append((f"g:{group.key}", self._heading_cells(group)))
            for t in group.tasks:
                key = f"t:{t.id}"
                tasks[key] = t
                rows.append((key, self._task_cells(t, now)))
            if group.folded or (unfolded and group.key == "finished"):
                rows.append((f"fold:{group.key}", self._fold_cells(group, unfolded)))
        self._tasks = tasks
        return rows

    # --- updating --------------------------------------------------------------------

    def show(self, groups: Sequence[Group], now: float, *, unfolded: bool = False) -> None:
        """Put these groups on screen, touching only what changed."""
        self._last = (groups, now)
        self._unfolded = unfolded
        new = self.build_rows(groups, now, unfolded)
        if [k for k, _ in new] == [k for k, _ in self._rows]:
            for (key, cells), (_, old) in zip(new, self._rows):
                if cells != old:
                    for (col, _, _), cell, was in zip(self._columns, cells, old):
                        if cell != was:
                            self.update_cell(key, col, cell)
            self._rows = new
            return
        cursor_key = self.cursor_key()
        cursor_index = self.cursor_row
        scroll_y = self.scroll_y
        self.clear()
        for key, cells in new:
            self.add_row(*cells, key=key)
        self._rows = new
        keys = [k for k, _ in new]
        if cursor_key in keys:
            index = keys.index(cursor_key)
        else:
            index = min(cursor_index, len(keys) - 1)
            # Prefer a task row to a heading when the old task vanished.
            while 0 <= index < len(keys) - 1 and not keys[index].startswith("t:"):
                index += 1
        if index >= 0:
            self.scroll_y = scroll_y
            self.move_cursor(row=index, animate=False, scroll=True)

    def tick(self, now: float) -> None:
        """Age cells of the rows on screen; no store access."""
        if not self._rows:
            return
        top = int(self.scroll_y)
        bottom = top + self.size.height + 1
        for i in range(max(0, top - 1), min(len(self._rows), bottom)):
            key, cells = self._rows[i]
            task = self._tasks.get(key)
            if task is None:
                continue
            fresh = self._task_cells(task, now)
            if fresh != cells:
                for (col, _, _), cell, was in zip(self._columns, fresh, cells):
                    if cell != was:
                        self.update_cell(key, col, cell)
                self._rows[i] = (key, fresh)

    def fit_width(self, width: int) -> None:
        """Choose the columns for this width; rebuild if they changed."""
        columns, title_width = columns_for(width)
        if (columns, title_width) == (self._columns, self._title_width):
            return
        self._columns, self._title_width = columns, title_width
        self.clear(columns=True)
        self._add_columns()
        self._rows = []
        if self._last is not None:
            self.show(self._last[0], self._last[1], unfolded=self._unfolded)

    def cursor_key(self) -> str | None:
        if not self._rows or not (0 <= self.cursor_row < len(self._rows)):
            return None
        return self._rows[self.cursor_row][0]

    def task_at_cursor(self) -> TaskRow | None:
        key = self.cursor_key()
        return self._tasks.get(key) if key else None

    def select_task(self, task_id: int) -> bool:
        keys = [k for k, _ in self._rows]
        key = f"t:{task_id}"
        if key in keys:
            self.move_cursor(row=keys.index(key))
            return True
        return False
