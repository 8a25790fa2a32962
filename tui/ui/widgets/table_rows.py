"""The task list's rows, made from the groups by what changed.

`TableRows` turns the groups of `tui.model.groups` into the table's rows
(``(key, cells)``: a heading ``g:<group>``, the tasks ``t:<id>``, a fold row
``fold:<group>``) and keeps them between calls: a group that is the same
object as last time keeps its rows (the grouper hands unchanged groups back
as they were), and in a group that changed, a task whose row is the same
keeps its cells. So a change costs the groups it touched, not the list.
No drawing here: the cells come from `tui.ui.widgets.task_cells` through
the factories the table gives.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ...model.groups import Group
from ...model.snapshots import TaskRow
from .task_cells import Cells

Row = tuple[str, Cells]


def row_key(host: str, task_id: int) -> str:
    """A task's row: ``t:<id>``, or ``t:<id>@<host>`` for rows of several hosts."""
    return f"t:{task_id}@{host}" if host else f"t:{task_id}"

#: group key → (the group, folded by the operator, unfolded, its rows).
Part = tuple[Group, bool, bool, list[Row]]


class TableRows:
    """Rows for groups, kept per group and per task between calls."""

    def __init__(self, task_cells: Callable[[TaskRow, float], Cells],
                 heading_cells: Callable[[Group, bool], Cells],
                 fold_cells: Callable[[Group, bool], Cells]) -> None:
        self._task_cells = task_cells
        self._heading_cells = heading_cells
        self._fold_cells = fold_cells
        #: Row key → its task (task rows only).
        self.tasks: dict[str, TaskRow] = {}
        #: Task key (its id; (host, id) with hosts) → (the row its cells were made from, the cells).
        self.cells: dict[object, tuple[TaskRow, Cells, Row]] = {}
        self.parts: dict[str, Part] = {}

    def clear(self) -> None:
        """Forget every row (new columns, a new theme)."""
        self.tasks, self.cells, self.parts = {}, {}, {}

    def build(self, groups: Sequence[Group], now: float, *, unfolded: bool,
              folded: frozenset[str]) -> list[Row]:
        """Rows for these groups (``folded``: shown as their heading alone).
        A task whose row is unchanged keeps its cells (the same objects), so
        the table skips it at the cost of an identity check; its age may be
        stale until the table's tick refreshes the rows on screen."""
        old_parts = self.parts
        keep: dict[str, bool] = {}
        for group in groups:
            hit = old_parts.get(group.key)
            keep[group.key] = (hit is not None and hit[0] is group
                               and hit[1] == (group.key in folded) and hit[2] == unfolded)
        tasks = self.tasks
        dropped: list[tuple[str, TaskRow]] = []
        for key, hit in old_parts.items():  # first out: a task may move between groups
            if not keep.get(key):
                for rkey, _ in hit[3]:
                    task = tasks.pop(rkey, None)
                    if task is not None:
                        dropped.append((rkey, task))
        rows: list[Row] = []
        parts: dict[str, Part] = {}
        for group in groups:
            is_folded = group.key in folded
            part = old_parts[group.key][3] if keep[group.key] else self._group_rows(
                group, is_folded, unfolded, now, old_parts.get(group.key))
            parts[group.key] = (group, is_folded, unfolded, part)
            rows.extend(part)
        for rkey, task in dropped:  # tasks no longer shown: their cells go too
            if rkey not in tasks:
                self.cells.pop((task.host, task.id) if task.host else task.id, None)
        self.parts = parts
        return rows

    def _group_rows(self, group: Group, folded: bool, unfolded: bool, now: float,
                    was: Part | None) -> list[Row]:
        """One group's rows: its heading, its tasks, its fold row."""
        if folded:  # folded by the operator: the heading alone
            return [(f"g:{group.key}", self._heading_cells(group, True))]
        heading = (f"g:{group.key}", self._heading_cells(group, False))
        if was is not None and was[3] and was[3][0][1] == heading[1]:
            heading = was[3][0]  # (the same cells: the line is not repainted)
        part = [heading]
        cache, tasks, make = self.cells, self.tasks, self._task_cells
        for t in group.tasks:
            ck = (t.host, t.id) if t.host else t.id
            hit = cache.get(ck)
            if hit is not None and hit[0] is t:  # unchanged: the same row (the table skips it)
                row = hit[2]
            else:
                cells = hit[1] if hit is not None and hit[0] == t else make(t, now)
                row = (f"t:{t.id}@{t.host}" if t.host else f"t:{t.id}", cells)
                cache[ck] = (t, cells, row)
            tasks[row[0]] = t
            part.append(row)
        if group.folded or (unfolded and group.key == "finished"):
            part.append((f"fold:{group.key}", self._fold_cells(group, unfolded)))
        return part

    def retick(self, index: int, row: Row, task: TaskRow) -> None:
        """Row ``index`` (of the last `build`) has a new age: keep it in its
        group's rows, which the next `build` may hand back as they are."""
        self.cells[(task.host, task.id) if task.host else task.id] = (task, row[1], row)
        start = 0
        for _, _, _, part in self.parts.values():
            if index < start + len(part):
                if part[index - start][0] == row[0]:
                    part[index - start] = row
                return
            start += len(part)
