"""Issue 23: a host whose clock is off shows its ages right on this machine's clock.

Real parts: gpu1's tau-shaped store and its stand-in server, both on gpu1's
clock (two hours behind this one: the store written so, the server stamping
so), read by a real ``sessiontop feed`` process whose clock is as far off
(started with ``time.time`` moved back: the one thing faked, in the feed's
own process), behind the link code ssh uses. The link estimates the skew
from what the feed stamps; nothing of the link is mocked.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness import flat, make_app, screen_text, wait_for, wait_until
from tests.storekit import StoreKit
from tests.test_hosts_app import SIZE, row
from tui.hosts import Hosts
from tui.remote.source import RemoteSource
from tui.remote.ssh import LocalTransport
from tui.tau.store import Store
from tui.ui.screens.task import TaskScreen
from tui.ui.widgets.task_table import TaskTable

#: gpu1's clock: two hours behind this one.
OFFSET = -7200
#: gpu1's sessiontop: the feed, its clock as gpu1's.
FEED = (f"import sys, time; _t = time.time; time.time = lambda: _t() + {OFFSET}; "
        "from tui.cli import main; sys.exit(main())")


def age_shown(app: Any, task_id: int) -> str:
    """The Last column of gpu1's task ``task_id``."""
    return app.screen.query_one(TaskTable).get_row(f"t:{task_id}@gpu1")[-1].plain.strip()


def gpu1_now_ms() -> int:
    return int((time.time() + OFFSET) * 1000)


@pytest.fixture
def behind(tmp_path: Path) -> Iterator[StoreKit]:
    k = StoreKit(tmp_path / "gpu1" / "tau", server_clock=gpu1_now_ms)
    k.server_up()
    k.add_task(7, "Calibrate the clocks", "active", updated_at=gpu1_now_ms() - 300_000)  # 5 min ago there
    k.add_task(8, "Rack the new nodes", "ready", updated_at=gpu1_now_ms() - 3 * 3_600_000)  # 3 h ago there
    yield k
    k.close()


async def test_a_hosts_ages_are_right_on_this_clock_when_its_clock_is_off(fleet: StoreKit,
                                                                          behind: StoreKit) -> None:
    transport = LocalTransport("gpu1", str(behind.data_dir), str(behind.runtime_dir),
                               command=(sys.executable, "-c", FEED))
    source = RemoteSource(transport, backoff=(0.3, 0.6))
    app = make_app(Hosts(Store(fleet.data_dir, fleet.runtime_dir), [source]))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "Calibrate the clocks" in row(app, "gpu1", 7), what="gpu1's #7")
        assert source.clock_skew is not None and abs(source.clock_skew - OFFSET) < 5
        # Touched five minutes ago on gpu1's clock: five minutes ago here (not two hours and five).
        assert (age_shown(app, 7), age_shown(app, 8)) == ("5m", "3h")
        assert app.screen.select_task(7, "gpu1")
        await pilot.press("enter")
        text = await wait_for(pilot, app, "updated 5m ago")
        assert isinstance(app.screen, TaskScreen) and "gpu1 #7" in flat(screen_text(app)) and "2h" not in text
