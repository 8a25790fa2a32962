"""Issue 23, phase 2: every host's tau in one view, the real app under Pilot.

Real parts: this machine's tau-shaped store with the stand-in server, and a
second one ("gpu1") read by a real ``sessiontop feed`` process behind the
same link code ssh uses (`LocalTransport`: no ssh here; tests/test_hosts_ssh.py
goes through a real sshd). What the screen shows of gpu1 is what tau on gpu1
would show for its rows and events (TAU.md §6): the phase from its server's
memory, the record from its disk; and ids are gpu1's own (gpu1 #1 is not
local #1).
"""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SENT_BY_THE_DASHBOARD
from tests.harness import flat, make_app, screen_text, wait_for, wait_for_all, wait_gone, wait_until
from tests.storekit import BASE_MS, StoreKit, assistant, user
from tests.test_streaming import Stream
from tui.hosts import Hosts
from tui.remote.source import RemoteSource
from tui.remote.ssh import LocalTransport
from tui.tau.store import Store
from tui.ui.screens.session import TranscriptScreen
from tui.ui.screens.task import TaskScreen
from tui.ui.screens.tasks import TaskListScreen
from tui.ui.widgets.task_table import TaskTable

SIZE = (140, 36)
QUICK = (0.3, 0.6)


def remote_fleet(k: StoreKit) -> None:
    """gpu1's tau: #42 active with a live worker (g1, thinking in the server's
    memory), and a #1 of its own, which is not this machine's #1."""
    k.add_task(42, "Train the tokenizer", "active", priority=1, updated_at=BASE_MS - 60_000)
    k.add_task(1, "Rent more GPUs", "ready", updated_at=BASE_MS - 3_600_000)
    k.link(42, "g1", "worker", BASE_MS - 600_000)
    k.add_session("g1", phase="sending request", tagline="tokenizing", created_at=BASE_MS - 600_000)
    k.add_messages("g1", [user("train the tokenizer on the new corpus"),
                          assistant("Loading the corpus shards.", tokens=400, cost=0.02)], BASE_MS - 300_000)
    k.live("g1", "Thinking")


@pytest.fixture
def gpu1(tmp_path: Path) -> Iterator[StoreKit]:
    k = StoreKit(tmp_path / "gpu1" / "tau")
    k.server_up()
    remote_fleet(k)
    yield k
    k.close()
    sent = {r.get("type") for r in k.server.requests}
    assert sent <= SENT_BY_THE_DASHBOARD, f"requests beyond the allowlist reached gpu1's tau: {sent}"


def hosts(local: StoreKit, remote: StoreKit, **kw: Any) -> Hosts:
    kw.setdefault("backoff", QUICK)
    source = RemoteSource(LocalTransport("gpu1", str(remote.data_dir), str(remote.runtime_dir)), **kw)
    return Hosts(Store(local.data_dir, local.runtime_dir), [source])


@asynccontextmanager
async def running(app: Any) -> AsyncIterator[Any]:
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_all(pilot, app, "Train the tokenizer", "Review the watcher debounce")
        yield pilot


def row(app: Any, host: str, task_id: int) -> str:
    """The line of the task list that shows ``host``'s task ``task_id``."""
    table = app.screen.query_one(TaskTable)
    return "".join(c.plain for c in table.get_row(f"t:{task_id}@{host}"))


async def test_both_hosts_rows_the_host_filter_and_ids_that_say_their_host(fleet: StoreKit, gpu1: StoreKit) -> None:
    app = make_app(hosts(fleet, gpu1))
    async with running(app) as pilot:
        text = screen_text(app)
        assert "Host" in text.splitlines()[1]  # the column, named in the header
        # Two #1s, one on each host: two rows, each with its host and its title.
        await wait_until(pilot, lambda: "Rent more GPUs" in row(app, "gpu1", 1), what="gpu1's #1")
        assert "Add retry to the dispatcher" in row(app, "local", 1) and "local" in row(app, "local", 1)
        # gpu1's #42: its server's word (thinking), counted as running
        await wait_until(pilot, lambda: "thinking" in row(app, "gpu1", 42), what="gpu1 #42 thinking")
        assert "gpu1" in row(app, "gpu1", 42)
        await pilot.press("slash")
        await pilot.press(*"host:gpu1")
        await wait_gone(pilot, app, "Review the watcher debounce")
        text = await wait_for_all(pilot, app, "Train the tokenizer", "Rent more GPUs")
        assert "Add retry to the dispatcher" not in text
        # The filter puts the cursor on its first match; the detail line names its host.
        await pilot.press("enter")
        await wait_for(pilot, app, "gpu1 #42 Train the tokenizer")
        await pilot.press("enter")
        await wait_for_all(pilot, app, "gpu1 #42", "Sessions (1, 1 live)", "tokenizing")
        assert isinstance(app.screen, TaskScreen) and app.screen.host == "gpu1"


