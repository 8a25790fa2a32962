"""A re-sorted list repaints every line that shows another task (issue 22).

When tau touches a task, the activity sort moves it to the top of its group;
the table then repaints only the lines on screen whose row changed (and the
cursor's old and new lines), not the whole table. The terminal must still show
the list in the table's order, each task once, the cursor on one line: what an
operator would see go wrong if a line were skipped (a task twice, one missing,
two cursors). Real store, written by tau's stand-in connection; the real app
driven by Pilot; the screen read as the compositor draws it.
"""

from __future__ import annotations

from tests.conftest import make_app, screen_text, wait_for_text, wait_until
from tests.harness import screen_strips
from tests.storekit import BASE_MS, StoreKit
from tests.test_view_at_top import forty_active_tasks
from tui.ui.widgets.task_table import TaskTable

SIZE = (120, 34)


def _shown_titles(app) -> list[str]:  # type: ignore[no-untyped-def]
    """The tasks the table's lines show, top to bottom (not the detail line's)."""
    region = app.screen.query_one(TaskTable).region
    lines = screen_text(app).splitlines()[region.y:region.bottom]
    return [ln.split("active task ")[1][:2] for ln in lines if "active task " in ln]


def _lit(app, table: TaskTable) -> list[str]:  # type: ignore[no-untyped-def]
    """The lines drawn in the cursor's colour."""
    cursor_bg = table.get_component_rich_style("tasktable--cursor").bgcolor
    return [strip.text for strip in screen_strips(app)
            if any(seg.style is not None and seg.style.bgcolor == cursor_bg
                   for seg in strip if seg.text.strip())]


async def test_a_task_moved_up_is_drawn_in_its_new_place_and_nowhere_else(kit: StoreKit) -> None:
    forty_active_tasks(kit)
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "active task 01")
        table = app.screen.query_one(TaskTable)
        await pilot.press(*"j" * 14)
        assert table.cursor_key() == "t:15" and table.scroll_y == 0
        # tau updates task 10 (its updated_at moves on): it sorts first in Active.
        kit.tasks.execute("UPDATE tasks SET updated_at=? WHERE id=?", (BASE_MS + 5_000, 10))
        await wait_until(pilot, lambda: _shown_titles(app)[:1] == ["10"],
                         what="task 10 drawn first")
        await pilot.pause()
        shown = _shown_titles(app)
        want = [key[2:].rjust(2, "0") for key, _ in table._rows if key.startswith("t:")]  # noqa: SLF001
        assert shown == want[:len(shown)] and len(shown) > 20
        assert shown[:12] == ["10", "01", "02", "03", "04", "05", "06", "07", "08", "09", "11", "12"]
        assert table.cursor_key() == "t:15"
        lit = _lit(app, table)
        assert len(lit) == 1 and "active task 15" in lit[0]
        # and again, the cursor's own task moved: the cursor goes with it
        kit.tasks.execute("UPDATE tasks SET updated_at=? WHERE id=?", (BASE_MS + 9_000, 15))
        await wait_until(pilot, lambda: _shown_titles(app)[:1] == ["15"], what="task 15 drawn first")
        await pilot.pause()
        shown = _shown_titles(app)
        assert shown[:4] == ["15", "10", "01", "02"] and shown.count("15") == 1
        lit = _lit(app, table)
        assert len(lit) == 1 and "active task 15" in lit[0]
