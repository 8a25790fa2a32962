"""How the task list is grouped, filtered and sorted: as tau's own task picker.

The groups are tau's ``task_overview`` buckets (TAU.md §7.3, §8) in its order,
then what the picker leaves out, where an operator expects it. A task's group
depends on its state, its held flag and its dependencies only: a live session
never moves it (an orchestrator's chat lights up every task it filed).
Pure functions over `TaskRow`s so the rules can be tested without a screen.
"""

from __future__ import annotations

import bisect
import heapq
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from operator import attrgetter

from .snapshots import IN_FLIGHT_STATES, TASK_STATES, TaskDelta, TaskRow
from .text import one_line

#: (key, heading) in the order the groups are shown.
GROUPS: tuple[tuple[str, str], ...] = (
    ("active", "Active"),               # tau: active, review, merging, refining
    ("ready", "Queued — ready"),        # ready, not blocked, not held
    ("planning", "Queued — planning"),  # planning, not blocked, not held
    ("blocked", "Blocked"),             # ready or planning, a dependency not merged/closed
    ("held", "Held"),                   # ready or planning, held, not blocked
    ("interactive", "Interactive"),     # in no bucket of tau's picker
    ("approved", "Approved"),           # awaiting merge (or the operator's approval)
    ("failed", "Failed"),
    ("other", "Other"),                 # a state this version does not know
    ("finished", "Finished"),           # merged, done, closed
)
HEADINGS = dict(GROUPS)
SORTS: tuple[str, ...] = ("activity", "priority", "id", "state")
#: How many finished tasks show before the rest are folded.
FINISHED_SHOWN = 8
FINISHED_STATES = frozenset({"merged", "done", "closed"})
#: tau's scheduler budget: concurrent in-flight tasks per project (TAU.md §4.4).
MAX_CONCURRENT = 8
#: Projects named in the Active heading before the rest are summed up.
BUDGET_PROJECTS_SHOWN = 6
#: Workflow order of the states, for the "state" sort; unknown states last.
STATE_ORDER = {state: i for i, state in enumerate(TASK_STATES)}


@dataclass(frozen=True, slots=True)
class Group:
    key: str
    heading: str
    tasks: tuple[TaskRow, ...]
    folded: int = 0  # how many more are hidden (finished tasks, folded)
    note: str = ""  # said after the count (the Active group: tau's slots per project)


def group_of(task: TaskRow) -> str:
    """The one group a task belongs to, from its state, held flag and
    dependencies (tau's ``task_overview``); never from its sessions."""
    state = task.state
    if state in IN_FLIGHT_STATES:
        return "active"
    if state == "ready" or state == "planning":
        if task.blocked_by:
            return "blocked"
        if task.held:
            return "held"
        return state
    if state == "interactive" or state == "approved" or state == "failed":
        return state
    if state in FINISHED_STATES:
        return "finished"
    return "other"


def in_budget(task: TaskRow) -> bool:
    """Counted by tau's ``count_inflight_tasks``: an in-flight state, or a
    planning task with an owner session (its planner is running)."""
    return task.state in IN_FLIGHT_STATES or (task.state == "planning" and task.owner is not None)


def budget(tasks: Iterable[TaskRow]) -> Counter[tuple[str, str]]:
    """Tasks counted against each project's budget, by (host, project): each
    host's tau schedules its own projects."""
    return Counter((t.host, t.project) for t in tasks if in_budget(t))


def budget_note(counts: Counter[tuple[str, str]], needle: str = "") -> str:
    """"tau 3 of 8 slots · webapp 1 of 8": the busiest projects first (the
    names are the store's data: shown literally, cut to fit). With hosts, each
    names its host ("gpu1 infra 3 of 8"), and a ``host:`` filter keeps only
    the budgets of the hosts it shows."""
    wanted = _host_words(needle)
    used = sorted(((n, h, p) for (h, p), n in counts.items()
                   if n > 0 and (not wanted or any(h.lower().startswith(w) for w in wanted))),
                  key=lambda nhp: (-nhp[0], nhp[1], nhp[2]))
    bits = [(f"{one_line(h, 12)} " if h else "") + f"{one_line(p, 20) if p else '(no project)'} "
            f"{n} of {MAX_CONCURRENT}" + (" slots" if i == 0 else "")
            for i, (n, h, p) in enumerate(used[:BUDGET_PROJECTS_SHOWN])]
    if len(used) > BUDGET_PROJECTS_SHOWN:
        bits.append(f"+{len(used) - BUDGET_PROJECTS_SHOWN} projects")
    return " · ".join(bits)


