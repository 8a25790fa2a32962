"""Messages waiting for a session: tau's ``queued_messages``, read by what changed.

tau queues a message for a session (another session's ``queue_message``, a
child's completion notice, a ``steer``) by inserting a row (db.rs
``queue_message``: target, content, sender_info, created_at), resolved to the
live tip of a retired session first (notifications.rs). If the session is idle
tau resumes it at once; if it is running, the turn drains the queue before its
next LLM call (agent.rs ``drain_queued``). Draining deletes the rows and stores
each as a user message ``[from sender] content``, in one transaction (db.rs
``drain_queued_messages``). So a row exists only while its message waits; one
queued while a turn ends, or while no run comes, waits until the next run, or
the next server start (mod.rs ``spawn_auto_resume_tasks``).

The table is small, but tau.db may hold a million messages: nothing here
touches ``messages``. After each commit one aggregate over the table says
whether it changed (count, newest id, sum of times); only then are the
per-session figures read again, grouped. The rows of one session are read by
its index when its transcript is open and it has some. No Textual.
"""

from __future__ import annotations

import sqlite3

import aiosqlite

from ..model.snapshots import QueuedMessage
from .db import DbFile
from .decode import as_int, as_str
from .schema import Schema

#: (count, oldest created_at ms) of a session with nothing queued.
NONE: tuple[int, int | None] = (0, None)
#: Queued messages shown in one transcript (the oldest first), and the
#: characters of each kept (the rest is counted).
SHOWN = 50
TEXT_CHARS = 2000


def _col(schema: Schema, col: str) -> str:
    """A column of queued_messages, or NULL on a store without it."""
    return f'"{col}"' if schema.has("queued_messages", col) else "NULL"


class QueuedMessages:
    """Per session: how many messages wait, and since when."""

    def __init__(self) -> None:
        self._dv: object = None
        self._sig: tuple[object, ...] | None = None
        self._by_target: dict[str, tuple[int, int | None]] = {}
        self.reads = 0  # aggregate re-reads (the price, measured)

    def of(self, sid: str) -> tuple[int, int | None]:
        """(messages waiting, when the oldest was queued, ms)."""
        return self._by_target.get(sid, NONE)

    def targets(self) -> dict[str, tuple[int, int | None]]:
        return dict(self._by_target)

    def forget(self) -> set[str]:
        """tau.db went away or was replaced: nothing is known to wait."""
        gone = set(self._by_target)
        self._by_target, self._sig, self._dv = {}, None, None
        return gone

    async def refresh(self, f: DbFile, version: object) -> set[str]:
        """Bring the figures up to date after a read of tau.db at data version
        ``version``; the sessions whose figures changed."""
        conn, schema = f.conn, f.schema
        if conn is None or not schema.has("queued_messages", "id", "target_session_id"):
            return self.forget() if self._by_target else set()
        if version is not None and version == self._dv:
            return set()
        created = _col(schema, "created_at")
        try:
            rows = await conn.execute_fetchall(
                f"SELECT COUNT(*), MAX(id), TOTAL({created}) FROM queued_messages")
            sig = tuple(rows[0]) if rows else None  # type: ignore[index]
            if sig == self._sig:
                self._dv = version
                return set()
            fresh: dict[str, tuple[int, int | None]] = {}
            for target, count, oldest in await conn.execute_fetchall(
                    f"SELECT target_session_id, COUNT(*), MIN({created}) FROM queued_messages "
                    "GROUP BY target_session_id"):
                fresh[as_str(target)] = (as_int(count), None if oldest is None else as_int(oldest))
        except sqlite3.Error:
            return set()  # busy, or the file is going: the last figures stand, asked again next read
        self._dv, self._sig = version, sig
        self.reads += 1
        changed = {sid for sid in fresh.keys() | self._by_target.keys()
                   if fresh.get(sid) != self._by_target.get(sid)}
        self._by_target = fresh
        return changed

    async def messages(self, conn: aiosqlite.Connection, f: DbFile, sid: str) -> tuple[QueuedMessage, ...]:
        """The messages waiting for ``sid``, oldest first (none read when none wait)."""
        schema = f.schema
        if not self.of(sid)[0] or not schema.has("queued_messages", "id", "target_session_id"):
            return ()
        content = _col(schema, "content")
        rows = await conn.execute_fetchall(
            f"SELECT id, {_col(schema, 'sender_info')}, {_col(schema, 'created_at')}, length({content}), "
            f"substr({content}, 1, ?) FROM queued_messages "
            "WHERE target_session_id = ? ORDER BY id LIMIT ?", (TEXT_CHARS, sid, SHOWN))
        return tuple(QueuedMessage(id=as_int(r[0]), session_id=sid,
                                   sender=None if r[1] is None else as_str(r[1]),
                                   text=as_str(r[4]), created_at=as_int(r[2]), size=as_int(r[3]))
                     for r in rows)
