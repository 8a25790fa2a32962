"""Issue 23: tau appearing on this machine after the dashboard started.

With hosts to show and no tau data directory here at the start, the
dashboard shows the hosts and says this machine has no tau yet; when tau
creates its data directory here (its first run), this machine joins the
view, as a dashboard of this machine alone waits for its store to appear.
Real parts: gpu1 behind a real feed process, this machine's store made by
another connection (as tau's first run makes it), the app's real watcher.
"""

from __future__ import annotations

from pathlib import Path

from tests.harness import flat, make_app, screen_text, wait_for, wait_for_all, wait_gone
from tests.storekit import StoreKit, fixed_fleet
from tests.test_hosts_app import QUICK, SIZE, gpu1, row  # noqa: F401 - gpu1 is a fixture
from tui.hosts import Hosts
from tui.remote.source import RemoteSource
from tui.remote.ssh import LocalTransport
from tui.tau.store import Store


async def test_this_machine_joins_the_view_when_tau_makes_its_data_directory(
        tmp_path: Path, gpu1: StoreKit) -> None:  # noqa: F811
    here = tmp_path / "home" / ".local" / "share" / "tau"  # not there: tau has not run here yet
    source = RemoteSource(LocalTransport("gpu1", str(gpu1.data_dir), str(gpu1.runtime_dir)), backoff=QUICK)
    app = make_app(Hosts(Store(here, here / "run"), [source],
                         no_local=f"this machine has no tau ({here} does not exist)"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_all(pilot, app, "Train the tokenizer", "● gpu1")
        text = flat(screen_text(app))
        assert "– local" in text and "this machine has no tau" in text and "once tau makes it" in text
        kit = StoreKit(here)  # tau's first run here: its data directory, its stores, its server
        try:
            fixed_fleet(kit)
            kit.server_up()
            await wait_for(pilot, app, "Review the watcher debounce")  # this machine's rows
            assert "Add retry to the dispatcher" in row(app, "local", 1)
            await wait_for(pilot, app, "● local")
            await wait_gone(pilot, app, "this machine has no tau")
            assert "Train the tokenizer" in row(app, "gpu1", 42)  # gpu1's rows as before
        finally:
            kit.close()