def _host_words(needle: str) -> list[str]:
    """The host prefixes a filter names ('host:gpu' …), lower-cased."""
    return [w[5:] for w in needle.lower().split() if w.startswith("host:")]


def matches(task: TaskRow, needle: str) -> bool:
    """Case-insensitive match on id, title, project, state and host ('#12'
    matches id 12; 'host:gpu' the tasks of the hosts whose name starts so)."""
    if not needle:
        return True
    n = needle.lower().strip()
    if "host:" in n:
        hosts = _host_words(n)
        if hosts and not any(task.host.lower().startswith(h) for h in hosts):
            return False
        n = " ".join(w for w in n.split() if not w.startswith("host:"))
    if n.startswith("#") and n[1:].isdigit():
        return task.id == int(n[1:])
    hay = f"{task.id} {task.title} {task.project} {task.state} {task.host}".lower()
    return all(part in hay for part in n.split())


def _shown(task: TaskRow, needle: str, live_only: bool) -> bool:
    """Whether the filter and the live-only switch let this task through."""
    return (not live_only or task.has_live_session) and matches(task, needle)


def _activity(task: TaskRow) -> float:
    """The time the Last column shows."""
    if task.last_activity is not None:
        return float(task.last_activity)
    return task.updated_at / 1000


def sort_key(sort: str, hosts: bool = False):  # type: ignore[no-untyped-def]
    """As tau means the keys: priority higher first, then older first (tau's
    bucket order); states in workflow order; otherwise newest activity first.
    ``hosts``: rows of several hosts, whose ids may be equal: the host last."""
    if hosts:
        base = sort_key(sort)
        return lambda t: (base(t), t.host)
    if sort == "priority":
        return lambda t: (-t.priority, t.created_at, t.id)
    if sort == "id":
        return lambda t: t.id
    if sort == "state":
        last = len(STATE_ORDER)
        return lambda t: (STATE_ORDER.get(t.state, last), t.state, -_activity(t), t.id)
    return lambda t: (-_activity(t), t.id)


def _newest(t: TaskRow) -> tuple[float, int]:
    return (-_activity(t), t.id)


def _newest_hosts(t: TaskRow) -> tuple[float, int, str]:
    return (-_activity(t), t.id, t.host)


def _has_hosts(tasks: tuple[TaskRow, ...] | list[TaskRow]) -> bool:
    """Rows of several hosts (each names its own) rather than this machine's alone."""
    return bool(tasks) and bool(tasks[0].host)


#: What tells a row apart: its id; with hosts, (host, id) (tui.model.hosts.task_key).
_KEY_ID = attrgetter("id")
_KEY_HOST = attrgetter("host", "id")


def group_tasks(
    tasks: tuple[TaskRow, ...] | list[TaskRow],
    *,
    sort: str = "activity",
    needle: str = "",
    live_only: bool = False,
    unfold_finished: bool = False,
) -> list[Group]:
    """The non-empty groups, in tau's order, each sorted; finished folded."""
    buckets: dict[str, list[TaskRow]] = {key: [] for key, _ in GROUPS}
    for task in tasks:
        if _shown(task, needle, live_only):
            buckets[group_of(task)].append(task)
    note = budget_note(budget(tasks), needle)
    out: list[Group] = []
    hosts = _has_hosts(tasks)
    for gkey, _ in GROUPS:
        group = _sorted_group(gkey, buckets[gkey], sort, unfold_finished, hosts)
        if group is not None:
            out.append(replace(group, note=note) if gkey == "active" else group)
    return out


