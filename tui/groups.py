"""How the task list is grouped, filtered and sorted: the operator's triage.

Pure functions over `TaskRow`s so the rules can be tested without a screen.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from .model import IN_FLIGHT_STATES, QUEUED_STATES, TERMINAL_STATES, TaskRow

#: (key, heading) in the order the groups are shown.
GROUPS: tuple[tuple[str, str], ...] = (
    ("running", "Running"),
    ("in_flight", "In flight"),
    ("queued", "Queued"),
    ("held", "Held"),
    ("blocked", "Blocked"),
    ("other", "Other"),
    ("finished", "Finished"),
)
HEADINGS = dict(GROUPS)
SORTS: tuple[str, ...] = ("activity", "priority", "id", "state")
#: How many finished tasks show before the rest are folded.
FINISHED_SHOWN = 8


@dataclass(frozen=True, slots=True)
class Group:
    key: str
    heading: str
    tasks: tuple[TaskRow, ...]
    folded: int = 0  # how many more are hidden (finished tasks, folded)


def group_of(task: TaskRow) -> str:
    """The one group a task belongs to; the first rule that matches wins.

    A finished task stays under Finished even when a session of it is live
    (typically the interactive session that filed it, now busy elsewhere):
    its row still carries the live dot.
    """
    if task.state in TERMINAL_STATES:
        return "finished"
    if task.live_count > 0:
        return "running"
    if task.held:
        return "held"
    if task.blocked_by:
        return "blocked"
    if task.state in IN_FLIGHT_STATES:
        return "in_flight"
    if task.state in QUEUED_STATES:
        return "queued"
    return "other"


def matches(task: TaskRow, needle: str) -> bool:
    """Case-insensitive match on id, title, project and state ('#12' matches id 12)."""
    if not needle:
        return True
    n = needle.lower().strip()
    if n.startswith("#") and n[1:].isdigit():
        return task.id == int(n[1:])
    hay = f"{task.id} {task.title} {task.project} {task.state}".lower()
    return all(part in hay for part in n.split())


def _shown(task: TaskRow, needle: str, live_only: bool) -> bool:
    """Whether the filter and the live-only switch let this task through."""
    return (task.live_count > 0 or not live_only) and matches(task, needle)


def _activity(task: TaskRow) -> float:
    if task.last_activity is not None:
        return float(task.last_activity)
    return task.updated_at / 1000


def sort_key(sort: str):  # type: ignore[no-untyped-def]
    if sort == "priority":
        return lambda t: (-t.priority, -_activity(t), t.id)
    if sort == "id":
        return lambda t: t.id
    if sort == "state":
        return lambda t: (t.state, -_activity(t), t.id)
    return lambda t: (-_activity(t), t.id)


def group_tasks(
    tasks: tuple[TaskRow, ...] | list[TaskRow],
    *,
    sort: str = "activity",
    needle: str = "",
    live_only: bool = False,
    unfold_finished: bool = False,
) -> list[Group]:
    """The non-empty groups, in triage order, each sorted; finished folded."""
    buckets: dict[str, list[TaskRow]] = {key: [] for key, _ in GROUPS}
    for task in tasks:
        if _shown(task, needle, live_only):
            buckets[group_of(task)].append(task)
    out: list[Group] = []
    for gkey, _ in GROUPS:
        group = _sorted_group(gkey, buckets[gkey], sort, unfold_finished)
        if group is not None:
            out.append(group)
    return out


def _sorted_group(gkey: str, rows: list[TaskRow], sort: str, unfold_finished: bool) -> Group | None:
    """One group's rows in order (``rows`` is sorted in place); None if empty."""
    if not rows:
        return None
    heading = HEADINGS[gkey]
    if gkey == "finished":
        # Newest first, whatever the sort: it is a "recent" list. Folded,
        # only the newest few are needed: no need to sort thousands.
        newest = lambda t: (-t.updated_at, t.id)  # noqa: E731
        if not unfold_finished and len(rows) > FINISHED_SHOWN:
            shown = heapq.nsmallest(FINISHED_SHOWN, rows, key=newest)
            return Group(gkey, heading, tuple(shown), folded=len(rows) - FINISHED_SHOWN)
        rows.sort(key=newest)
    else:
        rows.sort(key=sort_key(sort))
    return Group(gkey, heading, tuple(rows))


class Grouper:
    """`group_tasks`, kept up to date from one snapshot to the next.

    The store hands the same `TaskRow` object for a task that did not change,
    so the rows that changed are found by identity; only their groups are sorted
    again, and the finished group (thousands of rows on a big store) only when
    a finished task is among them. The result is always what `group_tasks`
    would return for the same rows.
    """

    def __init__(self) -> None:
        self._params: tuple[str, str, bool, bool] | None = None
        self._by_id: dict[int, TaskRow] = {}
        self._buckets: dict[str, dict[int, TaskRow]] = {}
        self._groups: dict[str, Group] = {}

    def group(
        self,
        tasks: tuple[TaskRow, ...] | list[TaskRow],
        *,
        sort: str = "activity",
        needle: str = "",
        live_only: bool = False,
        unfold_finished: bool = False,
    ) -> list[Group]:
        params = (sort, needle, live_only, unfold_finished)
        by_id = self._by_id
        changed: list[TaskRow] = []
        fresh = params != self._params or len(tasks) != len(by_id)  # tasks came or went
        if not fresh:
            for task in tasks:
                if by_id.get(task.id) is not task:
                    changed.append(task)
            # a task replaced by another, or most of them changed: start over
            fresh = any(t.id not in by_id for t in changed) or len(changed) > len(tasks) // 4 + 1
        if fresh:
            return self._rebuild(tasks, params)
        dirty: set[str] = set()
        for task in changed:
            old = by_id[task.id]
            by_id[task.id] = task
            for row, add in ((old, False), (task, True)):
                if not _shown(row, needle, live_only):
                    continue
                g = group_of(row)
                dirty.add(g)
                if add:
                    self._buckets[g][row.id] = row
                else:
                    self._buckets[g].pop(row.id, None)
        for g in dirty:
            self._sort(g)
        return self._ordered()

    def _rebuild(self, tasks: tuple[TaskRow, ...] | list[TaskRow],
                 params: tuple[str, str, bool, bool]) -> list[Group]:
        sort, needle, live_only, _ = params
        self._params = params
        self._by_id = {t.id: t for t in tasks}
        if len(self._by_id) != len(tasks):  # duplicate ids: no identity bookkeeping
            self._params = None
            return group_tasks(tasks, sort=sort, needle=needle, live_only=live_only,
                               unfold_finished=params[3])
        self._buckets = {key: {} for key, _ in GROUPS}
        for task in tasks:
            if _shown(task, needle, live_only):
                self._buckets[group_of(task)][task.id] = task
        self._groups = {}
        for key, _ in GROUPS:
            self._sort(key)
        return self._ordered()

    def _sort(self, gkey: str) -> None:
        assert self._params is not None
        sort, _, _, unfold = self._params
        group = _sorted_group(gkey, list(self._buckets[gkey].values()), sort, unfold)
        if group is None:
            self._groups.pop(gkey, None)
        else:
            self._groups[gkey] = group

    def _ordered(self) -> list[Group]:
        return [self._groups[key] for key, _ in GROUPS if key in self._groups]
