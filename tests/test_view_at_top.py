"""A list shown from its top stays at its top (issue 22).

An operator who watches the task list from its top watches for new work: when
tau files tasks that sort above the cursor, the new rows must come into sight
there, and the cursor must stay on the task it was on. (A view scrolled down
the list follows the cursor's task instead: tests/test_app.py.) Real store,
written by tau's stand-in connection; the real app driven by Pilot.
"""

from __future__ import annotations

from tests.conftest import make_app, screen_text, wait_for_text, wait_until
from tests.storekit import BASE_MS, StoreKit
from tui.ui.widgets.task_table import TaskTable

SIZE = (120, 34)


def forty_active_tasks(kit: StoreKit) -> None:
    """Tasks 1-40, active, the lower the id the newer (the activity sort lists them in order)."""
    for i in range(1, 41):
        kit.add_task(i, f"active task {i:02d}", "active", updated_at=BASE_MS - i * 60_000)


async def test_new_tasks_above_the_cursor_come_into_sight_at_the_top(kit: StoreKit) -> None:
    forty_active_tasks(kit)
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "active task 01")
        table = app.screen.query_one(TaskTable)
        await pilot.press("j", "j", "j")
        assert table.cursor_key() == "t:4" and table.scroll_y == 0
        row_before = table.cursor_row
        # tau files two tasks, newer than any: they sort to the top of Active.
        kit.add_task(101, "fresh work one", "active", updated_at=BASE_MS + 1_000)
        kit.add_task(102, "fresh work two", "active", updated_at=BASE_MS + 2_000)
        await wait_until(pilot, lambda: table.cursor_row == row_before + 2,
                         what="the cursor's task two rows further down")
        assert table.cursor_key() == "t:4"  # the cursor kept its task
        # A frame later (a scroll would land then), the top is still on screen:
        # the heading and both new rows, above the cursor's task.
        await pilot.pause()
        await wait_until(pilot, lambda: "fresh work one" in screen_text(app)
                         and "fresh work two" in screen_text(app), what="both new rows on screen")
        text = screen_text(app)
        assert table.scroll_y == 0
        assert "Active" in text.split("fresh work two")[0]
        lines = text.splitlines()
        at = {title: next(n for n, ln in enumerate(lines) if title in ln)
              for title in ("fresh work two", "fresh work one", "active task 01", "active task 04")}
        assert at["fresh work two"] < at["fresh work one"] < at["active task 01"] < at["active task 04"]
