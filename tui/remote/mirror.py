"""One host's task list, as its feed last said it: a snapshot, then deltas.

A message cut into chunks (``more``) is applied whole, at its last chunk, so
a read never sees half a change. A row that did not change stays the very
object it was, so the screens skip it with an identity check, as they do for
the local store's rows. A delta that does not fit what is held (an order that
names other tasks) is refused: the caller asks the feed for a resync.
A snapshot of a long list may hold its first screen's rows only (``rest``
more to come in the next delta, with the whole order): `whole` says when all
are in. Each row is given the host's name here (the feed's rows name none: it does
not know what this side calls it), so every row says where it is.
"""

from __future__ import annotations

from ..model.snapshots import StoreStatus, TaskRow
from .wire import Delta, Snapshot, Versions


class Inconsistent(Exception):
    """A delta that does not fit the rows held: ask for the whole list again."""


class Mirror:
    def __init__(self, host: str = "") -> None:
        #: The name this side gives the host (each row's ``host``).
        self.host = host
        self.rows: dict[int, TaskRow] = {}
        self.order: list[int] = []
        self.status: StoreStatus | None = None
        self.live = 0
        self.counting = False
        self.at = 0.0  # the feed's taken_at (its clock)
        self.v: Versions | None = None
        #: Whether a snapshot has been applied since the last `clear` (its
        #: first screen at least: see `whole`).
        self.complete = False
        #: Rows the last snapshot left out and no delta has brought yet.
        self.left_out = 0
        #: Moves on every change applied (the source's data version).
        self.version = 0
        self._staged: list[Snapshot | Delta] = []
        self._tasks: tuple[TaskRow, ...] | None = ()

    def clear(self) -> None:
        """A new connection: what is staged is dropped; the rows stay (stale)
        until its snapshot replaces them."""
        self._staged = []
        self.complete = False
        self.left_out = 0

    def apply(self, msg: Snapshot | Delta) -> bool:
        """Take one message; True when a whole change was applied."""
        if self.host:
            for row in msg.rows:
                # Decoded just now and held by no one else: named in place
                # (a `replace` per row would double the cost of a snapshot).
                object.__setattr__(row, "host", self.host)
        if msg.more:
            self._staged.append(msg)
            return False
        parts, self._staged = [*self._staged, msg], []
        if isinstance(parts[0], Snapshot):
            if not all(isinstance(p, Snapshot) for p in parts):
                raise Inconsistent("a snapshot mixed with a delta")
            self._snapshot(parts)  # type: ignore[arg-type]
        else:
            if not self.complete or not all(isinstance(p, Delta) for p in parts):
                raise Inconsistent("a delta before any snapshot")
            for part in parts:
                self._delta(part)  # type: ignore[arg-type]
        self.v = msg.v
        self.at = msg.at
        self.version += 1
        self._tasks = None
        return True

    @property
    def whole(self) -> bool:
        """Every row of the host's list is in (not only its first screen's)."""
        return self.complete and not self.left_out

    def tasks(self) -> tuple[TaskRow, ...]:
        """The rows in the feed's order (the same tuple until something changes)."""
        if self._tasks is None:
            rows = self.rows
            self._tasks = tuple(rows[i] for i in self.order)
        return self._tasks

    def _snapshot(self, parts: list[Snapshot]) -> None:
        old = self.rows
        rows: dict[int, TaskRow] = {}
        for part in parts:
            for row in part.rows:
                kept = old.get(row.id)
                rows[row.id] = kept if kept == row else row  # unchanged: the same object
        last = parts[-1]
        self.rows = rows
        self.order = [r.id for p in parts for r in p.rows]
        self.status = last.status
        self.live = last.live
        self.counting = last.counting
        self.complete = True
        self.left_out = last.rest

    def _delta(self, d: Delta) -> None:
        rows = self.rows
        fresh = [r.id for r in d.rows if r.id not in rows]
        for row in d.rows:
            rows[row.id] = row
        if d.removed:
            gone = set(d.removed)
            for i in gone:
                rows.pop(i, None)
            self.order = [i for i in self.order if i not in gone]
        if fresh:
            self.order += fresh
            self.left_out = max(0, self.left_out - len(fresh))
        if d.order is not None:
            self.left_out = 0  # (the feed sends the whole order with the rest)
            if len(d.order) != len(rows) or set(d.order) != rows.keys():
                raise Inconsistent("an order that names other tasks than the ones held")
            self.order = list(d.order)
        if d.status is not None:
            self.status = d.status
        if d.live is not None:
            self.live = d.live
        if d.counting is not None:
            self.counting = d.counting
