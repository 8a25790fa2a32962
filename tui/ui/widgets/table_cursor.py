"""The task list's cursor: the keys and clicks that move it, and what it is on.

Split from `TaskTable` (its drawing and its rows) along the seam between
where the rows are and which one the operator is on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events

from ...model.snapshots import TaskRow
from .table_rows import row_key
from .task_cells import Cells

if TYPE_CHECKING:
    from textual.message import Message
    from textual.scroll_view import ScrollView as _Base
else:
    _Base = object


class TableCursor(_Base):
    """The cursor of a table whose rows are ``_rows`` (key, cells), the tasks
    ``_tasks`` by row key; the table says which rows are visible and posts its
    own messages."""

    _rows: list[tuple[str, Cells]]
    _tasks: dict[str, TaskRow]
    _announced: str | None
    cursor_row: int

    def _visible_rows(self) -> int:
        raise NotImplementedError

    def _key_index(self) -> dict[str, int]:
        raise NotImplementedError

    def _cursor_moved(self, key: str | None) -> Message:
        raise NotImplementedError

    def _row_selected(self, key: str) -> Message:
        raise NotImplementedError

    def move_cursor(self, row: int) -> None:
        """Put the cursor on row ``row`` and scroll it into view (under the header)."""
        if not self._rows:
            return
        self.cursor_row = max(0, min(row, len(self._rows) - 1))
        visible = self._visible_rows()
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False)
        self.refresh()
        self._announce()

    def _announce(self) -> None:
        """Tell the screen when the cursor is on another row."""
        key = self.cursor_key()
        if key != self._announced:
            self._announced = key
            self.post_message(self._cursor_moved(key))

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor_row + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor_row - max(1, self.size.height - 2))

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor_row + max(1, self.size.height - 2))

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self._rows) - 1)

    def action_select(self) -> None:
        key = self.cursor_key()
        if key is not None:
            self.post_message(self._row_selected(key))

    def on_click(self, event: events.Click) -> None:
        if event.y <= 0:
            return
        index = int(self.scroll_y) + event.y - 1
        if not (0 <= index < len(self._rows)):
            return
        if index == self.cursor_row or event.chain > 1:
            self.move_cursor(index)
            self.action_select()
        else:
            self.move_cursor(index)

    def cursor_key(self) -> str | None:
        if not self._rows or not (0 <= self.cursor_row < len(self._rows)):
            return None
        return self._rows[self.cursor_row][0]

    def task_at_cursor(self) -> TaskRow | None:
        key = self.cursor_key()
        return self._tasks.get(key) if key else None

    def select_task(self, task_id: int, host: str = "") -> bool:
        return self.select_key(row_key(host, task_id))

    def select_first_task(self) -> bool:
        """Put the cursor on the first task listed, not the heading above it
        (a filter typed: Enter opens its first match); False if none is."""
        for index, (key, _) in enumerate(self._rows):
            if key.startswith("t:"):
                self.move_cursor(index)
                return True
        return False

    def select_key(self, key: str) -> bool:
        """Put the cursor on row ``key`` (a task, a heading); False if absent."""
        index = self._key_index().get(key)
        if index is not None:
            self.move_cursor(index)
            return True
        return False
