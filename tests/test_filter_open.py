"""Filter the task list, then Enter opens the first matching task, not the group
heading above it (which would fold the group instead).

Real parts: the fixed fleet in a tau-shaped store, the real app under Pilot.
"""

from __future__ import annotations

from tests.conftest import FIXED_NOW, wait_for_all, wait_for_text, wait_until
from tests.harness import make_app
from tests.storekit import StoreKit
from tui.ui.screens.task import TaskScreen
from tui.ui.screens.tasks import TaskListScreen
from tui.ui.widgets.task_table import TaskTable

SIZE = (120, 36)


async def test_filter_enter_enter_opens_the_first_match_not_its_heading(fleet: StoreKit) -> None:
    app = make_app(fleet, clock=lambda: FIXED_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Review the watcher debounce")
        table = app.screen.query_one(TaskTable)
        await pilot.press("g")  # on the first row: the Active heading
        assert table.cursor_key() == "g:active"
        # The match is in that same group: its heading stays listed above it.
        await pilot.press("slash", *"debounce", "enter")  # Enter keeps the filter, leaves the box
        await wait_until(pilot, lambda: table.cursor_key() == "t:2", what="the cursor on task 2")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, TaskScreen), what="task 2 opened")
        assert app.screen.task_id == 2  # type: ignore[attr-defined]
        await wait_for_all(pilot, app, "Review the watcher debounce", "reviewer")


async def test_a_narrower_filter_puts_the_cursor_on_its_first_match(fleet: StoreKit) -> None:
    """The cursor on a task that still matches but is not the first: Enter opens
    the first one listed (what the operator reads at the top of the filtered list)."""
    app = make_app(fleet, clock=lambda: FIXED_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Review the watcher debounce")
        table = app.screen.query_one(TaskTable)
        assert table.select_task(5)  # "Ship the docs", in Blocked, far down
        await pilot.press("slash", *"the", "enter")  # most titles have "the": Active's come first
        first = next(k for k, _ in table._rows if k.startswith("t:"))  # noqa: SLF001
        assert first != "t:5" and "t:5" in [k for k, _ in table._rows]  # noqa: SLF001
        await wait_until(pilot, lambda: table.cursor_key() == first, what="the first match")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, TaskScreen), what="task opened")
        assert f"t:{app.screen.task_id}" == first  # type: ignore[attr-defined]
        await pilot.press("escape")  # back: the filter is still there
        await wait_until(pilot, lambda: isinstance(app.screen, TaskListScreen), what="the list")
        assert app.screen.needle == "the"  # type: ignore[attr-defined]