def _sorted_group(gkey: str, rows: list[TaskRow], sort: str, unfold_finished: bool,
                  hosts: bool = False) -> Group | None:
    """One group's rows in order (``rows`` is sorted in place); None if empty."""
    if not rows:
        return None
    heading = HEADINGS[gkey]
    if gkey == "finished":
        # Newest first by the time the Last column shows, whatever the sort: it
        # is a "recent" list. Folded, only the newest few are needed: no need
        # to sort thousands.
        # (Never a fold of one row: it would take the line the row needs.)
        newest = _newest_hosts if hosts else _newest
        if not unfold_finished and len(rows) > FINISHED_SHOWN + 1:
            shown = heapq.nsmallest(FINISHED_SHOWN, rows, key=newest)
            return Group(gkey, heading, tuple(shown), folded=len(rows) - FINISHED_SHOWN)
        rows.sort(key=newest)
    else:
        rows.sort(key=sort_key(sort, hosts))
    return Group(gkey, heading, tuple(rows))


class _Bucket:
    """One group's shown tasks in order, kept sorted by insertion (bisect):
    a task that changes moves in O(log n), no group is sorted again."""

    __slots__ = ("keys", "rows", "key")

    def __init__(self, key: Callable[[TaskRow], object], rows: Iterable[TaskRow]) -> None:
        self.key = key
        pairs = sorted(((key(t), t) for t in rows), key=lambda kt: kt[0])
        self.keys = [k for k, _ in pairs]
        self.rows = [t for _, t in pairs]

    def add(self, task: TaskRow) -> None:
        k = self.key(task)
        i = bisect.bisect_left(self.keys, k)
        self.keys.insert(i, k)
        self.rows.insert(i, task)

    def remove(self, task: TaskRow) -> None:
        i = bisect.bisect_left(self.keys, self.key(task))
        if i < len(self.rows) and self.rows[i].id == task.id and self.rows[i].host == task.host:
            del self.keys[i], self.rows[i]
        else:  # (not where its key says: a row whose key cannot be compared alike)
            j = next(j for j, t in enumerate(self.rows) if t.id == task.id and t.host == task.host)
            del self.keys[j], self.rows[j]


def _running(task: TaskRow) -> bool:
    """Counted as running in the title: Active, with a live working session."""
    return bool(task.live_count) and group_of(task) == "active"


