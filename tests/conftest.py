"""Shared fixtures: real tau-shaped stores on disk, every test in its own home.

The helpers to wait and to read the screen live in `tests.harness` (one of
each); they are importable from here too, as they always were.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import (  # noqa: F401 - re-exported for the tests
    flat,
    make_app,
    screen_text,
    wait_for,
    wait_for_all,
    wait_for_text,
    wait_gone,
    wait_until,
)
from tests.storekit import BASE_MS, StoreKit, fixed_fleet

#: The fixed clock of the fixed fleet: "now" is BASE_MS.
FIXED_NOW = BASE_MS / 1000

#: What the dashboard may ever send tau (TAU.md §7.2, §7.6): the cheap read-only
#: requests it uses. Checked against what the stand-in server received in every test.
SENT_BY_THE_DASHBOARD = frozenset({"subscribe", "task_overview"})

#: Where a program looks for the operator's files, each pointed at a test's own
#: directory: the config file (and its notify_command), tau's data and socket.
HOME_VARIABLES = ("HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR", "XDG_DATA_HOME", "XDG_STATE_HOME")
#: Set when the tests run inside tmux, or by the developer's shell: not a test's business.
FOREIGN_VARIABLES = ("TMUX", "TMUX_PANE", "TEXTUAL", "NO_COLOR")


@pytest.fixture(autouse=True)
def own_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test runs with HOME and the XDG directories in a fresh temporary
    directory, and so does every process it starts (they inherit the
    environment): the developer's own ~/.config/sessiontop/config.toml (its
    notify_command, its theme), tau's real store and socket are never read,
    and a theme a test chooses is never written over the developer's."""
    base = tmp_path_factory.mktemp("home")
    dirs = {"HOME": base, "XDG_CONFIG_HOME": base / ".config", "XDG_RUNTIME_DIR": base / "run",
            "XDG_DATA_HOME": base / ".local" / "share", "XDG_STATE_HOME": base / ".local" / "state"}
    for name, path in dirs.items():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(path))
    for name in FOREIGN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return base


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


__all__ = ["FIXED_NOW", "SENT_BY_THE_DASHBOARD", "flat", "make_app", "screen_text", "wait_for",
           "wait_for_all", "wait_for_text", "wait_gone", "wait_until"]
