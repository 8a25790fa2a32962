"""The sessions side of the fleet model: tau.db kept in memory, read by what changed.

The task list needs every task's sessions' phase and last activity. Reading
that afresh on every change costs what the store holds (100,000 sessions whose
rows carry kilobytes of system prompt); instead this keeps it and reads what
changed: messages by id (counts go up by increments over a watermark),
sessions by rowid (new ones) and, by primary key, the sessions that can have
changed (busy ones, ones with new messages, the ones asked for). Only
"relevant" sessions (chosen by the tasks side) are kept current; a sweep every
SWEEP_SECONDS re-reads them in case one changed without a trace (an idle
session archived), a slice per read while changes keep coming.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Callable
from collections.abc import Set as AbstractSet

import aiosqlite

from .db import DbFile, data_version
from .decode import as_int, as_str, model_info
from .records import DirtyMarks, MsgStats, SessionRecord
from .schema import Schema
from .usage import UsageSums

#: How often the kept sessions are re-read whole, in case one changed unseen.
SWEEP_SECONDS = 10.0
#: The most sessions a sweep re-reads in one read (~5 ms on a large store: 6 us
#: of SQLite and 10 us of Python each; a whole round of 8,000 was 130 ms).
SWEEP_SLICE = 300
#: A commit that added no message re-reads this many relevant sessions at once
#: at most (more: the sweep's slices), see `SessionTable.refresh`.
QUIET_COMMIT_REREAD = 2000
#: A session with a new message is re-read on every read for this long (s):
#: the run it set off may persist `sending request` in a commit of its own just
#: after (TAU.md §5.1), which on a large store no row change would point to.
RECENT_S = 5.0
#: Ids per "IN (...)" query (SQLite allows 999 parameters in old builds).
CHUNK = 500


#: What a compaction summary row holds (its role). Matched anywhere in the new
#: rows only: a false match (a message quoting it) costs one recount, no more.
COMPACTION_MARK = '"compaction_summary"'


class SessionTable:
    """Sessions rows and message figures as last read.

    ``rows`` and ``stats`` are kept as the same dict objects for the table's
    life (cleared, never replaced), so a holder of them sees the current state.
    """

    def __init__(self, marks: DirtyMarks, usage: UsageSums,
                 on_change: Callable[[str], None]) -> None:
        self.marks = marks
        self.usage = usage  # sums over the counted messages: forgotten with them
        self._on_change = on_change  # a session changed: mark its tasks
        self.stats: dict[str, MsgStats] = {}
        self.rows: dict[str, SessionRecord] = {}
        self.reset()

    def reset(self) -> None:
        """Forget everything read from tau.db (it was replaced, or reopened)."""
        self.dv: int | None = None
        self.epoch_all = getattr(self, "epoch_all", 0) + 1
        self.epochs: dict[str, int] = {}
        self.stats.clear()
        self.usage.clear()
        self.rows.clear()
        self.msg_max_id: int | None = None  # the message id counts go up to
        self.top_row_id: int | None = None  # the id `top_row` was read at
        self.top_row: tuple[object, ...] | None = None  # the row at that id (see _read_new_messages)
        self.sessions_rowid = 0
        self.no_rowid = False
        self.active: set[str] = set()  # sessions whose phase is not idle
        self.absent: set[str] = set()  # linked sessions not in tau.db
        self.recent: dict[str, float] = {}  # session → when it last had a new message (monotonic s)
        self.newest: dict[str, int] = {}  # session → its newest message read as new (ms, tau's clock)
        self.untracked: set[str] = set()  # sessions on no kept task with new messages, for the side scan
        self.sweep_queue: list[str] = []  # relevant sessions this round has yet to re-read
        self.sweep_started = -SWEEP_SECONDS  # when this round began (monotonic s)
        self.sweep_round = 0  # sessions in this round
        self.last_read = -SWEEP_SECONDS  # when tau.db was last read for a change
        #: Moves when a kept session's row or counts may be missing (a new row,
        #: counts thrown away); with the relevant set's identity and generation
        #: it keys `_complete`: every relevant session read and counted then.
        self._gen = getattr(self, "_gen", 0) + 1
        self._complete: tuple[int, int, int] | None = None
        #: The raw rows of sessions whose phase is not idle, as last read: one
        #: re-read on every commit while it runs costs a tuple compare.
        self._raw: dict[str, tuple] = {}

    def candidates(self) -> tuple[dict[str, tuple[object, ...]], list[str]]:
        """Sessions that may be live by the disk (a persisted phase other than
        idle: every run writes ``sending request`` when it starts and ``idle``
        when it ends), each with a stamp of what the disk says of it, newest
        activity first."""
        stamps: dict[str, tuple[object, ...]] = {}
        for sid in self.active:
            row, st = self.rows.get(sid), self.stats.get(sid)
            if row is not None:
                stamps[sid] = (row.last_phase, st.count if st else 0, st.max_id if st else 0)
        order = sorted(stamps, key=lambda s: -(self.stats[s].last_created if s in self.stats else 0))
        return stamps, order

    @staticmethod
    def _select(schema: Schema) -> str:
        t = lambda c: schema.col("sessions", c)  # noqa: E731
        return (f"SELECT rowid, id, {t('archived')}, {t('last_phase')}, {t('last_exit_status')}, "
                f"{t('created_at')}, {t('tagline')}, {t('model_json')}, {t('parent_id')}, "
                f"{t('successor_id')} FROM sessions")

    def epoch(self, session_id: str) -> int:
        """Moves whenever this session's kept message figures were thrown away
        (rows deleted by a compaction, the id reused by a new session, the file
        replaced): a screen holding its messages must read them afresh."""
        return self.epoch_all * 1_000_003 + self.epochs.get(session_id, 0)

    def invalidate(self, session_id: str) -> None:
        """Forget one session's counts and sums: they are read again, whole."""
        self._gen += 1
        self.stats.pop(session_id, None)
        self.usage.forget(session_id)
        self.epochs[session_id] = self.epochs.get(session_id, 0) + 1
        self._on_change(session_id)

    def _take(self, r: tuple) -> str:
        """Keep one sessions row; mark its tasks dirty if it changed."""
        sid = as_str(r[1])
        if self._raw.get(sid) == r:
            return sid  # a running session's row as last read (its phase is not idle)
        old = self.rows.get(sid)
        if old is None:
            self._gen += 1  # a row to count, maybe one a relevant task waits for
        if old is not None and old.created_at != as_int(r[5]):
            # tau gives a new session the highest id + 1: after the newest
            # session was deleted, its id comes back for someone else.
            self.invalidate(sid)
            old = None
        # Each time (a cache hit): tau rewrites model_json when a session's model is switched.
        model, window, loads = model_info(r[7])
        loads = loads or r[7] is None  # no model_json column (an odd old store): no judgement
        row = SessionRecord(
            id=sid, archived=bool(as_int(r[2])), last_phase=None if r[3] is None else as_str(r[3]),
            last_exit_status=None if r[4] in (None, "") else as_str(r[4]),
            created_at=as_int(r[5]), tagline=as_str(r[6]),
            model=model,
            parent_id=None if r[8] is None else as_str(r[8]),
            context_window=window, tau_loads=loads,
            successor_id=None if r[9] is None else (as_str(r[9]) or None),
        )
        if row != old:
            self.rows[sid] = row
            self._on_change(sid)
        self.absent.discard(sid)
        if row.last_phase not in (None, "idle"):
            self.active.add(sid)
            self._raw[sid] = r
        else:
            self.active.discard(sid)
            self._raw.pop(sid, None)
        return sid

    async def read_sessions(self, conn: aiosqlite.Connection, schema: Schema, ids: set[str]) -> None:
        """Re-read these sessions by primary key; those not found are gone."""
        found: set[str] = set()
        ids_list = sorted(ids)
        select = self._select(schema)
        for i in range(0, len(ids_list), CHUNK):
            part = ids_list[i:i + CHUNK]
            marks = ",".join("?" * len(part))
            for r in await conn.execute_fetchall(f"{select} WHERE id IN ({marks})", part):
                found.add(self._take(r))
        for sid in ids - found:
            if sid in self.rows or sid in self.stats or sid not in self.absent:
                if sid in self.rows or sid in self.stats:
                    # Deleted (tau's delete or GC; its messages cascade): a
                    # screen holding its messages reads them afresh (none).
                    self.epochs[sid] = self.epochs.get(sid, 0) + 1
                self.rows.pop(sid, None)
                self.stats.pop(sid, None)
                self._raw.pop(sid, None)
                self.usage.forget(sid)
                self.active.discard(sid)
                self.absent.add(sid)
                self._on_change(sid)

    async def count_messages(self, conn: aiosqlite.Connection, schema: Schema, ids: list[str]) -> None:
        """Message counts of sessions seen for the first time, up to the id
        high-water mark (newer rows are counted as increments)."""
        created = schema.msg_created()
        if self.msg_max_id is None:
            self.msg_max_id = as_int(
                (await conn.execute_fetchall("SELECT MAX(id) FROM messages"))[0][0])  # type: ignore[index]
        newest: dict[int, str] = {}
        for i in range(0, len(ids), CHUNK):
            part = ids[i:i + CHUNK]
            marks = ",".join("?" * len(part))
            for sid in part:
                self.stats[sid] = MsgStats()
            for sid, count, max_id in await conn.execute_fetchall(
                    f"SELECT session_id, COUNT(*), MAX(id) FROM messages WHERE session_id IN ({marks}) "
                    "AND id <= ? GROUP BY session_id", (*part, self.msg_max_id)):
                self.stats[as_str(sid)] = MsgStats(count=count, max_id=as_int(max_id))
                newest[as_int(max_id)] = as_str(sid)
        if created == "NULL":
            return
        top_ids = sorted(newest)
        for i in range(0, len(top_ids), CHUNK):
            part = top_ids[i:i + CHUNK]
            marks = ",".join("?" * len(part))
            for mid, at in await conn.execute_fetchall(
                    f"SELECT id, {created} FROM messages WHERE id IN ({marks})", part):
                st = self.stats.get(newest[as_int(mid)])
                if st is not None:
                    st.last_created = max(st.last_created, as_int(at))

    async def refresh(self, f: DbFile, relevant: set[str], want: AbstractSet[str] = frozenset(), *,
                      relevant_gen: int | None = None) -> None:
        """Bring the kept sessions and their message figures up to date: the
        ``relevant`` ones and those in ``want`` (a screen's own).
        ``relevant_gen``: moves whenever a session joins ``relevant`` (None:
        unknown); while it stays, the relevant sessions not read or not
        counted are not looked for (two set differences over 8,000 sessions
        on a large store, on every read)."""
        conn, schema = f.conn, f.schema
        assert conn is not None
        dv = await data_version(conn)
        if dv == self.dv:
            # Nothing committed: only sessions never read before need a read.
            new_want = {s for s in want if s not in self.rows and s not in self.absent}
            if new_want:
                await self.read_sessions(conn, schema, new_want)
            if schema.messages_ok():
                uncounted = [s for s in want if s in self.rows and s not in self.stats]
                if uncounted:
                    await self.count_messages(conn, schema, uncounted)
            return
        touched = await self._read_new_messages(conn, schema)
        # Sessions added since the last read (on the first read, only where
        # they start: the ones that matter are read by id below).
        if not self.no_rowid:
            try:
                if self.dv is None and not self.rows:
                    self.sessions_rowid = as_int(
                        (await conn.execute_fetchall("SELECT MAX(rowid) FROM sessions"))[0][0])  # type: ignore[index]
                else:
                    for r in await conn.execute_fetchall(
                            f"{self._select(schema)} WHERE rowid > ?", (self.sessions_rowid,)):
                        self._take(r)
                        self.sessions_rowid = max(self.sessions_rowid, as_int(r[0]))
            except sqlite3.OperationalError:
                self.no_rowid = True
        # Sessions that can have changed (set operations: the relevant set is large).
        now = time.monotonic()
        known = self.rows.keys()
        # Every session with a new message is read, by key: one no kept task
        # has too (the side scan, tui.tau.loose, would see it up to 30 s
        # later), since a run may be starting on it: a queued-message resume
        # of a parent chat persists `sending request` and then stores the
        # message it drained (agent_runner.rs:404, agent.rs `drain_queued`).
        need = set(want) | touched
        self.untracked.update(s for s in touched if s not in relevant and s not in known)
        recent = self.recent
        for sid in touched:
            recent[sid] = now
        for sid, at in list(recent.items()):
            if now - at > RECENT_S:
                del recent[sid]
            elif sid in known:  # (an active one is re-read anyway, below)
                need.add(sid)
        # Every session that may be live (a few): its turn's end is a row change,
        # whether or not its task is still among the relevant ones.
        need |= self.active
        # (set.difference with a dict looks keys up in C: ~0.25 ms for 8,000,
        # where `relevant - known` copied both sides, ~0.7 ms; and only when a
        # session joined the relevant ones or a kept one lost its row or counts.)
        key = None if relevant_gen is None else (id(relevant), relevant_gen, self._gen)
        whole = key is None or key != self._complete
        gen = self._gen
        if whole:
            need |= relevant.difference(self.rows).difference(self.absent)
        if self.no_rowid:
            need |= relevant
        elif not touched and len(relevant) <= QUIET_COMMIT_REREAD:
            # A commit with no new message changed a session row: a run's start
            # (`sending request`, TAU.md §5.1, may come just after the message
            # that set it off, in a commit of its own), an archive, an exit
            # status. The disk does not say which row: re-read the relevant ones
            # (by id; a few ms for a thousand). Runs start a few times a minute.
            need |= relevant
        else:
            need |= self._sweep_slice(now, relevant)
        if self.no_rowid and not relevant:
            async with conn.execute(self._select(schema)) as cur:
                async for r in cur:
                    self._take(r)
        if need:
            await self.read_sessions(conn, schema, need)
        if schema.messages_ok():
            rows, stats = self.rows, self.stats
            whole = whole or self._gen != gen  # (rows first read just now: maybe relevant ones)
            uncounted = [s for s in relevant.difference(stats) if s in rows] if whole else []
            uncounted += [s for s in want if s in rows and s not in stats and (s not in relevant or not whole)]
            if uncounted:
                await self.count_messages(conn, schema, uncounted)
                for sid in uncounted:
                    self._on_change(sid)
        self.dv = dv
        if key is not None:  # every relevant session read (or absent) and counted
            self._complete = (id(relevant), relevant_gen, self._gen)

    async def _read_new_messages(self, conn: aiosqlite.Connection, schema: Schema) -> set[str]:
        """Add the messages past the watermark to the counts; the sessions touched."""
        touched: set[str] = set()
        if not schema.messages_ok():
            return touched
        # (One trip to the connection's thread per query: execute, fetch and
        # close would be three, ~0.3 ms each under load.)
        top = as_int((await conn.execute_fetchall("SELECT MAX(id) FROM messages"))[0][0])  # type: ignore[index]
        if self.msg_max_id is not None and (
                top < self.msg_max_id or (self.top_row_id == self.msg_max_id
                                          and await self._top_row(conn, schema) != self.top_row)):
            # Rows deleted from the end: count again. Their ids may already
            # be another session's (no AUTOINCREMENT: a new row takes the
            # highest id + 1), so the row at the watermark is compared too:
            # a different row there means the newest rows were deleted and
            # their ids reused, by rows the increments would never see.
            self.stats.clear()
            self.usage.clear()
            self._gen += 1
            self.msg_max_id = None
            self.epoch_all += 1
            self.marks.mark_all()
        if self.msg_max_id is None:
            self.msg_max_id = top  # the baseline: counts go up to here
        elif top > self.msg_max_id:
            for sid, count, last_created, max_id, compacted in await conn.execute_fetchall(
                    f"SELECT session_id, COUNT(*), MAX({schema.msg_created()}), MAX(id), "
                    f"SUM(instr(message_json, '{COMPACTION_MARK}') > 0) FROM messages "
                    "WHERE id > ? AND id <= ? GROUP BY session_id",
                    # Up to `top` only: rows committed since MAX(id) was read are
                    # counted next time, not now and again then.
                    (self.msg_max_id, top)):
                sid = as_str(sid)
                touched.add(sid)
                self.newest[sid] = max(self.newest.get(sid, 0), as_int(last_created))
                st = self.stats.get(sid)
                if compacted:
                    # A compaction deleted this session's older rows and
                    # added its summary (TAU.md §2.3): counts and sums go
                    # down, so they are read again, whole.
                    if st is not None or sid in self.usage.known():
                        self.invalidate(sid)
                    continue
                if st is not None:  # no baseline, no increment: counted when needed
                    st.count += count
                    st.last_created = max(st.last_created, as_int(last_created))
                    st.max_id = max(st.max_id, as_int(max_id))
                    self._on_change(sid)
            self.msg_max_id = top
        if self.msg_max_id != self.top_row_id:
            self.top_row_id, self.top_row = self.msg_max_id, await self._top_row(conn, schema)
        return touched

    async def _top_row(self, conn: aiosqlite.Connection, schema: Schema) -> tuple[object, ...] | None:
        """Who holds the watermark's id, and since when (one lookup by key)."""
        rows = list(await conn.execute_fetchall(
            f"SELECT session_id, {schema.msg_created()}, length(message_json) FROM messages "
            "WHERE id = ?", (self.msg_max_id,)))
        return tuple(rows[0]) if rows else None

    def _sweep_slice(self, now: float, relevant: set[str]) -> set[str]:
        """The relevant sessions to re-read now, in case they changed without a trace.

        Every SWEEP_SECONDS a round re-reads all of them: while changes stream in,
        a slice per read in proportion to the time since the last read (a whole
        round on a big store costs a few hundred ms, too much for one change to
        wait; and at 40 reads a second a fixed slice would re-read the round many
        times over); after a quiet spell, as much as one read may take (the
        change that ended it may be one of them; the rest follow with the next
        reads), never the whole round: that would make the first change after
        a quiet spell wait for it.
        """
        if not self.sweep_queue and now - self.sweep_started >= SWEEP_SECONDS:
            self.sweep_queue = list(relevant)
            self.sweep_round = len(self.sweep_queue)
            self.sweep_started = now
        since = now - self.last_read
        self.last_read = now
        if not self.sweep_queue:
            return set()
        if since >= SWEEP_SECONDS:  # quiet until now
            n = SWEEP_SLICE
        else:  # a round's worth per SWEEP_SECONDS, however many reads that is
            n = min(SWEEP_SLICE, max(1, math.ceil(self.sweep_round * since / SWEEP_SECONDS)))
        part = set(self.sweep_queue[-n:])
        del self.sweep_queue[-n:]
        return part
