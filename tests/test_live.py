"""How the dashboard keeps up: events, coalescing, data_version, ticks, polling.

Real watchfiles events on a real store written by another connection; the
assertions are about what the operator sees and how often the store is read,
never about how fast (timing lives in the benchmark).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXED_NOW
from tests.harness import (
    apoll,
    caught_up,
    make_app,
    refresher_passes,
    screen_text,
    wait_for_all,
    wait_for_text,
    wait_until,
    watched,
)
from tests.storekit import StoreKit, user
from tui.tau.watcher import watch_store
from tui.ui.app import RECHECK_DELAYS

SIZE = (120, 34)


async def test_a_burst_of_commits_coalesces_into_few_reads(fleet: StoreKit) -> None:
    app = make_app(fleet)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Review the watcher debounce")
        before = app.applied
        # 61 commits in a row, the event loop not running meanwhile: they reach
        # the app together, however fast this machine is, and make a read or two
        # (a start-up read or the server's first answers may add a few).
        for i in range(60):
            fleet.add_message("s3", user(f"burst {i}"))
        fleet.tasks.execute("UPDATE tasks SET title='After the burst' WHERE id=1")
        await wait_for_text(pilot, app, "After the burst")
        reads = app.applied - before
        assert 1 <= reads < 30, f"{reads} reads for 61 commits"


async def test_a_change_that_is_not_data_costs_no_read(fleet: StoreKit) -> None:
    app = make_app(fleet)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Review the watcher debounce")
        passes = refresher_passes(app)
        await caught_up(pilot, app, passes)
        looked = len(passes)
        for _ in range(5):
            # The watcher sees these files change, but no transaction committed.
            os.utime(fleet.data_dir / "tau.db-wal")
            os.utime(fleet.data_dir / "tasks.db")
        # The events reached the refresher: it looked (and found nothing new).
        await wait_until(pilot, lambda: False in passes[looked:], what="a look after the events")
        # The scenario: the looks again that a file event with no visible commit
        # schedules (up to RECHECK_DELAYS[-1] later) all find nothing either.
        await pilot.pause(RECHECK_DELAYS[-1] + 0.3)
        assert True not in passes[looked:], passes[looked:]
        applied = app.applied
        fleet.run("s5", "compacting")
        await wait_for_text(pilot, app, "compacting")
        assert app.applied == applied + 1


async def test_ages_tick_without_reading_the_store(fleet: StoreKit) -> None:
    """The once-a-second tick moves ages on screen from the clock alone: it
    neither reads the store nor asks for a read. (The app's own timer is off
    here: the test ticks, so no read the server's answers cause is counted.)"""
    now = [FIXED_NOW]
    app = make_app(fleet, clock=lambda: now[0], tick=False)
    async with app.run_test(size=SIZE) as pilot:
        text = await wait_for_text(pilot, app, "Review the watcher debounce")
        assert " 2m " in text + " "
        asked: list[object] = []
        refresh, store = app.request_refresh, app.store
        app.request_refresh = lambda **kw: (asked.append(kw), refresh(**kw))  # type: ignore[method-assign]
        for name in ("data_versions", "read_task_list", "read_task", "read_transcript"):
            real = getattr(store, name)
            setattr(store, name, lambda *a, _n=name, _r=real, **k: (asked.append(_n), _r(*a, **k))[1])
        now[0] += 3600
        app._tick()  # noqa: SLF001 - what the 1 s timer calls
        assert asked == [], asked
        app.request_refresh = refresh  # type: ignore[method-assign]
        await wait_until(pilot, lambda: "1h" in screen_text(app).splitlines()[3],
                         what="the age of task 2 to tick to 1h")


async def test_poll_mode_sees_changes_without_events(fleet: StoreKit) -> None:
    app = make_app(fleet, poll=0.3)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "polling every 0.3s")
        fleet.tasks.execute("UPDATE tasks SET title='Seen by polling' WHERE id=2")
        await wait_for_text(pilot, app, "Seen by polling")


async def test_watcher_reports_store_files_and_slow_ticks(kit: StoreKit) -> None:
    stop = asyncio.Event()
    batches: list[set[str]] = []

    async def collect() -> None:
        async for batch in watch_store(kit.data_dir, stop, tick_seconds=0.3):
            batches.append(batch)

    task = asyncio.create_task(collect())
    await apoll(lambda: watched(kit.data_dir), what="the watch on the data directory")
    (kit.data_dir / "unrelated.txt").write_text("not a store file")
    kit.add_task(1, "x")
    await apoll(lambda: any("tasks.db-wal" in b for b in batches), what="the commit's batch")
    await apoll(lambda: set() in batches, what="a slow tick")
    stop.set()
    await asyncio.wait_for(task, 10)
    names = set().union(*batches)
    assert "<attached>" in names and "tasks.db-wal" in names
    assert "unrelated.txt" not in names
    assert set() in batches  # the slow tick that backs up missing events


async def test_command_palette_jumps_to_a_task(fleet: StoreKit) -> None:
    app = make_app(fleet, clock=lambda: FIXED_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Review the watcher debounce")
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "CommandPalette", what="the palette")
        await pilot.press(*"flaky merge")
        await wait_for_text(pilot, app, "#6 Fix the flaky merge")
        await pilot.press("enter")
        await wait_for_all(pilot, app, "Sessions (1)", "panicked")


async def test_mouse_opens_tasks_and_sessions(fleet: StoreKit) -> None:
    app = make_app(fleet, clock=lambda: FIXED_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Review the watcher debounce")
        lines = screen_text(app).splitlines()
        row = next(i for i, line in enumerate(lines) if "Add retry to the dispatcher" in line)
        await pilot.click(offset=(40, row))
        await pilot.click(offset=(40, row))
        await wait_for_all(pilot, app, "Sessions (4, 2 live)", "creator")
        await pilot.click("SessionCard", times=2)
        await wait_for_text(pilot, app, "please add retry")


def test_cli_version_help_and_bad_arguments(tmp_path: Path) -> None:
    run = [sys.executable, "-m", "tui"]
    out = subprocess.run([*run, "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("sessiontop ")
    out = subprocess.run([*run, "--help"], capture_output=True, text=True, timeout=60)
    assert "--data-dir" in out.stdout and "--demo" in out.stdout and "--poll" in out.stdout
    out = subprocess.run([*run, "--poll", "0"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "--poll must be a number from 0.05 to 3600" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    out = subprocess.run([*run, "--data-dir", str(not_a_dir)], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2 and out.stderr.strip() == f"sessiontop: {not_a_dir} is not a directory"
    assert "Traceback" not in out.stderr