class Grouper:
    """`group_tasks`, kept up to date from one snapshot to the next.

    The store hands the same `TaskRow` object for a task that did not change,
    and says which rows it built again (`TaskDelta`) when the snapshot follows
    the one before it; so only the changed tasks are regrouped: each moves
    out of its old group and into its new one by bisection, and only those
    groups' tuples are made again. Without a delta the changed rows are found
    by identity. The budget counts of the Active heading and the title's
    running count are kept the same way. The result is always what
    `group_tasks` would return for the same rows.
    """

    def __init__(self) -> None:
        self._params: tuple[str, str, bool, bool, bool] | None = None
        #: Row key (`_KEY_ID`, or `_KEY_HOST` for rows of several hosts) → its row.
        self._by_id: dict[object, TaskRow] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._groups: dict[str, Group] = {}
        self._budget: Counter[tuple[str, str]] = Counter()
        self._seq = 0
        #: Tasks counted as running in the title (Active with a live working session).
        self.running = 0

    def group(
        self,
        tasks: tuple[TaskRow, ...] | list[TaskRow],
        *,
        sort: str = "activity",
        needle: str = "",
        live_only: bool = False,
        unfold_finished: bool = False,
        seq: int = 0,
        delta: TaskDelta | None = None,
    ) -> list[Group]:
        """The groups of ``tasks``; ``seq`` and ``delta`` as the snapshot has
        them (a delta counts only when this grouper saw list ``seq - 1``)."""
        hosts = _has_hosts(tasks)
        params = (sort, needle, live_only, unfold_finished, hosts)
        kid = _KEY_HOST if hosts else _KEY_ID
        by_id = self._by_id
        follows = bool(seq) and seq == self._seq + 1 and delta is not None
        self._seq = seq
        if params != self._params:
            return self._rebuild(tasks, params)
        if follows:
            assert delta is not None
            changed = list(delta.rows)
            gone = [by_id[tid] for tid in delta.removed if tid in by_id]
            if any(t.id in delta.removed for t in changed) or len(changed) > len(tasks) // 4 + 1:
                return self._rebuild(tasks, params)
        else:
            if len(tasks) != len(by_id):  # tasks came or went
                return self._rebuild(tasks, params)
            # (this machine alone: by id, as ever; the key's call costs on 10,000 rows)
            changed = ([t for t in tasks if by_id.get(kid(t)) is not t] if hosts
                       else [t for t in tasks if by_id.get(t.id) is not t])
            gone = []
            # a task replaced by another, or most of them changed: start over
            if any(kid(t) not in by_id for t in changed) or len(changed) > len(tasks) // 4 + 1:
                return self._rebuild(tasks, params)
        dirty: set[str] = set()
        for old, new in [(by_id.get(kid(t)), t) for t in changed] + [(t, None) for t in gone]:
            if old is not None and new is not None and old is new:
                continue
            for row, add in ((old, False), (new, True)):
                if row is None:
                    continue
                if in_budget(row):
                    self._budget[row.host, row.project] += 1 if add else -1
                if _running(row):
                    self.running += 1 if add else -1
                if not _shown(row, needle, live_only):
                    continue
                g = group_of(row)
                dirty.add(g)
                if add:
                    self._buckets[g].add(row)
                else:
                    self._buckets[g].remove(row)
            if new is None:
                del by_id[kid(old)]
            else:
                by_id[kid(new)] = new
        if follows and len(by_id) != len(tasks):  # the delta did not account for every row
            return self._rebuild(tasks, params)
        for g in dirty:
            self._make(g)
        return self._ordered()

    def _rebuild(self, tasks: tuple[TaskRow, ...] | list[TaskRow],
                 params: tuple[str, str, bool, bool, bool]) -> list[Group]:
        sort, needle, live_only, _, hosts = params
        self._params = params
        kid = _KEY_HOST if hosts else _KEY_ID
        self._by_id = {kid(t): t for t in tasks}
        self.running = sum(1 for t in tasks if _running(t))
        if len(self._by_id) != len(tasks):  # duplicate ids: no identity bookkeeping
            self._params = None
            return group_tasks(tasks, sort=sort, needle=needle, live_only=live_only,
                               unfold_finished=params[3])
        shown: dict[str, list[TaskRow]] = {key: [] for key, _ in GROUPS}
        for task in tasks:
            if _shown(task, needle, live_only):
                shown[group_of(task)].append(task)
        newest = _newest_hosts if hosts else _newest
        self._buckets = {key: _Bucket(newest if key == "finished" else sort_key(sort, hosts), rows)
                         for key, rows in shown.items()}
        self._budget = budget(tasks)
        self._groups = {}
        for key, _ in GROUPS:
            self._make(key)
        return self._ordered()

    def _make(self, gkey: str) -> None:
        """The group's `Group` from its bucket (as `_sorted_group` makes it)."""
        assert self._params is not None
        rows = self._buckets[gkey].rows
        if not rows:
            self._groups.pop(gkey, None)
            return
        heading = HEADINGS[gkey]
        if gkey == "finished" and not self._params[3] and len(rows) > FINISHED_SHOWN + 1:
            group = Group(gkey, heading, tuple(rows[:FINISHED_SHOWN]), folded=len(rows) - FINISHED_SHOWN)
        else:
            group = Group(gkey, heading, tuple(rows))
        self._groups[gkey] = group

    def _ordered(self) -> list[Group]:
        active = self._groups.get("active")
        if active is not None:
            note = budget_note(self._budget, self._params[1] if self._params else "")
            if active.note != note:
                self._groups["active"] = replace(active, note=note)
        return [self._groups[key] for key, _ in GROUPS if key in self._groups]
