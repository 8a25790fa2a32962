"""The words of a task's fields line: its relations and its history, fitted.

Pure functions of the snapshot, so the task screen stays about layout and
keys, and the wording can be tested without a screen.
"""

from __future__ import annotations

from rich.cells import cell_len

from .. import format as fmt
from ...model.snapshots import DEPENDENCY_MET_STATES, HistoryEntry, Relation
from ...model.text import one_line


#: Relations named on the task screen before the rest are counted.
RELATIONS_SHOWN = 10
#: (relation, this task is its from_task) -> (order, words); TAU.md §4.5:
#: (from, to, 'depends_on') means from depends on to; blocks and related only inform.
_RELATION_WORDS = {
    ("depends_on", True): (0, "waits on"),
    ("depends_on", False): (2, "blocks"),
    ("blocks", True): (3, "marks blocked"),
    ("blocks", False): (4, "marked blocked by"),
    ("related", True): (5, "related"),
    ("related", False): (5, "related"),
}


#: tasks.db columns (TAU.md §4.2) in an operator's words; a flag (0/1) is
#: named only when set, with no value after it.
_FIELD_WORDS = {
    "session_id": "owner",
    "filed_by_session_id": "filed by",
    "merge_target": "merges into",
    "no_merge": "not merged",
    "skip_review": "skips review",
    "require_approval": "needs approval",
    "dispatch_failure_count": "failed dispatches",
    "sandbox_profile": "sandbox",
}
_FLAGS = {"no_merge", "skip_review", "require_approval"}


def field_words(name: str, value: str) -> str:
    """"owner s65", "filed by s2", "merges into main", "skips review": a task
    column the task screen names, said as tau means it (a column this version
    does not know is shown as it is)."""
    words = _FIELD_WORDS.get(name)
    if words is None:
        return f"{one_line(name, 24)} {one_line(value, 30)}"
    if name in _FLAGS:
        return words
    return f"{words} {one_line(value, 30)}"


def relation_words(task_id: int, relations: tuple[Relation, ...]) -> list[str]:
    """Each relation in this task's direction and tau's meaning, with the other
    task's state where known: "waits on #3 (active)", "blocks #7 (ready)" (the
    reverse of a depends_on edge: #7 waits on this one), "marks blocked #9" (a
    `blocks` relation, which only informs), "related #4". A dependency that is
    merged or closed no longer blocks: "depends on #2 (merged)" on one side,
    "was needed by #7" on the other; one missing from the store neither."""
    out: list[tuple[int, int, str]] = []
    for r in relations:
        mine = r.from_task == task_id
        other, state = (r.to_task, r.to_state) if mine else (r.from_task, r.from_state)
        order, words = _RELATION_WORDS.get((r.relation, mine), (6, ""))
        if r.relation == "depends_on" and mine and (state is None or state in DEPENDENCY_MET_STATES):
            order, words = 1, "depends on"
        if r.relation == "depends_on" and not mine and r.to_state in DEPENDENCY_MET_STATES:
            order, words = 2, "was needed by"  # this task is merged or closed: it blocks no more
        if not words:  # a relation this version does not know, shown as it is
            rel = one_line(r.relation, 16)
            words = rel if mine else f"{rel} (from)"
        note = one_line(state, 12) if state is not None else "not in store"
        out.append((order, other, f"{words} #{other} ({note})"))
    return [text for _, _, text in sorted(out)]


def history_words(states: list[HistoryEntry], now: float, room: int) -> str:
    """The newest state changes that fit in ``room`` cells, oldest first: when
    the line must be cut, the oldest go ('… ·' says so), never the newest."""
    words: list[str] = []
    used = 0
    for h in reversed(states):
        word = (f"{one_line(h.old_value or '∅', 12)}→{one_line(h.new_value or '∅', 12)} "
                f"{fmt.age(h.created_at / 1000, now)} ago")
        cost = cell_len(word) + (3 if words else 0)
        if used + cost > room - (4 if len(words) + 1 < len(states) else 0):
            break
        words.append(word)
        used += cost
    if not words:  # not even the newest fits: cut it, keep its start
        return one_line(f"…→{states[-1].new_value or '∅'}", max(1, room))
    cut = "… · " if len(words) < len(states) else ""
    return cut + " · ".join(reversed(words))
