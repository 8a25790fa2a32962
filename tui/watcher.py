"""Knowing when the store changed: watchfiles events, with a slow safety net.

`watch_store` is an async generator of batches. A non-empty batch names the
store files that changed; an empty batch is the slow tick (every
``tick_seconds``) on which the caller checks ``PRAGMA data_version`` in case
events do not arrive (network and virtual filesystems). It watches the data
directory, not the ``.db`` files, because a commit lands in the ``-wal`` file
first; while the directory does not exist it watches the nearest existing
parent, and it re-attaches when the directory is deleted and created again.
No Textual here: the app runs this inside a worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from watchfiles import Change, awatch

from .paths import STORE_FILES, file_identity

log = logging.getLogger(__name__)

WATCHED_NAMES = frozenset(STORE_FILES) | {"tasks.db-journal", "tau.db-journal", "tau.pid"}
#: watchfiles' polling step (ms): its thread wakes this often to look for changes
#: and yields one step after the first one it sees, so a change waits 1-2 steps
#: (8-16 ms). Each wake-up costs ~30 us of CPU: at 4 ms the watcher alone was
#: 0.75 % of a core while nothing changed, at 8 ms about 0.4 %.
STEP_MS = 8
#: The longest a burst of changes is held back before yielding anyway (ms).
DEBOUNCE_MS = 120


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.is_dir():
            return candidate
    return Path("/")


async def poll_ticks(seconds: float, stop: asyncio.Event) -> AsyncIterator[set[str]]:
    """``--poll``: no events at all, just an empty batch every ``seconds``."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            yield set()


async def watch_store(
    data_dir: Path,
    stop: asyncio.Event,
    *,
    runtime_dir: Path | None = None,
    tick_seconds: float = 2.0,
    step_ms: int = STEP_MS,
    debounce_ms: int = DEBOUNCE_MS,
    force_polling: bool | None = None,
) -> AsyncIterator[set[str]]:
    """Yield the names of changed store files, and ``set()`` every tick.

    The first batch is ``{"<attached>"}`` each time the watcher (re)attaches to
    the data directory, so the caller re-reads after a gap in which events may
    have been missed.
    """
    data_dir = Path(data_dir)
    while not stop.is_set():
        exists = data_dir.is_dir()
        target = data_dir if exists else _nearest_existing(data_dir.parent)
        ident = file_identity(target)
        paths = [target]
        if exists and runtime_dir is not None and runtime_dir.is_dir():
            paths.append(runtime_dir)

        def keep(change: Change, path: str, _exists: bool = exists) -> bool:
            p = Path(path)
            if not _exists:
                return p == data_dir or data_dir.is_relative_to(p)
            return p.name in WATCHED_NAMES

        if exists:
            yield {"<attached>"}
        try:
            async for changes in awatch(
                *paths,
                watch_filter=keep,
                debounce=debounce_ms,
                step=step_ms,
                stop_event=stop,
                rust_timeout=int(tick_seconds * 1000),
                yield_on_timeout=True,
                recursive=False,
                force_polling=force_polling,
            ):
                if stop.is_set():
                    return
                if not exists:
                    if data_dir.is_dir() or _nearest_existing(data_dir.parent) != target:
                        # It appeared (attach to it), or a directory on the way to it
                        # appeared or vanished (watch the new nearest one: the watch is
                        # not recursive, so the next level down would go unseen).
                        break
                    yield set()
                    continue
                names = {Path(p).name for _, p in changes}
                if file_identity(target) != ident:
                    # Deleted, or deleted and made again: say so (the caller re-reads
                    # and finds the store gone), then attach anew.
                    yield names
                    break
                yield names
            else:
                return  # stop event
        except (FileNotFoundError, OSError, RuntimeError) as exc:
            # The watched directory went away under the watcher.
            log.debug("watcher lost %s: %s", target, exc)
            yield set()
            try:
                await asyncio.wait_for(stop.wait(), timeout=min(tick_seconds, 1.0))
            except asyncio.TimeoutError:
                pass
