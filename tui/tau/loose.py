"""Sessions on no task that may be live: found by a slow scan, on the side.

The fleet model reads only the sessions of the tasks it keeps (a big store has
100,000 sessions whose rows carry kilobytes of system prompt). A session on no
task (a sub-agent, a chat that filed nothing yet) is still a session tau may be
running, and the title counts live sessions, not task links. Finding those
means a scan of the sessions table (about 0.2 s on a 100,000-session store):
it runs every `LOOSE_SCAN_SECONDS` on a connection of its own, so it never
holds up a read the screen waits for.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

import aiosqlite

from .db import ro_uri

#: How often the side scan looks for sessions that may be live (s).
LOOSE_SCAN_SECONDS = 30.0


async def scan(path: Path) -> dict[str, str]:
    """Every session whose persisted phase is set and not idle, with that phase."""
    conn = await aiosqlite.connect(ro_uri(path), uri=True, timeout=1.0)
    try:
        await conn.execute("PRAGMA query_only=1")
        async with conn.execute(
            "SELECT id, last_phase FROM sessions WHERE last_phase IS NOT NULL AND last_phase != 'idle'"
        ) as cur:
            return {str(sid): str(phase) for sid, phase in await cur.fetchall() if sid is not None}
    finally:
        await conn.close()


class LooseSessions:
    """The result of the newest side scan, and the loop that keeps it fresh."""

    def __init__(self, path: Path, on_found: Callable[[], None]) -> None:
        self.path = path
        self.found: dict[str, str] = {}
        self._on_found = on_found
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="tau-loose-sessions")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    async def _loop(self) -> None:
        seen: tuple[object, ...] | None = None
        while True:
            # Only when tau.db may have changed since the last scan (its files'
            # sizes and times moved): an idle store costs no scan at all.
            mark = _files_mark(self.path)
            if mark != seen:
                try:
                    found = await scan(self.path)
                    seen = mark
                except (sqlite3.Error, OSError, ValueError):
                    found = None  # no store yet, an old schema, a lock: try next time
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
