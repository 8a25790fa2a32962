"""The task list as the feed last sent it, and the next message against it.

`tui.tau.store.Store.read_task_list` hands out the same `TaskRow` object for a
task whose inputs did not change, so a delta is found by identity (then
equality, for a row built anew with the same values) in one pass over the
list. What was *sent* is the reference, not what was read: a read the link
had no room for is simply not sent, and the next delta covers it (coalescing).
(``sent`` holds the rows as read; a row with a text too long goes cut.)

A long list goes first screen first (`first_screen`): the first snapshot
holds the rows the dashboard's first screen shows (every task not finished,
and the newest finished ones), saying how many it left out (``rest``); the
rest follow in one delta with the whole order, once the feed lets them go
(`messages(hold=False)`). Ten hosts at once then each show their first screen
after a read and a line of ~10 % of the list, not after all of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from ..model.groups import FINISHED_STATES
from ..model.snapshots import StoreStatus, TaskListSnapshot, TaskRow
from .wire import CHUNK_BYTES, Delta, Snapshot, Versions

#: A row's JSON is about this many bytes beyond its text fields.
ROW_BYTES = 260
#: A row's text longer than this (a 10 MB title) goes cut, saying how much was
#: left out: a screen shows a line of it, and a line of the wire stays bounded.
MAX_TEXT = 64 * 1024
#: A list longer than this goes first screen first ...
SPLIT_ABOVE = 300
#: ... with this many of its newest finished tasks (the screen shows 8 and folds the rest).
FIRST_FINISHED = 32


def first_screen(rows: tuple[TaskRow, ...]) -> tuple[list[TaskRow], set[int]]:
    """The rows a first screen shows (every task not finished, the newest
    finished ones), and the ids of the rest; all of them for a short list."""
    if len(rows) <= SPLIT_ABOVE:
        return list(rows), set()
    finished = sorted((r for r in rows if r.state in FINISHED_STATES), key=lambda r: r.updated_at, reverse=True)
    rest = {r.id for r in finished[FIRST_FINISHED:]}
    return [r for r in rows if r.id not in rest], rest


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else \
        text[:MAX_TEXT] + f" … ({len(text) - MAX_TEXT:,} more characters, not sent)"


def _fit(row: TaskRow) -> TaskRow:
    """The row as sent: the same object unless a text of it is too long."""
    if len(row.title) <= MAX_TEXT and len(row.project) <= MAX_TEXT and len(row.owner or "") <= MAX_TEXT \
            and sum(map(len, row.waits)) <= MAX_TEXT:
        return row
    return replace(row, title=_cut(row.title), project=_cut(row.project),
                   owner=None if row.owner is None else _cut(row.owner),
                   waits=tuple(_cut(w) for w in row.waits[:64]))


def _size(row: TaskRow) -> int:
    """About the bytes of a row on the wire (to cut chunks, not to bound lines)."""
    return ROW_BYTES + len(row.title) + len(row.project) + sum(len(w) + 4 for w in row.waits) \
        + 8 * len(row.blocked_by) + len(row.owner or "")


def _chunks(rows: list[TaskRow]) -> Iterator[tuple[TaskRow, ...]]:
    """``rows`` (as sent) in runs of about CHUNK_BYTES (at least one row each; none if no rows)."""
    run: list[TaskRow] = []
    size = 0
    for row in map(_fit, rows):
        n = _size(row)
        if run and size + n > CHUNK_BYTES:
            yield tuple(run)
            run, size = [], 0
        run.append(row)
        size += n
    if run:
        yield tuple(run)


class Publisher:
    def __init__(self) -> None:
        self.sent: dict[int, TaskRow] = {}
        self.order: list[int] = []
        self.v: Versions | None = None
        self._status: object = None
        self._live: int | None = None
        self._counting: bool | None = None
        self._whole = True  # the next message is a snapshot
        #: Tasks left out of the first snapshot, not sent yet (None: none held).
        self.held: set[int] | None = None

    def reset(self) -> None:
        """The next message is the whole list again (a resync was asked)."""
        self._whole = True

    def messages(self, snap: TaskListSnapshot, v: Versions, counting: bool, *,
                 hold: bool = False) -> list[Snapshot | Delta]:
        """What to send for this read: a snapshot (first, or after `reset`),
        else a delta of what changed (none if nothing did). ``hold``: the
        tasks the first snapshot left out stay out (their rows are not
        complete yet); else they go now."""
        if self._whole:
            return self._snapshot(snap, v, counting)
        rows = snap.tasks
        held, self.held = self.held, None
        if held is not None and hold:
            self.held = held
            rows = tuple(r for r in rows if r.id not in held)
        sent = self.sent
        changed = [r for r in rows if sent.get(r.id) is not r and sent.get(r.id) != r]
        ids = [r.id for r in rows]
        order: tuple[int, ...] | None = None
        removed: tuple[int, ...] = ()
        if ids != self.order:
            now = set(ids)
            removed = tuple(i for i in self.order if i not in now)
            kept = [i for i in self.order if i in now]
            expected = kept + [i for i in ids if i not in sent]
            order = None if expected == ids else tuple(ids)
        if held is not None and self.held is None:
            order = tuple(ids)  # the rest is in: the whole order says so
        status = snap.status if snap.status != self._status else None
        live = snap.live_sessions if snap.live_sessions != self._live else None
        count = counting if counting != self._counting else None
        if not changed and not removed and order is None and status is None and live is None \
                and count is None and v == self.v:
            return []
        self._remember(snap, v, counting, ids)
        for r in changed:
            sent[r.id] = r
        for i in removed:
            sent.pop(i, None)
        chunks = list(_chunks(changed)) or [()]
        out: list[Snapshot | Delta] = [Delta(v=v, at=snap.taken_at, rows=c, more=True) for c in chunks[:-1]]
        out.append(Delta(v=v, at=snap.taken_at, rows=chunks[-1], removed=removed, order=order,
                         status=status, live=live, counting=count))
        return out

    def failed(self, status: StoreStatus, v: Versions, at: float) -> list[Snapshot | Delta]:
        """A read failed: the rows sent stand (stale), the status says why."""
        if status == self._status:
            return []
        self._status = status
        if self._whole:  # nothing sent yet: an empty list that says why; the whole list follows
            return [Snapshot(v=v, at=at, status=status)]
        return [Delta(v=v, at=at, status=status)]

    def _snapshot(self, snap: TaskListSnapshot, v: Versions, counting: bool) -> list[Snapshot | Delta]:
        self._whole = False
        rows, rest = first_screen(snap.tasks)
        self.held = rest or None
        ids = [r.id for r in rows]
        self._remember(snap, v, counting, ids)
        self.sent = {r.id: r for r in rows}
        chunks = list(_chunks(rows)) or [()]
        out: list[Snapshot | Delta] = [Snapshot(v=v, at=snap.taken_at, rows=c, more=True) for c in chunks[:-1]]
        out.append(Snapshot(v=v, at=snap.taken_at, rows=chunks[-1], status=snap.status,
                            live=snap.live_sessions, counting=counting, rest=len(rest)))
        return out

    def _remember(self, snap: TaskListSnapshot, v: Versions, counting: bool, ids: list[int]) -> None:
        self.v = v
        self.order = ids
        self._status = snap.status
        self._live = snap.live_sessions
        self._counting = counting
