"""The watcher waits on the kernel, not on a clock (issue 22).

A dashboard left open all day must cost nothing while the store is quiet and
still show the first change after hours of quiet at once. The watcher's wait
is inotify's descriptor in the event loop's own wait: no thread polls for it,
the first commit after a quiet spell arrives as its write lands, and a stop
ends the wait at once (not at the next tick). Real files, a real writer
connection, real inotify events.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.harness import apoll
from tests.storekit import StoreKit
from tui.tau.watcher import watch_store

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")


def _waiting_threads() -> list[str]:
    """Threads of asyncio's executor that are inside a piece of work now (a
    blocking wait handed to a thread shows as its work item's ``run``)."""
    frames = sys._current_frames()
    out = []
    for t in threading.enumerate():
        frame = frames.get(t.ident or -1)
        if frame is not None and frame.f_code.co_name == "run" and \
                frame.f_code.co_filename.endswith("concurrent/futures/thread.py"):
            out.append(t.name)
    return out


async def test_a_quiet_watcher_holds_no_thread_and_a_change_after_the_quiet_arrives(kit: StoreKit) -> None:
    stop = asyncio.Event()
    batches: list[tuple[float, set[str]]] = []

    async def collect() -> None:
        async for batch in watch_store(kit.data_dir, stop, tick_seconds=60):
            batches.append((time.monotonic(), batch))

    task = asyncio.create_task(collect())
    try:
        await apoll(lambda: batches, what="the first batch")
        assert batches[0][1] == {"<attached>"}
        await asyncio.sleep(1.5)  # quiet: a stepping watcher would be at its slowest now
        # Waiting costs no thread: nothing is inside a watchfiles wait.
        assert _waiting_threads() == []
        t0 = time.monotonic()
        kit.add_task(1, "after the quiet")
        await apoll(lambda: any("tasks.db-wal" in b for t, b in batches if t >= t0),
                    what="the change after the quiet", details=lambda: repr(batches))
    finally:
        # A stop ends the wait, though the tick is a minute away (a deadline, not a measure).
        stop.set()
        await asyncio.wait_for(task, 15)


async def test_the_data_dir_deleted_and_made_again_is_followed(tmp_path: Path) -> None:
    """The watch is on the directory: when tau's data dir is removed and made
    again (a reinstall), the watcher says so and attaches to the new one."""
    kit = StoreKit(tmp_path / "tau")
    stop = asyncio.Event()
    batches: list[set[str]] = []

    async def collect() -> None:
        async for batch in watch_store(kit.data_dir, stop, tick_seconds=60):
            batches.append(batch)

    task = asyncio.create_task(collect())
    try:
        await apoll(lambda: batches, what="the first batch")
        kit.close()
        n = len(batches)
        shutil.rmtree(kit.data_dir)
        await apoll(lambda: len(batches) > n, what="the deletion said", details=lambda: repr(batches))
        kit2 = StoreKit(kit.data_dir)
        try:
            await apoll(lambda: sum(1 for b in batches if b == {"<attached>"}) >= 2,
                        what="attached to the new directory", details=lambda: repr(batches))
            n = len(batches)
            kit2.add_task(7, "in the new store")
            await apoll(lambda: any("tasks.db-wal" in b for b in batches[n:]),
                        what="a commit in the new store", details=lambda: repr(batches))
        finally:
            kit2.close()
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
