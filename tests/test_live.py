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

from tests.conftest import FIXED_NOW, screen_text, wait_for_all, wait_for_text, wait_until
from tests.storekit import StoreKit, user
from tui.ui.app import SessionTopApp
from tui.tau.store import Store
from tui.tau.watcher import watch_store

SIZE = (120, 34)


def make_app(kit: StoreKit, **kwargs: object) -> SessionTopApp:
    return SessionTopApp(Store(kit.data_dir, kit.runtime_dir), **kwargs)  # type: ignore[arg-type]


async def test_a_burst_of_commits_coalesces_into_few_reads(fleet: StoreKit) -> None:
    app = make_app(fleet)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Review the watcher debounce")
        await pilot.pause(0.3)
        before = app.applied
        for i in range(60):
            fleet.add_message("s3", user(f"burst {i}"))
        fleet.tasks.execute("UPDATE tasks SET title='After the burst' WHERE id=1")
        await wait_for_text(pilot, app, "After the burst")
        await pilot.pause(0.5)
        reads = app.applied - before
        assert 1 <= reads < 30, f"{reads} reads for 61 commits"


async def test_a_change_that_is_not_data_costs_no_read(fleet: StoreKit) -> None:
    app = make_app(fleet)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Review the watcher debounce")
        await pilot.pause(0.5)
        before = app.applied
        for _ in range(5):
            # The watcher sees these files change, but no transaction committed.
            os.utime(fleet.data_dir / "tau.db-wal")
            os.utime(fleet.data_dir / "tasks.db")
            await pilot.pause(0.1)
        await pilot.pause(0.5)
        assert app.applied == before
        fleet.run("s5", "compacting")
        await wait_for_text(pilot, app, "compacting")
        assert app.applied == before + 1


async def test_ages_tick_without_reading_the_store(fleet: StoreKit) -> None:
    now = [FIXED_NOW]
    app = make_app(fleet, clock=lambda: now[0])
    async with app.run_test(size=SIZE) as pilot:
        text = await wait_for_text(pilot, app, "Review the watcher debounce")
        assert " 2m " in text + " "
        await pilot.pause(0.3)
        reads = app.applied
        now[0] += 3600
        await wait_until(pilot, lambda: "1h" in screen_text(app).splitlines()[3], timeout=5,
                         what="the age of task 2 to tick to 1h")
        assert app.applied == reads


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
    await asyncio.sleep(0.5)
    (kit.data_dir / "unrelated.txt").write_text("not a store file")
    kit.add_task(1, "x")
    for _ in range(100):
        if any("tasks.db-wal" in b for b in batches):
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 5)
    names = set().union(*batches)
    assert "<attached>" in names and "tasks.db-wal" in names
    assert "unrelated.txt" not in names
    assert set() in batches  # the slow tick that backs up missing events


async def test_command_palette_jumps_to_a_task(fleet: StoreKit) -> None:
    app = make_app(fleet, clock=lambda: FIXED_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Review the watcher debounce")
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
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

