"""What an operator on an 80x24 terminal sees: the `!` screen's wrapped lines
keep their column, and the task list gives no row to a horizontal scrollbar.

Real parts: a tau-shaped store written by another connection (StoreKit), the
real app under Pilot at 80x24.
"""

from __future__ import annotations

from tests.conftest import screen_text, wait_for_text, wait_until
from tests.harness import make_app
from tests.storekit import StoreKit
from tui.notify.settings import parse
from tui.ui.widgets.task_table import TaskTable

LONG = "Cache the compiled templates between requests so the dashboard stays fast"


async def test_a_wrapped_notification_stays_in_its_column_at_80x24(kit: StoreKit) -> None:
    kit.add_task(1, LONG, "active")
    app = make_app(kit, notify=parse({"osc9": False, "bell": False}))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.notifier.engine.baselined, what="the baseline")
        kit.set_state(1, "review")
        await wait_until(pilot, lambda: len(app.notifier.log) >= 1, what="the review notification")
        await pilot.press("exclamation_mark")
        text = await wait_for_text(pilot, app, "Notifications, newest first")
        lines = text.splitlines()
        log = lines[next(i for i, ln in enumerate(lines) if "Notifications, newest first" in ln):]
        row = next(i for i, ln in enumerate(log) if "task #1" in ln)
        start = log[row].index("task #1")
        more = log[row + 1]
        # The rest of the message goes on under its start, not under the time.
        assert more[:start].replace("│", "").strip() == "", (log[row], more)
        assert more[start:].strip() and more[start:].split()[0] in LONG, (log[row], more)


async def test_the_task_list_at_80x24_has_no_horizontal_scrollbar(kit: StoreKit) -> None:
    for i in range(1, 41):  # more rows than the screen: the vertical scrollbar takes a column
        kit.add_task(i, f"Task number {i} with a title", "ready")
    app = make_app(kit)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_text(pilot, app, "Task number 17")
        table = app.screen.query_one(TaskTable)
        await wait_until(pilot, lambda: table.show_vertical_scrollbar, what="the vertical scrollbar")
        await pilot.pause(0.2)
        assert not table.show_horizontal_scrollbar
        assert "Task number" in screen_text(app)


async def test_the_alerts_key_stays_in_the_footer_at_80x24(kit: StoreKit) -> None:
    """`!` is where what needs the operator is; at 80 columns the footer, which
    drops keys from the right, dropped it first."""
    kit.add_task(1, "Fix the parser", "active")
    app = make_app(kit)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_text(pilot, app, "Fix the parser")
        await wait_until(pilot, lambda: "! Alerts" in screen_text(app).splitlines()[-1],
                         what="! Alerts in the footer", timeout=5)
        footer = screen_text(app).splitlines()[-1]
        assert "q Quit" in footer and "? Help" in footer, footer


async def test_the_task_screen_says_its_fields_in_words_and_gives_the_title_its_room(kit: StoreKit) -> None:
    """tau's columns said as tau means them ('owner s2', 'filed by s1', 'merges
    into main', 'skips review'), never the column names; and at 80 columns the
    title runs to the line's end (before: cut at 40 characters, with a third
    of the line left empty)."""
    kit.add_task(1, LONG, "active", branch="tau/task-1-cache-the-compiled-templates-between-requests")
    kit.link(1, "s2", "worker")
    kit.add_session("s2")
    with kit._tx(kit.tasks) as c:  # noqa: SLF001 - what tau's task_update writes
        c.execute("UPDATE tasks SET session_id = 's2', filed_by_session_id = 's1', merge_target = 'main',"
                  " skip_review = 1 WHERE id = 1")
    app = make_app(kit)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_text(pilot, app, "Cache the compiled")
        await pilot.press("enter")
        text = await wait_for_text(pilot, app, "owner s2")
        assert "filed by s1" in text and "merges into main" in text and "skips review" in text
        assert "session_id" not in text and "merge_target" not in text and "skip_review" not in text
        title = next(ln for ln in text.splitlines() if "Cache the compiled" in ln)
        assert len(title.rstrip()) >= 76, title
