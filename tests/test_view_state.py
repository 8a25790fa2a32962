"""The view state of a screen is reactive: whoever sets it, the screen follows.

The task list's sort, filter, live-only, fold and freeze, the task screen's
pane filters and the app's pause are Textual reactives whose watchers redraw
(and, for the pause, refresh the footer's bindings): no code path has to
remember a hand-written redraw. Set here from outside the keys, the real app
on a tau-shaped store (storekit) shows each change.
"""

from __future__ import annotations

from tests.conftest import FIXED_NOW
from tests.harness import make_app, screen_text, wait_for_text, wait_until
from tests.storekit import StoreKit
from tui.ui.screens.task import TaskScreen
from tui.ui.screens.tasks import TaskListScreen
from tui.ui.widgets.task_table import TaskTable


def title(app) -> str:  # type: ignore[no-untyped-def]
    return screen_text(app).splitlines()[0]


async def test_the_task_list_follows_its_view_state_set_by_any_code(fleet: StoreKit) -> None:
    app = make_app(fleet, clock=lambda: FIXED_NOW)
    async with app.run_test(size=(130, 36)) as pilot:
        await wait_for_text(pilot, app, "Add retry to the dispatcher")
        screen = app.screen
        assert isinstance(screen, TaskListScreen)
        screen.sort = "id"
        await wait_until(pilot, lambda: "[sort: id]" in title(app), what="sorted by id")
        screen.live_only = True
        await wait_until(pilot, lambda: "sort: id, live only" in title(app), what="live only")
        screen.needle = "no such task anywhere"
        await wait_for_text(pilot, app, "No task matches “no such task anywhere” among live tasks")
        screen.needle = ""
        screen.live_only = False
        await wait_for_text(pilot, app, "Add retry to the dispatcher")
        app.paused = True
        await wait_until(pilot, lambda: "PAUSED" in screen_text(app) and "p Resume" in screen_text(app),
                         what="paused: the status line and the footer say so")
        app.paused = False
        await wait_until(pilot, lambda: "PAUSED" not in screen_text(app) and "p Pause" in screen_text(app),
                         what="live again")


async def test_the_task_screen_follows_its_pane_filters_set_by_any_code(fleet: StoreKit) -> None:
    app = make_app(fleet, clock=lambda: FIXED_NOW)
    async with app.run_test(size=(130, 36)) as pilot:
        await wait_for_text(pilot, app, "Add retry to the dispatcher")
        app.open_task(1)
        await wait_for_text(pilot, app, "Sessions (")
        screen = app.screen
        assert isinstance(screen, TaskScreen)
        screen.sort = "role"
        await wait_for_text(pilot, app, "sort: role")
        screen.needle = "no such pane"
        await wait_for_text(pilot, app, "No sessions match.")


async def test_the_list_takes_the_keys_once_its_first_tasks_arrive(kit: StoreKit) -> None:
    """Started before tau filed any task (or on a store that could not be read),
    the list shows its message; when tasks arrive the arrow keys move the
    cursor at once, with no Esc or click first (the table had lost the focus
    while hidden, and ↓ did nothing)."""
    app = make_app(kit)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for_text(pilot, app, "No tasks in this store yet.")
        kit.add_task(1, "First task filed", "active")
        kit.add_task(2, "Second task filed", "active")
        await wait_for_text(pilot, app, "Second task filed")
        screen = app.screen
        assert isinstance(screen, TaskListScreen)
        table = screen.query_one(TaskTable)
        before = table.cursor_key()
        await pilot.press("down")
        await wait_until(pilot, lambda: table.cursor_key() != before, what="the cursor moved by ↓")
