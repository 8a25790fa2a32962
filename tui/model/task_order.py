"""The operator's order of the task list on top of tau's groups: reversed, frozen, folded.

`tui.model.groups` sorts each group as tau means its keys; an operator who works
down a list wants it to hold still (htop's ``F``): a frozen order keeps each
task where it was while its cells still change; tasks new since the freeze
go to the end of their group. Pure functions over `Group`s: no Textual.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from .groups import Group
from .hosts import task_key

#: The sort key's column on the task list (its header gets the ▲/▼ mark).
SORT_COLUMN = {"activity": "age", "priority": "prio", "id": "id", "state": "state"}


def arrange(groups: Sequence[Group], *, reverse: bool = False,
            frozen: dict[object, int] | None = None) -> list[Group]:
    """``groups`` with each one's tasks reversed and/or held in a frozen order
    (``frozen``: task key → its place when the order was frozen). Finished
    stays newest first: it is a "recent" list, and only its newest are shown."""
    out: list[Group] = []
    for group in groups:
        tasks = group.tasks
        if group.key != "finished":
            if reverse:
                tasks = tasks[::-1]
            if frozen is not None:
                end = len(frozen)
                # sorted() is stable: tasks new since the freeze keep the sort's order, at the end
                tasks = tuple(sorted(tasks, key=lambda t: frozen.get(task_key(t.host, t.id), end)))
        out.append(group if tasks is group.tasks else replace(group, tasks=tasks))
    return out


def freeze(groups: Iterable[Group]) -> dict[object, int]:
    """The order on screen now, to hold it: task id → its place."""
    order: dict[object, int] = {}
    for group in groups:
        for task in group.tasks:
            order.setdefault(task_key(task.host, task.id), len(order))
    return order


class Arranger:
    """`arrange`, remembered per group: a group that is the same object as
    last time, under the same order, is handed back as it was arranged (a
    frozen order sorts its group; only the groups that changed pay that)."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[Group, bool, dict[object, int] | None, Group]] = {}

    def arrange(self, groups: Sequence[Group], *, reverse: bool = False,
                frozen: dict[object, int] | None = None) -> list[Group]:
        if not reverse and frozen is None:
            self._seen = {}
            return list(groups)
        out: list[Group] = []
        seen: dict[str, tuple[Group, bool, dict[object, int] | None, Group]] = {}
        for group in groups:
            hit = self._seen.get(group.key)
            if hit is not None and hit[0] is group and hit[1] == reverse and hit[2] is frozen:
                done = hit[3]
            else:
                done = arrange((group,), reverse=reverse, frozen=frozen)[0]
            seen[group.key] = (group, reverse, frozen, done)
            out.append(done)
        self._seen = seen
        return out