async def test_a_remote_task_and_its_transcript_with_the_turn_streaming_there(fleet: StoreKit,
                                                                            gpu1: StoreKit) -> None:
    app = make_app(hosts(fleet, gpu1))
    async with running(app) as pilot:
        assert app.screen.select_task(42, "gpu1")
        await pilot.press("enter")
        await wait_for_all(pilot, app, "gpu1 #42", "Train the tokenizer", "worker", "g1", "thinking")
        await pilot.press("enter")
        await wait_for_all(pilot, app, "Session g1", "gpu1 #42 worker", "train the tokenizer on the new corpus",
                           "Loading the corpus shards.")
        assert isinstance(app.screen, TranscriptScreen) and app.screen.host == "gpu1"
        # gpu1's server streams the turn: the feed follows it (the open transcript's
        # session) and it reaches this screen before gpu1's tau stores anything.
        await wait_until(pilot, lambda: gpu1.server.subscriber_count("g1") >= 1, what="gpu1 subscribed")
        stream = Stream(gpu1, "g1", BASE_MS + 60_000)
        stream.block("text", ["Sharding by ", "language"])
        await wait_for_all(pilot, app, "streaming from tau's server", "Sharding by language")
        # Nothing of it is on this machine's server or store.
        assert fleet.server.subscriber_count("g1") == 0
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, TaskListScreen)


async def test_a_phase_change_and_a_stored_change_on_the_host_reach_the_screen(fleet: StoreKit,
                                                                               gpu1: StoreKit) -> None:
    app = make_app(hosts(fleet, gpu1))
    async with running(app) as pilot:
        await wait_until(pilot, lambda: "thinking" in row(app, "gpu1", 42), what="thinking")
        gpu1.live("g1", "Responding")  # gpu1's server memory only: its disk says "sending request"
        await wait_until(pilot, lambda: "working" in row(app, "gpu1", 42), what="gpu1 #42 working")
        assert "thinking" not in row(app, "gpu1", 42)
        gpu1.set_state(1, "active", at=BASE_MS + 1000)  # stored on gpu1
        await wait_until(pilot, lambda: "active" in row(app, "gpu1", 1), what="gpu1 #1 active")
        assert "ready" in row(app, "local", 5)  # this machine's rows are its own


async def test_a_cut_link_keeps_the_hosts_rows_stale_with_their_age_then_it_comes_back(
        fleet: StoreKit, gpu1: StoreKit) -> None:
    # The next try is far off: the reconnecting state holds until the operator's
    # `r` (no window of wall-clock time to see it in; the link coming back by
    # itself after its backoff: test_remote_faults, test_remote_ssh).
    app = make_app(hosts(fleet, gpu1, backoff=(600.0,)))
    async with running(app) as pilot:
        source = app.store.remotes["gpu1"]
        await wait_for(pilot, app, "● gpu1")
        os.kill(source.link.pid, signal.SIGKILL)  # the feed dies (a host that crashed, a cut link)
        text = await wait_for(pilot, app, "gpu1: reconnecting")
        assert "next try in" in text and "its 2 tasks shown are stale, from" in text
        assert "⟳ gpu1" in text
        # The last good rows stay on screen.
        assert "Train the tokenizer" in row(app, "gpu1", 42)
        # The UI does not wait on the host: this machine's rows still follow its store.
        fleet.set_state(5, "failed", at=BASE_MS + 2000)
        await wait_until(pilot, lambda: "failed" in row(app, "local", 5), what="local #5 failed")
        # `r` tries the waiting link now: it comes back; the warning goes.
        await pilot.press("r")
        await wait_gone(pilot, app, "gpu1: reconnecting", timeout=30)
        await wait_for(pilot, app, "● gpu1")
        assert "stale" not in flat(screen_text(app))
        gpu1.live("g1", "ToolExec")
        await wait_until(pilot, lambda: "running tools" in row(app, "gpu1", 42), what="live again")


