"""Issue 23: the UI never blocks on a host. A host whose feed stops answering
(SIGSTOP: its link is still up, nothing comes back) holds up no other
source's changes and no other screen.

Real parts as in test_hosts_app: this machine's store with the stand-in
server, and gpu1 read by a real ``sessiontop feed`` process behind the link
code ssh uses; the feed is stopped with a real signal.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from tests.harness import flat, make_app, wait_for, wait_for_all, wait_until
from tests.storekit import BASE_MS, StoreKit
from tests.test_hosts_app import gpu1, hosts, row, running  # noqa: F401 - gpu1 is a fixture
from tui.hosts import Hosts
from tui.remote.source import RemoteSource
from tui.remote.ssh import LocalTransport
from tui.tau.store import Store
from tui.ui.screens.task import TaskScreen
from tui.ui.screens.tasks import TaskListScreen

#: Far under the 20 s a read of a stalled host could wait before, far over
#: what a change takes to reach the screen (tens of ms): generous.
DEADLINE = 10.0


@contextmanager
def stopped(source: RemoteSource) -> Iterator[int]:
    """The host's feed stopped (its link up: it just says nothing), then let go."""
    pid = source.link.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        yield pid
    finally:
        with suppress(ProcessLookupError):  # (the link may have ended it meanwhile)
            os.kill(pid, signal.SIGCONT)


async def test_a_stalled_host_keeps_its_screen_stale_and_holds_up_nothing_else(
        fleet: StoreKit, gpu1: StoreKit) -> None:  # noqa: F811
    app = make_app(hosts(fleet, gpu1))
    async with running(app) as pilot:
        source = app.store.remotes["gpu1"]
        assert app.screen.select_task(42, "gpu1")
        await pilot.press("enter")
        await wait_for_all(pilot, app, "gpu1 #42", "tokenizing")
        with stopped(source):
            await pilot.press("r")  # a read of gpu1's task: asked, never answered
            text = await wait_for(pilot, app, "gpu1 did not answer in", timeout=DEADLINE)
            assert "stale since" in text and "tokenizing" in text  # the last good data stays
            assert source.link_state.state == "live"  # (its heartbeats are not due yet)
            await pilot.press("r")  # again: a read under way when the operator leaves
            await pilot.press("escape")
            assert isinstance(app.screen, TaskListScreen)
            # This machine's changes reach the screen while gpu1 still says nothing.
            fleet.set_state(5, "failed", at=BASE_MS + 2000)
            await wait_until(pilot, lambda: "failed" in row(app, "local", 5), DEADLINE, what="local #5 failed")
            fleet.live("s3", "Responding")  # and a phase change tau's server pushes
            await wait_until(pilot, lambda: "working" in row(app, "local", 1), DEADLINE, what="local #1 working")
            assert "Train the tokenizer" in row(app, "gpu1", 42)  # gpu1's last good row stays listed


async def test_a_lagging_host_says_so_at_once_when_its_task_is_opened(fleet: StoreKit, gpu1: StoreKit) -> None:  # noqa: F811
    source = RemoteSource(LocalTransport("gpu1", str(gpu1.data_dir), str(gpu1.runtime_dir),
                                         feed_options=("--heartbeat", "0.5")), backoff=(30.0,))
    app = make_app(Hosts(Store(fleet.data_dir, fleet.runtime_dir), [source]))
    async with running(app) as pilot:
        with stopped(source):
            await wait_for(pilot, app, "gpu1: lagging", timeout=DEADLINE)
            assert app.screen.select_task(1, "gpu1")
            await pilot.press("enter")
            # Not live: the read is not even sent; the screen says why, in the link's words.
            text = await wait_for(pilot, app, "⚠ stale since", timeout=DEADLINE)
            assert isinstance(app.screen, TaskScreen) and "gpu1: lagging (no word for" in flat(text)
