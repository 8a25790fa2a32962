"""Sessions on no task that may be live: found by a slow scan, on the side.

The fleet model reads only the sessions of the tasks it keeps (a big store has
100,000 sessions whose rows carry kilobytes of system prompt). A session on no
task (a sub-agent, a chat that filed nothing yet) is still a session tau may be
running, and the title counts live sessions, not task links. Finding those
means a scan of the sessions table (about 0.2 s on a 100,000-session store:
the phase sits after kilobytes of system prompt in each row). It runs on a
connection of its own, so it never holds up a read the screen waits for, and
whole only every `FULL_SCAN_SECONDS`; in between, every `LOOSE_SCAN_SECONDS`
while tau.db moves, it reads by key what can have changed: sessions added
since (by rowid), sessions that had a new message while on no kept task
(`check`, from the fleet model's reads: a run starts with its message) and the
ones found before (they may have gone idle).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import aiosqlite

from .db import ro_uri

#: How often the side scan looks for sessions that may be live (s).
LOOSE_SCAN_SECONDS = 30.0
#: How often it reads the whole sessions table (s); between, what can have changed.
FULL_SCAN_SECONDS = 600.0
#: Ids per "IN (...)" query.
CHUNK = 500


async def scan(path: Path, since_rowid: int | None = None,
               ids: set[str] | frozenset[str] = frozenset()) -> tuple[dict[str, str], int]:
    """Sessions whose persisted phase is set and not idle, with that phase, and
    the highest rowid: all of them (``since_rowid`` None), or those added after
    ``since_rowid`` and those in ``ids``."""
    conn = await aiosqlite.connect(ro_uri(path), uri=True, timeout=1.0)
    busy = "last_phase IS NOT NULL AND last_phase != 'idle'"
    try:
        await conn.execute("PRAGMA query_only=1")
        found: dict[str, str] = {}
        async with conn.execute("SELECT MAX(rowid) FROM sessions") as cur:
            top = (await cur.fetchone())[0] or 0
        queries: list[tuple[str, tuple[object, ...]]] = []
        if since_rowid is None:
            queries.append((f"SELECT id, last_phase FROM sessions WHERE {busy}", ()))
        else:
            queries.append((f"SELECT id, last_phase FROM sessions WHERE rowid > ? AND {busy}", (since_rowid,)))
            part = sorted(ids)
            for i in range(0, len(part), CHUNK):
                chunk = part[i:i + CHUNK]
                queries.append((f"SELECT id, last_phase FROM sessions WHERE id IN "
                                f"({','.join('?' * len(chunk))}) AND {busy}", tuple(chunk)))
        for sql, args in queries:
            async with conn.execute(sql, args) as cur:
                found.update((str(sid), str(phase)) for sid, phase in await cur.fetchall() if sid is not None)
        return found, int(top)
    finally:
        await conn.close()


class LooseSessions:
    """The result of the newest side scan, and the loop that keeps it fresh."""

    def __init__(self, path: Path, on_found: Callable[[], None], *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.found: dict[str, str] = {}
        self._on_found = on_found
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._pending: set[str] = set()
        self._rowid: int | None = None  # the highest rowid the last scan saw (None: scan whole)
        self._full_at = -FULL_SCAN_SECONDS

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="tau-loose-sessions")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    def check(self, session_ids: Iterable[str]) -> None:
        """Sessions on no kept task that had a new message: read them next time."""
        self._pending.update(session_ids)

    async def _loop(self) -> None:
        seen: tuple[object, ...] | None = None
        while True:
            # Only when tau.db may have changed since the last scan (its files'
            # sizes and times moved): an idle store costs no scan at all.
            mark = _files_mark(self.path)
            if mark != seen:
                whole = self._rowid is None or self._clock() - self._full_at >= FULL_SCAN_SECONDS
                pending, self._pending = self._pending, set()
                try:
                    found, top = await scan(self.path, None if whole else self._rowid,
                                            pending | self.found.keys())
                    seen, self._rowid = mark, top
                    if whole:
                        self._full_at = self._clock()
                except (sqlite3.Error, OSError, ValueError):
                    found = None  # no store yet, an old schema, a lock: try next time
                    self._pending |= pending
                if found is not None and found != self.found:
                    self.found = found
                    self._on_found()
            await asyncio.sleep(LOOSE_SCAN_SECONDS)


def _files_mark(path: Path) -> tuple[object, ...]:
    """Sizes and modification times of tau.db and its WAL: a commit moves them."""
    out: list[object] = []
    for p in (path, path.with_name(path.name + "-wal")):
        try:
            st = p.stat()
            out.append((st.st_size, st.st_mtime_ns, st.st_ino))
        except OSError:
            out.append(None)
    return tuple(out)
