"""Snapshot tests of each level, from a fixed store and a fixed clock.

The store lives at a fixed path and its stand-in tau server runs on a fixed
clock, so the status line and the times in phases are the same on every
machine; times are shown in UTC.
Update after an intended change of the look with ``pytest --snapshot-update``.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import FIXED_NOW, wait_until
from tests.storekit import BASE_MS, StoreKit, fixed_fleet
from tui.ui.app import SessionTopApp
from tui.tau.store import Store

SNAP_DIR = Path("/tmp/sessiontop-snapshot-store")


@pytest.fixture
def fixed_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[SessionTopApp]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    shutil.rmtree(SNAP_DIR, ignore_errors=True)
    kit = StoreKit(SNAP_DIR / "tau", server_clock=lambda: BASE_MS - 95_000)
    kit.server_up()
    fixed_fleet(kit)
    app = SessionTopApp(Store(kit.data_dir, kit.runtime_dir), clock=lambda: FIXED_NOW,
                        watch=False, tick=False)
    yield app
    kit.close()
    shutil.rmtree(SNAP_DIR, ignore_errors=True)
    os.environ.pop("TZ", None)
    time.tzset()


async def _loaded(pilot) -> None:  # type: ignore[no-untyped-def]
    await wait_until(pilot, lambda: pilot.app.applied >= 1, what="first snapshot")
    # the detail line's read of the selected task (branch, latest transition)
    await wait_until(pilot, lambda: pilot.app.screen.detail_ready, what="the detail line")
    await pilot.pause(0.1)


async def _task_1(pilot) -> None:  # type: ignore[no-untyped-def]
    await _loaded(pilot)
    await pilot.press("j", "enter")
    await wait_until(pilot, lambda: pilot.app.applied >= 2, what="task screen")
    await pilot.pause(0.2)


async def _transcript(pilot) -> None:  # type: ignore[no-untyped-def]
    await _task_1(pilot)
    await pilot.press("right", "right", "enter")
    await wait_until(pilot, lambda: pilot.app.applied >= 3, what="transcript")
    await pilot.pause(0.3)


def test_task_list(snap_compare, fixed_app: SessionTopApp) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(fixed_app, terminal_size=(120, 30), run_before=_loaded)


def test_task_list_80x24(snap_compare, fixed_app: SessionTopApp) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(fixed_app, terminal_size=(80, 24), run_before=_loaded)


def test_task_screen(snap_compare, fixed_app: SessionTopApp) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(fixed_app, terminal_size=(120, 36), run_before=_task_1)


def test_transcript(snap_compare, fixed_app: SessionTopApp) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(fixed_app, terminal_size=(120, 36), run_before=_transcript)


def test_help(snap_compare, fixed_app: SessionTopApp) -> None:  # type: ignore[no-untyped-def]
    async def help_screen(pilot) -> None:  # type: ignore[no-untyped-def]
        await _loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.2)

    assert snap_compare(fixed_app, terminal_size=(100, 40), run_before=help_screen)
