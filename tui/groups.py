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
        if live_only and task.live_count == 0:
            continue
        if not matches(task, needle):
            continue
        buckets[group_of(task)].append(task)
    out: list[Group] = []
    key = sort_key(sort)
    for gkey, heading in GROUPS:
        rows = buckets[gkey]
        if not rows:
            continue
        if gkey == "finished":
            # Newest first, whatever the sort: it is a "recent" list. Folded,
            # only the newest few are needed: no need to sort thousands.
            newest = lambda t: (-t.updated_at, t.id)  # noqa: E731
            if not unfold_finished and len(rows) > FINISHED_SHOWN:
                shown = heapq.nsmallest(FINISHED_SHOWN, rows, key=newest)
                out.append(Group(gkey, heading, tuple(shown), folded=len(rows) - FINISHED_SHOWN))
                continue
            rows.sort(key=newest)
        else:
            rows.sort(key=key)
        out.append(Group(gkey, heading, tuple(rows)))
    return out
