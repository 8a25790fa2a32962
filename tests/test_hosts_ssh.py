"""Issue 23 end to end through a real OpenSSH server on 127.0.0.1: the app, and
``list --json`` / ``watch --json`` with a host.

`tests.test_remote_ssh.Sshd` makes the keys, ``known_hosts`` (host keys
checked, never /dev/null) and an sshd on a free port that reaches "gpu1"; the
remote command is this checkout's ``sessiontop``. The host's tau is a second
tau-shaped store with its own stand-in server; this machine's is the fixed
fleet. What each shows is what that host's tau would (TAU.md §6).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import make_app, wait_for_all, wait_until
from tests.storekit import BASE_MS, StoreKit
from tests.test_hosts_app import SIZE, remote_fleet, row
from tests.test_remote_ssh import QUICK, SESSIONTOP, SSHD, Sshd
from tests.test_scripts import Watch
from tui.hosts import Hosts
from tui.remote.source import RemoteSource
from tui.tau.store import Store

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not SSHD.exists(), reason="/usr/sbin/sshd is absent "
                                "(apt-get install openssh-server; CI installs it)")


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    d = Sshd(tmp_path / "ssh").start()
    yield d
    d.stop()


@pytest.fixture
def gpu1(tmp_path: Path) -> Iterator[StoreKit]:
    k = StoreKit(tmp_path / "gpu1" / "tau")
    k.server_up()
    remote_fleet(k)
    yield k
    k.close()


def configure(home: Path, sshd: Sshd, kit: StoreKit, name: str = "gpu1") -> None:
    """The operator's config: gpu1 through their ssh config, as the README has it."""
    path = home / ".config" / "sessiontop" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'[hosts.{name}]\nssh = "gpu1"\nssh_options = ["-F", "{sshd.ssh_config}"]\n'
                    f'command = "{SESSIONTOP}"\ndata_dir = "{kit.data_dir}"\nruntime_dir = "{kit.runtime_dir}"\n')


async def test_the_app_shows_a_host_through_ssh_live(fleet: StoreKit, gpu1: StoreKit, sshd: Sshd) -> None:
    source = RemoteSource(sshd.transport(gpu1), backoff=QUICK)
    app = make_app(Hosts(Store(fleet.data_dir, fleet.runtime_dir), [source]))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_all(pilot, app, "Train the tokenizer", "Review the watcher debounce", "● gpu1", timeout=60)
        await wait_until(pilot, lambda: "thinking" in row(app, "gpu1", 42), what="gpu1's server's word")
        gpu1.live("g1", "ToolExec")
        await wait_until(pilot, lambda: "running tools" in row(app, "gpu1", 42), what="the change, through ssh")
        gpu1.set_state(1, "failed", at=BASE_MS + 1000)
        await wait_until(pilot, lambda: "failed" in row(app, "gpu1", 1), what="a stored change, through ssh")
        assert app.screen.select_task(42, "gpu1")
        await pilot.press("enter")
        await wait_for_all(pilot, app, "gpu1 #42", "tokenizing", "running tools")


def list_json(*args: str) -> tuple[int, dict, str]:
    proc = subprocess.run([sys.executable, "-m", "tui", "list", "--json", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    return proc.returncode, json.loads(proc.stdout) if proc.stdout else {}, proc.stderr


def test_list_json_puts_every_hosts_tasks_in_one_document(fleet: StoreKit, gpu1: StoreKit, sshd: Sshd,
                                                           own_home: Path) -> None:
    _, alone, _ = list_json("--data-dir", str(fleet.data_dir), "--runtime-dir", str(fleet.runtime_dir))
    assert "hosts" not in alone and all("host" not in t for t in alone["tasks"])  # no hosts: as before
    configure(own_home, sshd, gpu1)
    status, doc, err = list_json("--data-dir", str(fleet.data_dir), "--runtime-dir", str(fleet.runtime_dir))
    assert status == 0, err
    assert [h["host"] for h in doc["hosts"]] == ["local", "gpu1"]
    assert all(h["server"]["up"] for h in doc["hosts"])
    assert {(t["host"], t["id"]) for t in doc["tasks"]} == \
        {("local", t["id"]) for t in alone["tasks"]} | {("gpu1", 42), ("gpu1", 1)}
    mine = {t["id"]: t for t in doc["tasks"] if t["host"] == "local"}
    assert all({**t, "host": "local"} == mine[t["id"]] for t in alone["tasks"])
    there = next(t for t in doc["tasks"] if (t["host"], t["id"]) == ("gpu1", 42))
    # gpu1's record of g1, with its server's word on it (TaskSessionInfo as tau serialises it)
    assert there["title"] == "Train the tokenizer"
    assert [(s["session_id"], s["is_live"], s["last_phase"]) for s in there["sessions"]] == [("g1", True, "thinking")]
    # --no-local: the host alone; a task named is looked for on every host.
    status, doc, err = list_json("--no-local", "42")
    assert status == 0, err
    assert [h["host"] for h in doc["hosts"]] == ["gpu1"] and [t["id"] for t in doc["tasks"]] == [42]


def test_list_json_says_which_host_cannot_be_read_and_prints_the_rest(fleet: StoreKit, gpu1: StoreKit,
                                                                       sshd: Sshd, own_home: Path) -> None:
    configure(own_home, sshd, gpu1)
    sshd.stop()  # the host is down
    status, doc, err = list_json("--data-dir", str(fleet.data_dir), "--runtime-dir", str(fleet.runtime_dir))
    assert status == 1
    down = next(h for h in doc["hosts"] if h["host"] == "gpu1")
    assert "Connection refused" in down["error"] and "gpu1" in err and err.count("\n") == 1
    assert {t["host"] for t in doc["tasks"]} == {"local"} and doc["tasks"]


def test_watch_json_gives_each_hosts_lines_with_its_host(fleet: StoreKit, gpu1: StoreKit, sshd: Sshd,
                                                          own_home: Path) -> None:
    configure(own_home, sshd, gpu1)
    watch = Watch(fleet)  # (its first "watching" line is this machine's)
    try:
        watch.next_err("watching gpu1", timeout=60)
        gpu1.set_state(42, "failed", at=BASE_MS + 5000)
        there = watch.until("task_state", host="gpu1")
        assert (there["task_id"], there["old"], there["new"], there["notify"]) == (42, "active", "failed", "failed")
        fleet.set_state(5, "failed", at=BASE_MS + 6000)
        here = watch.until("task_state", host="local")
        assert (here["task_id"], here["new"]) == (5, "failed")
        assert all("host" in line for line in watch.seen)
    finally:
        watch.close()


def test_list_on_a_machine_without_tau_gives_its_hosts(gpu1: StoreKit, sshd: Sshd, own_home: Path) -> None:
    configure(own_home, sshd, gpu1)  # (this test's home has no tau data directory)
    status, doc, err = list_json()
    assert status == 0, err
    assert "this machine has no tau" in err and [h["host"] for h in doc["hosts"]] == ["gpu1"]
    assert {t["id"] for t in doc["tasks"]} == {42, 1}