async def test_a_hosts_notification_is_told_with_its_name_and_its_stall_is_on_its_own_row(
        fleet: StoreKit, gpu1: StoreKit, own_home: Path) -> None:
    # Stalls after a second of quiet, on both machines (the feed reads the same config).
    config = own_home / ".config" / "sessiontop" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[notify]\nstall_minutes = 0.02\n")
    app = make_app(hosts(fleet, gpu1))
    async with running(app) as pilot:
        source = app.store.remotes["gpu1"]
        await wait_until(pilot, lambda: source.mirror.complete, what="gpu1's list")
        gpu1.set_state(42, "failed", at=BASE_MS + 3000)
        told = lambda: [e for e in app.notifier.log if e.host == "gpu1" and e.kind == "task_state"]  # noqa: E731
        await wait_until(pilot, told, what="gpu1's event told")
        event = told()[0]  # ids read as the rows name them: gpu1's #42, not "gpu1: task #42"
        assert event.message == "gpu1 #42 'Train the tokenizer': active → failed"
        # This machine's own events say its name the same way.
        fleet.set_state(5, "failed", at=BASE_MS + 3000)
        mine = lambda: [e for e in app.notifier.log if e.host == "local" and e.kind == "task_state"]  # noqa: E731
        await wait_until(pilot, mine, what="this machine's event told")
        assert mine()[0].message.startswith("local #5 '") and mine()[0].message.endswith(": ready → failed")
        # gpu1's stalled session: marked on gpu1's #42 (gpu1's engine's word), on no other row.
        await wait_until(pilot, lambda: "stalled" in row(app, "gpu1", 42), what="gpu1 #42 stalled")
        assert "stalled" not in row(app, "gpu1", 1)
        # The `!` screen: the notification as told, and the stall under its own host's id.
        await pilot.press("exclamation_mark")
        text = await wait_for(pilot, app, "gpu1 #42 'Train the tokenizer': active → failed")
        assert "gpu1 #42 Train the tokenizer · g1 · quiet" in text
        await pilot.press("escape")


async def test_hosts_only_no_local_store(gpu1: StoreKit) -> None:
    """--no-local: only the host; this machine is not read at all."""
    source = RemoteSource(LocalTransport("gpu1", str(gpu1.data_dir), str(gpu1.runtime_dir)), backoff=QUICK)
    app = make_app(Hosts(None, [source], no_local="this machine has no tau (/nowhere does not exist)"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_all(pilot, app, "Train the tokenizer", "Rent more GPUs", "● gpu1")
        text = flat(screen_text(app))
        assert "this machine has no tau" in text and "– local" in text
        await pilot.press("enter")  # the first row: gpu1's #42 (newest activity)
        await wait_for_all(pilot, app, "gpu1 #42", "tokenizing")


async def test_what_a_host_sends_is_shown_literally(fleet: StoreKit, gpu1: StoreKit) -> None:
    gpu1.add_task(7, "[@click=app.quit]quit[/] \x1b[31mred\x1b[0m \u202eevil", "active", updated_at=BASE_MS)
    app = make_app(hosts(fleet, gpu1))
    async with running(app) as pilot:
        await wait_until(pilot, lambda: "[@click=app.quit]quit[/]" in (row(app, "gpu1", 7) or ""),
                         what="the title as written")
        text = row(app, "gpu1", 7)
        assert "\\x1b[31mred" in text and "\x1b" not in text
        assert app.screen.select_task(7, "gpu1")
        await pilot.press("enter")  # a click action in a title is text, not an action
        await wait_for(pilot, app, "gpu1 #7")
        await wait_for(pilot, app, "\\u202eevil")  # the task screen's title, in full
        assert app.is_running and "\u202e" not in screen_text(app)
