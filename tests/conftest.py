"""Shared fixtures: real tau-shaped stores on disk, and helpers to read the screen."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.storekit import BASE_MS, StoreKit, fixed_fleet

#: The fixed clock of the fixed fleet: "now" is BASE_MS.
FIXED_NOW = BASE_MS / 1000


#: What the dashboard may ever send tau (TAU.md §7.2, §7.6): the cheap read-only
#: requests it uses. Checked against what the stand-in server received in every test.
SENT_BY_THE_DASHBOARD = frozenset({"subscribe", "task_overview"})


@pytest.fixture
def kit(tmp_path: Path) -> Iterator[StoreKit]:
    """An empty tau store with a writer playing tau's server (server up)."""
    k = StoreKit(tmp_path / "tau")
    k.server_up()
    yield k
    k.close()
    sent = {r.get("type") for r in k.server.requests}
    assert sent <= SENT_BY_THE_DASHBOARD, f"requests beyond the allowlist reached tau: {sent}"


@pytest.fixture
def fleet(kit: StoreKit) -> StoreKit:
    """The small fixed fleet of `tests.storekit.fixed_fleet`."""
    fixed_fleet(kit)
    return kit


def screen_text(app) -> str:  # type: ignore[no-untyped-def]
    """What the terminal shows now, as plain text lines."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


async def wait_until(pilot, predicate: Callable[[], bool], timeout: float = 15.0,
                     what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    """Let the app run until ``predicate()`` holds; generous, not a timing test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def wait_for_text(pilot, app, text: str, timeout: float = 15.0) -> str:  # type: ignore[no-untyped-def]
    """Wait until ``text`` is on screen; return the screen."""
    await wait_until(pilot, lambda: text in screen_text(app), timeout, what=repr(text))
    return screen_text(app)


async def wait_for_all(pilot, app, *texts: str, timeout: float = 15.0) -> str:  # type: ignore[no-untyped-def]
    """Wait until every one of ``texts`` is on screen at once: a task screen's
    title is drawn a frame before the panes it counts are mounted."""
    await wait_until(pilot, lambda: all(t in screen_text(app) for t in texts), timeout,
                     what=" and ".join(map(repr, texts)))
    return screen_text(app)


async def wait_gone(pilot, app, text: str, timeout: float = 15.0) -> str:  # type: ignore[no-untyped-def]
    await wait_until(pilot, lambda: text not in screen_text(app), timeout, what=f"{text!r} to go")
    return screen_text(app)
