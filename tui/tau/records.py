"""What the fleet model keeps of each file, and which task rows it must rebuild.

These are the disk's record, read and kept in memory between reads; merge.py
combines them with the liveness source into the snapshots the screens get.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: One ``task_sessions`` row: (session_id, role, created_at ms).
Link = tuple[str, str, int]


@dataclass(slots=True)
class MsgStats:
    """Per-session message figures, kept up to date from new message ids."""

    count: int = 0
    last_created: int = 0  # ms
    max_id: int = 0


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """The columns of one ``sessions`` row the screens use (no system prompt)."""

    id: str
    archived: bool
    last_phase: str | None
    last_exit_status: str | None
    created_at: int
    tagline: str
    model: str
    parent_id: str | None
    context_window: int | None = None  # tokens, from model_json
    #: False when tau cannot read its model_json: tau's task_get leaves it out.
    tau_loads: bool = True
    successor_id: str | None = None  # retired in favour of this session (TAU.md §2.1)


class DirtyMarks:
    """The task rows whose inputs changed since the list was last built.

    ``tasks`` is None when every row must be rebuilt; marking is then a no-op.
    Unmarked rows are handed out again as the same objects, so the screen can
    skip them with an identity check. Another reader of the same model (the
    notifications' observer) takes its own copy of the marks from a `tap`, so
    neither takes the other's.
    """

    __slots__ = ("tasks", "_taps")

    def __init__(self) -> None:
        self.tasks: set[int] | None = None
        self._taps: list[DirtyMarks] = []

    def tap(self) -> DirtyMarks:
        """Marks of its own, from now on: every later mark goes to both."""
        t = DirtyMarks()
        self._taps.append(t)
        return t

    def mark(self, task_id: int) -> None:
        if self.tasks is not None:
            self.tasks.add(task_id)
        for t in self._taps:
            t.mark(task_id)

    def mark_many(self, task_ids: Iterable[int]) -> None:
        if self._taps:
            task_ids = tuple(task_ids)  # read more than once
        if self.tasks is not None:
            self.tasks.update(task_ids)
        for t in self._taps:
            t.mark_many(task_ids)

    def mark_all(self) -> None:
        self.tasks = None
        for t in self._taps:
            t.mark_all()

    def take(self) -> set[int] | None:
        """The marks so far (None: all), starting afresh."""
        marks, self.tasks = self.tasks, set()
        return marks
