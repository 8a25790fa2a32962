"""Reading one session's messages: a transcript page, or a pane's newest few.

Pages go by id through the session_id index, so a 100k-message session opens
as fast as a small one; the header's figures come from the fleet model and
the usage sums, its liveness from merge.py.
"""

from __future__ import annotations

from ..model.snapshots import Message, Transcript
from .db import Connections
from .decode import decode_message
from .fleet import FleetModel
from .merge import Liveness, session_header, unreadable_header
from .usage import UsageSums


class TranscriptReader:
    """Messages of one session, read on demand (nothing here is kept)."""

    def __init__(self, db: Connections, fleet: FleetModel, usage: UsageSums) -> None:
        self.db = db
        self.fleet = fleet
        self.usage = usage

    async def newest(self, session_id: str, n: int) -> tuple[Message, ...]:
        """The session's newest ``n`` messages, oldest first (a pane's preview)."""
        tau = self.db.tau
        conn = tau.conn
        assert conn is not None
        if not tau.schema.messages_ok():
            return ()
        async with conn.execute(
            f"SELECT id, {tau.schema.msg_created()}, message_json FROM messages WHERE session_id = ? "
            "ORDER BY id DESC LIMIT ?", (session_id, n),
        ) as cur:
            rows = await cur.fetchall()
        return tuple(decode_message(r[0], session_id, r[1], r[2]) for r in reversed(rows))

    async def read(self, session_id: str, liveness: Liveness, *, limit: int = 200,
                   before_id: int | None = None, after_id: int | None = None) -> Transcript:
        """A page of a session's messages, in order (see `Store.read_transcript`).
        The caller holds the store's lock and has opened the files."""
        db = self.db
        if db.tau.conn is None:
            failure = db.unavailable("tau")
            if failure is not None:
                raise failure
            return Transcript(header=unreadable_header(session_id), messages=(), has_older=False)

        async def work() -> tuple[tuple[Message, ...], bool, int, float, bool]:
            sessions = self.fleet.sessions
            await sessions.refresh(db.tau, self.fleet.tasks.relevant, frozenset((session_id,)))
            conn, schema = db.tau.conn, db.tau.schema
            assert conn is not None
            if not schema.messages_ok():
                return (), False, 0, 0.0, True
            cols = f"SELECT id, {schema.msg_created()}, message_json FROM messages "
            if after_id is not None:
                sql = cols + "WHERE session_id = ? AND id > ? ORDER BY id LIMIT ?"
                args: tuple = (session_id, after_id, max(limit, 1000))
            elif before_id is not None:
                sql = cols + "WHERE session_id = ? AND id < ? ORDER BY id DESC LIMIT ?"
                args = (session_id, before_id, limit + 1)
            else:
                sql = cols + "WHERE session_id = ? ORDER BY id DESC LIMIT ?"
                args = (session_id, limit + 1)
            async with conn.execute(sql, args) as cur:
                rows = await cur.fetchall()
            has_older = False
            if after_id is None:
                has_older = len(rows) > limit
                rows = list(reversed(rows[:limit]))
            msgs = tuple(decode_message(r[0], session_id, r[1], r[2]) for r in rows)
            tokens, cost, counted = await self.usage.of(db.tau, session_id, sessions.stats.get(session_id))
            return msgs, has_older, tokens, cost, counted

        msgs, has_older, tokens, cost, counted = await db.guarded("tau", work)
        await self.fleet.told_tau_read()
        sessions = self.fleet.sessions
        header = session_header(
            session_id, sessions.rows.get(session_id), sessions.stats.get(session_id),
            tokens=tokens, cost=cost, usage_complete=counted, liveness=liveness,
            use=self.usage.breakdown(session_id), epoch=sessions.epoch(session_id),
            unreadable=self.usage.unreadable(session_id))
        return Transcript(header=header, messages=msgs, has_older=has_older)
