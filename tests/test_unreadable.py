"""A store that cannot be read says why, in one line, on the dashboard and
from `list` and `watch`; their exit status tells a broken store (1) from a
usage mistake (2).

Permission tests run the real program as root without the capabilities that
let root read any file (faultkit drops CAP_DAC_OVERRIDE and
CAP_DAC_READ_SEARCH before exec), so file modes apply to it as to any user.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.faultkit import _drop_dac, can_drop_dac, flat, render_in_subprocess
from tests.ptykit import REPO
from tests.storekit import StoreKit, fixed_fleet

needs_dac_drop = pytest.mark.skipif(not can_drop_dac(), reason="needs root on Linux to drop CAP_DAC_OVERRIDE")


def run_cli(*args: str, drop_dac: bool = False, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                          preexec_fn=_drop_dac if drop_dac else None)


def one_line(run: subprocess.CompletedProcess[str], status: int) -> str:
    """The run failed with ``status``, said so in one line, printed nothing."""
    assert run.returncode == status, (run.returncode, run.stdout[-500:], run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sessiontop"), run.stderr
    assert not run.stdout and "Traceback" not in run.stderr
    assert "see below" not in lines[0], "the dashboard's wording: a script has no status line"
    return lines[0]


@contextmanager
def mode(path: Path, bits: int) -> Iterator[None]:
    before = path.stat().st_mode & 0o7777
    path.chmod(bits)
    try:
        yield
    finally:
        path.chmod(before)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StoreKit]:
    """The fixed fleet, its writer closed (the store at rest)."""
    kit = StoreKit(tmp_path / "tau")
    fixed_fleet(kit)
    kit.close()
    yield kit


# --- permission denied -----------------------------------------------------------------------


@needs_dac_drop
def test_an_unreadable_data_dir_is_said_on_the_dashboard(fleet: StoreKit) -> None:
    """It said "no tau store yet", as if tau had never run there."""
    with mode(fleet.data_dir, 0o000):
        run = render_in_subprocess(fleet.data_dir, fleet.runtime_dir, drop_dac=True,
                                   until=("permission denied",))
    assert run.returncode == 0, run.stderr
    text = flat(run.stdout)
    assert f"{fleet.data_dir}: permission denied (run as tau's user" in text
    assert "no tau store" not in text


@needs_dac_drop
def test_an_unreadable_runtime_dir_is_not_another_users_server(fleet: StoreKit) -> None:
    """The socket cannot be reached because its directory withholds search
    permission: that is not "belongs to another user"."""
    with mode(fleet.runtime_dir, 0o000):
        run = render_in_subprocess(fleet.data_dir, fleet.runtime_dir, drop_dac=True,
                                   until=("permission denied", "phases shown are the persisted"))
    assert run.returncode == 0, run.stderr
    text = flat(run.stdout)
    assert f"{fleet.runtime_dir}: permission denied" in text
    assert "another user" not in text


@needs_dac_drop
@pytest.mark.parametrize("command", ["list", "watch"])
def test_list_and_watch_say_permission_denied(store: StoreKit, command: str) -> None:
    with mode(store.data_dir, 0o000):
        run = run_cli(command, "--data-dir", str(store.data_dir), drop_dac=True)
    line = one_line(run, 1)
    assert f"{store.data_dir}: permission denied" in line


# --- a bad store, a missing task, a usage mistake ----------------------------------------------


@pytest.mark.parametrize("command", [["list"], ["list", "--json"], ["watch"], ["watch", "--json"]])
def test_a_corrupt_tasks_db_is_named_with_its_reason(store: StoreKit, command: list[str]) -> None:
    tasks_db = store.data_dir / "tasks.db"
    for side in ("-wal", "-shm"):
        Path(f"{tasks_db}{side}").unlink(missing_ok=True)
    tasks_db.write_bytes(os.urandom(32768))
    line = one_line(run_cli(*command, "--data-dir", str(store.data_dir)), 1)
    assert line == ("sessiontop: tasks.db: not an SQLite database "
                    "(corrupt, truncated, or another kind of file)")


def test_a_corrupt_tau_db_fails_list_rather_than_drop_the_sessions(store: StoreKit) -> None:
    tau_db = store.data_dir / "tau.db"
    for side in ("-wal", "-shm"):
        Path(f"{tau_db}{side}").unlink(missing_ok=True)
    tau_db.write_bytes(os.urandom(32768))
    line = one_line(run_cli("list", "--json", "--data-dir", str(store.data_dir)), 1)
    assert line.startswith("sessiontop: tau.db: not an SQLite database")


@pytest.mark.parametrize("where", ["missing", "empty"])
def test_no_store_is_said_as_what_it_is(tmp_path: Path, where: str) -> None:
    data_dir = tmp_path / "tau"
    if where == "empty":
        data_dir.mkdir()
    line = one_line(run_cli("list", "--data-dir", str(data_dir)), 1)
    assert (f"{data_dir} does not exist" if where == "missing"
            else f"no tau store in {data_dir} yet") in line


def test_list_of_a_task_that_is_not_there_fails(store: StoreKit) -> None:
    line = one_line(run_cli("list", "--json", "9999", "--data-dir", str(store.data_dir)), 1)
    assert line == "sessiontop: no task #9999"
    # One there, one not: the one there is printed, and the status says the other.
    run = run_cli("list", "--json", "1", "9999", "--data-dir", str(store.data_dir))
    assert run.returncode == 1 and run.stderr.strip() == "sessiontop: no task #9999"
    assert [t["id"] for t in json.loads(run.stdout)["tasks"]] == [1]


@pytest.mark.parametrize("args", [["list", "one"], ["list", "--bogus"], ["watch", "--since", "never"],
                                  ["watch", "--since"]])
def test_a_usage_mistake_is_status_2_in_one_line(store: StoreKit, args: list[str]) -> None:
    line = one_line(run_cli(*args, "--data-dir", str(store.data_dir)), 2)
    assert line.startswith("sessiontop")
