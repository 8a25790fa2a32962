"""Knowing when the store changed: inotify on the event loop, with a slow safety net.

`watch_store` is an async generator of batches. A non-empty batch names the
store files that changed; an empty batch is the slow tick (every
``tick_seconds``) on which the caller checks ``PRAGMA data_version`` in case
events do not arrive (network and virtual filesystems). It watches the data
directory, not the ``.db`` files, because a commit lands in the ``-wal`` file
first; while the directory does not exist it watches the nearest existing
parent, and it re-attaches when the directory is deleted and created again.
No Textual here: the app runs this inside a worker.

On Linux the events come from inotify registered with the asyncio loop
(`tui.tau.inotify`): the loop sleeps until the kernel has an event, the tick
or the stop, so an idle dashboard does not wake for the watcher and a commit
is handed over as its first write lands (no polling step, no debounce: reads
coalesce in the app). Elsewhere, or when watchfiles is told to poll
(``WATCHFILES_FORCE_POLLING``), watchfiles' `RustNotify` does it from a thread
that looks every ``step_ms``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

from . import inotify
from .paths import STORE_FILES, file_identity

log = logging.getLogger(__name__)

WATCHED_NAMES = frozenset(STORE_FILES) | {"tasks.db-journal", "tau.db-journal", "tau.pid", "tau.sock"}
#: Without inotify: how often RustNotify's thread looks for changes (ms). A
#: change waits one to two steps; each look is a wake-up (~60 us on a small VM).
STEP_MS = 50
#: Without inotify: the longest a burst of changes is held back before yielding (ms).
DEBOUNCE_MS = 120


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.is_dir():
            return candidate
    return Path("/")


def _force_polling(force_polling: bool | None) -> bool:
    """watchfiles' own rule (`watchfiles.main._default_force_polling`): the
    argument, else ``WATCHFILES_FORCE_POLLING``, else polling on WSL. Spelled
    here so that a watcher on inotify never loads watchfiles (a tenth of each
    start's imports; every remote feed pays it at each connect)."""
    if force_polling is not None:
        return force_polling
    env = os.getenv("WATCHFILES_FORCE_POLLING")
    if env:
        return env.lower() not in {"false", "disable", "disabled"}
    uname = os.uname()
    return "microsoft-standard" in uname.release.lower() and uname.sysname.lower() == "linux"


async def poll_ticks(seconds: float, stop: asyncio.Event) -> AsyncIterator[set[str]]:
    """``--poll``: no events at all, just an empty batch every ``seconds``."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            yield set()


async def _changes(
    paths: list[Path], stop: asyncio.Event, *, tick_seconds: float, step_ms: int,
    debounce_ms: int, force_polling: bool | None,
) -> AsyncIterator[set[tuple[int, str]]]:
    """Raw (change, path) batches; ``set()`` every tick."""
    polling = _force_polling(force_polling)
    if inotify.available(polling):
        async for raw in inotify.inotify_changes(paths, stop, tick_seconds=tick_seconds):
            yield raw
        return
    from watchfiles._rust_notify import RustNotify
    from watchfiles.main import (
        _default_debug,
        _default_ignore_permission_denied,
        _default_poll_delay_ms,
    )

    # Set up as awatch sets it up: the same defaults and WATCHFILES_* variables
    # (force polling on WSL or when asked, poll delay, debug, permission errors).
    with RustNotify([str(p) for p in paths], _default_debug(None), polling,
                    _default_poll_delay_ms(300), False, _default_ignore_permission_denied(None)) as notify:
        while not stop.is_set():
            # A thread of its own: the wait blocks until a change, the tick or
            # the stop event (which the thread checks every step).
            raw = await asyncio.to_thread(notify.watch, debounce_ms, step_ms,
                                          int(tick_seconds * 1000), stop)
            if raw == "stop":
                return
            if raw in ("timeout", "signal"):
                yield set()
                continue
            yield raw


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

        def keep(path: str, _exists: bool = exists) -> bool:
            p = Path(path)
            if not _exists:
                return p == data_dir or data_dir.is_relative_to(p)
            return p.name in WATCHED_NAMES

        if exists:
            yield {"<attached>"}
        try:
            # Closed as soon as it is left: its watch (and inotify's descriptor) with it.
            async with contextlib.aclosing(_changes(
                    paths, stop, tick_seconds=tick_seconds, step_ms=step_ms,
                    debounce_ms=debounce_ms, force_polling=force_polling)) as source:
                async for raw in source:
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
