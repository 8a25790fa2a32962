"""Knowing when the store changed: watchfiles events, with a slow safety net.

`watch_store` is an async generator of batches. A non-empty batch names the
store files that changed; an empty batch is the slow tick (every
``tick_seconds``) on which the caller checks ``PRAGMA data_version`` in case
events do not arrive (network and virtual filesystems). It watches the data
directory, not the ``.db`` files, because a commit lands in the ``-wal`` file
first; while the directory does not exist it watches the nearest existing
parent, and it re-attaches when the directory is deleted and created again.
No Textual here: the app runs this inside a worker.

It drives watchfiles' `RustNotify` itself rather than through `awatch`, to
choose the polling step per wait: watchfiles hands changes over from a thread
that wakes every step (inotify itself is event-driven). Each wake-up costs
~60 us of CPU on a small VM, so a fast step is kept while the store changes
and slower ones once it has been quiet a while (5 s, then 20 s). The same
`RustNotify` stays registered throughout, so no change falls between two waits.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

from watchfiles._rust_notify import RustNotify
from watchfiles.main import (
    _default_debug,
    _default_force_polling,
    _default_ignore_permission_denied,
    _default_poll_delay_ms,
)

from .paths import STORE_FILES, file_identity

log = logging.getLogger(__name__)

WATCHED_NAMES = frozenset(STORE_FILES) | {"tasks.db-journal", "tau.db-journal", "tau.pid", "tau.sock"}
#: The polling step (ms) while the store is changing: a change is handed over
#: one step after the first wake-up that sees it, so it waits 8-16 ms.
STEP_MS = 8
#: The step once nothing has changed for QUIET_SECONDS: the first change after
#: a quiet spell waits 40-80 ms, and the watcher's thread costs ~0.15 % of a
#: core instead of ~0.7 % (measured per thread on the 2-core VM of BENCHMARKS.md).
IDLE_STEP_MS = 40
QUIET_SECONDS = 5.0
#: The step once nothing has changed for ASLEEP_SECONDS: the first change after
#: a long quiet waits 100-200 ms (what tau's server says comes over its socket
#: meanwhile, unaffected), and the thread wakes 10 times a second, not 25.
ASLEEP_STEP_MS = 100
ASLEEP_SECONDS = 20.0
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


async def _changes(
    paths: list[Path], stop: asyncio.Event, *, tick_seconds: float, step_ms: int,
    idle_step_ms: int, asleep_step_ms: int, debounce_ms: int, force_polling: bool | None,
) -> AsyncIterator[set[tuple[int, str]]]:
    """Raw (change, path) batches from one RustNotify; ``set()`` every tick."""
    last_change = time.monotonic()
    # Set up as awatch sets it up: the same defaults and WATCHFILES_* variables
    # (force polling on WSL or when asked, poll delay, debug, permission errors).
    with RustNotify([str(p) for p in paths], _default_debug(None), _default_force_polling(force_polling),
                    _default_poll_delay_ms(300), False, _default_ignore_permission_denied(None)) as notify:
        while not stop.is_set():
            quiet = time.monotonic() - last_change
            step = (asleep_step_ms if quiet >= ASLEEP_SECONDS else
                    idle_step_ms if quiet >= QUIET_SECONDS else step_ms)
            # A thread of its own: the wait blocks until a change, the tick or
            # the stop event (which the thread checks every step).
            raw = await asyncio.to_thread(notify.watch, debounce_ms, step,
                                          int(tick_seconds * 1000), stop)
            if raw == "stop":
                return
            if raw in ("timeout", "signal"):
                yield set()
                continue
            last_change = time.monotonic()
            yield raw


async def watch_store(
    data_dir: Path,
    stop: asyncio.Event,
    *,
    runtime_dir: Path | None = None,
    tick_seconds: float = 2.0,
    step_ms: int = STEP_MS,
    idle_step_ms: int = IDLE_STEP_MS,
    asleep_step_ms: int = ASLEEP_STEP_MS,
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

        def keep(path: str, _exists: bool = exists) -> bool:
            p = Path(path)
            if not _exists:
                return p == data_dir or data_dir.is_relative_to(p)
            return p.name in WATCHED_NAMES

        if exists:
            yield {"<attached>"}
        try:
            async for raw in _changes(paths, stop, tick_seconds=tick_seconds, step_ms=step_ms,
                                      idle_step_ms=idle_step_ms, asleep_step_ms=asleep_step_ms,
                                      debounce_ms=debounce_ms,
                                      force_polling=force_polling):
                changes = {path for _, path in raw if keep(path)}
                if raw and not changes:
                    continue  # only other files changed
                if not exists:
                    if data_dir.is_dir() or _nearest_existing(data_dir.parent) != target:
                        # It appeared (attach to it), or a directory on the way to it
                        # appeared or vanished (watch the new nearest one: the watch is
                        # not recursive, so the next level down would go unseen).
                        break
                    yield set()
                    continue
                names = {Path(p).name for p in changes}
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
