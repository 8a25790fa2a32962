"""The task list: a DataTable of tasks under group headings, updated in place."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

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
        self._cell_cache: dict[int, tuple[TaskRow, Cells]] = {}

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
        """Rows for these groups. A task whose row is unchanged keeps its cells
        (the same objects), so `show` skips it at the cost of an identity check;
        its age may be stale until `tick` refreshes the rows on screen."""
        rows: list[tuple[str, Cells]] = []
        tasks: dict[str, TaskRow] = {}
        cache = self._cell_cache
        fresh_cache: dict[int, tuple[TaskRow, Cells]] = {}
        for group in groups:
            rows.append((f"g:{group.key}", self._heading_cells(group)))
            for t in group.tasks:
                key = f"t:{t.id}"
                tasks[key] = t
                hit = cache.get(t.id)
                cells = hit[1] if hit is not None and hit[0] == t else self._task_cells(t, now)
                fresh_cache[t.id] = (t, cells)
                rows.append((key, cells))
            if group.folded or (unfolded and group.key == "finished"):
                rows.append((f"fold:{group.key}", self._fold_cells(group, unfolded)))
        self._tasks = tasks
        self._cell_cache = fresh_cache
        return rows

    # --- updating --------------------------------------------------------------------

    def show(self, groups: Sequence[Group], now: float, *, unfolded: bool = False) -> None:
        """Put these groups on screen, touching only what changed.

        Same rows: changed cells are updated and a new order is applied in
        place. Rows added or removed: the table is rebuilt in one go. Either
        way the cursor stays on the same task and the view does not jump.
        """
        self._last = (groups, now)
        self._unfolded = unfolded
        new = self.build_rows(groups, now, unfolded)
        new_keys = [k for k, _ in new]
        old_keys = [k for k, _ in self._rows]
        cursor_key = self.cursor_key()
        if len(new_keys) == len(old_keys) and set(new_keys) == set(old_keys):
            old = dict(self._rows)
            for key, cells in new:
                was = old[key]
                if cells is was or cells == was:
                    continue
                for (col, _, _), cell, before in zip(self._columns, cells, was):
                    if cell != before:
                        self.update_cell(key, col, cell)
            self._rows = new
            if new_keys != old_keys:
                self._reorder(new_keys, cursor_key)
            self.tick(now)
            return
        cursor_index = self.cursor_row
        scroll_y = self.scroll_y
        self.clear()
        for key, cells in new:
            self.add_row(*cells, key=key)
        self._rows = new
        if cursor_key in new_keys:
            index = new_keys.index(cursor_key)
        else:
            index = min(cursor_index, len(new_keys) - 1)
            # Prefer a task row to a heading when the old task vanished.
            while 0 <= index < len(new_keys) - 1 and not new_keys[index].startswith("t:"):
                index += 1
        if index >= 0:
            self.scroll_y = scroll_y
            self.move_cursor(row=index, animate=False, scroll=True)
        self.tick(now)

    def _reorder(self, keys: list[str], cursor_key: str | None) -> None:
        """Move rows to a new order without rebuilding the table (DataTable's
        own `sort` cannot see row keys, so set the locations it sorts into)."""
        self._row_locations = TwoWayDict({RowKey(k): i for i, k in enumerate(keys)})
        self._update_count += 1
        self.refresh()
        if cursor_key is not None:
            self.move_cursor(row=keys.index(cursor_key), animate=False, scroll=False)

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
            self._cell_cache[task.id] = (task, fresh)
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
        self._cell_cache = {}
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
