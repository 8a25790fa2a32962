"""Snapshot tests of each level, from a fixed store and a fixed clock.

The store lives in the test's own temporary directory, named by a relative
path (the working directory is that temporary directory), and its
stand-in tau server runs on a fixed clock, so the status line and the times in
phases are the same on every machine and two runs never share a store; times
are shown in UTC. Each picture is taken once what it shows is on screen.
Update after an intended change of the look with ``pytest --snapshot-update``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import FIXED_NOW
from tests.harness import make_app, screen_text, wait_until
from tests.storekit import BASE_MS, StoreKit, fixed_fleet
from tui.notify.settings import parse as notify_settings
from tui.ui.app import SessionTopApp


@pytest.fixture
def fixed_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[SessionTopApp]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.chdir(tmp_path)
    kit = StoreKit(Path("sessiontop-snapshot-store") / "tau", server_clock=lambda: BASE_MS - 95_000)
    kit.server_up()
    fixed_fleet(kit)
    # The notifier judges stalls by the wall clock, which a picture taken at a
    # fixed "now" (and a server whose clock stands months back) cannot share:
    # stalls are off here (their marks have tests of their own).
    app = make_app(kit, clock=lambda: FIXED_NOW, watch=False, tick=False,
                   notify=notify_settings({"stall_minutes": {"default": 10**9}}))
    yield app
    kit.close()
    os.environ.pop("TZ", None)
    time.tzset()


async def _shows(pilot, *texts: str) -> None:  # type: ignore[no-untyped-def]
    """Until every one of ``texts`` is drawn, then the frames in flight are let through."""
    await wait_until(pilot, lambda: all(t in screen_text(pilot.app) for t in texts),
                     what=" and ".join(map(repr, texts)))
    await pilot.pause()


async def _loaded(pilot) -> None:  # type: ignore[no-untyped-def]
    await wait_until(pilot, lambda: pilot.app.applied >= 1, what="first snapshot")
    # the detail line's read of the selected task (branch, latest transition)
    await wait_until(pilot, lambda: pilot.app.screen.detail_ready, what="the detail line")
    await _shows(pilot, "Old cleanup", "review · tau", "live from tau server")


async def _task_1(pilot) -> None:  # type: ignore[no-untyped-def]
    await _loaded(pilot)
    await pilot.press("j", "enter")
    await wait_until(pilot, lambda: pilot.app.applied >= 2, what="task screen")
    await _shows(pilot, "Sessions (4, 2 live)", "write tests for retry", "bash: exit 101")


async def _transcript(pilot) -> None:  # type: ignore[no-untyped-def]
    await _task_1(pilot)
    await pilot.press("right", "right", "enter")
    await wait_until(pilot, lambda: pilot.app.applied >= 3, what="transcript")
    await _shows(pilot, "implement retry with backoff", "error: test failed")


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
        await _shows(pilot, "sessiontop: keys", "Everywhere")

    assert snap_compare(fixed_app, terminal_size=(100, 40), run_before=help_screen)
