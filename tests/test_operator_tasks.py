"""The task list as an operator works it: a chosen sort and its reverse, a frozen order,
g/G, folds on every heading, the detail line, and columns that fit 60 and use 200."""

from __future__ import annotations

from tests.conftest import FIXED_NOW, screen_text, wait_for_all, wait_for_text, wait_until
from tests.harness import make_app
from tests.storekit import BASE_MS, StoreKit, user
from tui.ui.app import SessionTopApp
from tui.command.config import Config
from tui.model.groups import FINISHED_SHOWN
from tui.ui.screens.tasks import TaskListScreen
from tui.ui.widgets.task_table import TaskTable

SIZE = (120, 34)
#: Five active tasks: ids, priorities and activity each in another order.
ACTIVE = {11: ("Alpha task", 1, 5), 12: ("Bravo task", 3, 1), 13: ("Charlie task", 0, 4),
          14: ("Delta task", 2, 2), 15: ("Echo task", 4, 3)}  # id: (title, priority, minutes ago)


def active_store(kit: StoreKit) -> None:
    for task_id, (title, priority, minutes) in ACTIVE.items():
        kit.add_task(task_id, title, "active", priority=priority)
        kit.link(task_id, f"s{task_id}", "worker")
        kit.add_session(f"s{task_id}")
        kit.add_message(f"s{task_id}", user("go"), BASE_MS - minutes * 60_000)


def configured(kit: StoreKit, **config: object) -> SessionTopApp:
    """The app on the fixed clock with these config file settings."""
    return make_app(kit, clock=lambda: FIXED_NOW, config=Config(**config))  # type: ignore[arg-type]


def order(app: SessionTopApp, titles: list[str]) -> list[str]:
    """``titles`` in the order the screen shows them."""
    text = screen_text(app)
    return sorted(titles, key=text.index)


def table(app: SessionTopApp) -> TaskTable:
    return app.screen.query_one(TaskTable)


def header(app: SessionTopApp) -> str:
    return next(line for line in screen_text(app).splitlines() if "Title" in line)


TITLES = [title for title, _, _ in ACTIVE.values()]
BY_ID = [ACTIVE[i][0] for i in sorted(ACTIVE)]
BY_ACTIVITY = [t for t, _, m in sorted(ACTIVE.values(), key=lambda v: v[2])]


async def test_sort_by_a_chosen_column_and_reverse_it(kit: StoreKit) -> None:
    active_store(kit)
    app = configured(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_all(pilot, app, *TITLES)
        assert order(app, TITLES) == BY_ACTIVITY and "Last▼" in header(app)
        await pilot.press("s", "s")  # activity → priority → id
        await wait_until(pilot, lambda: order(app, TITLES) == BY_ID, what="sorted by id")
        assert "sort: id" in screen_text(app) and "#▼" in header(app)
        await pilot.press("S")
        await wait_until(pilot, lambda: order(app, TITLES) == BY_ID[::-1], what="reversed")
        assert "sort: id reversed" in screen_text(app) and "#▲" in header(app)
        await pilot.press("S")
        await wait_until(pilot, lambda: order(app, TITLES) == BY_ID, what="back")


async def test_the_config_sort_and_reverse_are_the_first_order(kit: StoreKit) -> None:
    active_store(kit)
    app = configured(kit, sort="priority", reverse=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_all(pilot, app, *TITLES)
        by_priority = [t for t, p, _ in sorted(ACTIVE.values(), key=lambda v: v[1])]  # low first
        assert order(app, TITLES) == by_priority and "sort: priority reversed" in screen_text(app)


async def test_a_frozen_order_holds_while_the_cells_change(kit: StoreKit) -> None:
    active_store(kit)
    app = configured(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_all(pilot, app, *TITLES)
        await pilot.press("j")  # the cursor on the second task (Delta)
        assert table(app).cursor_key() == "t:14"
        line = table(app).cursor_row - int(table(app).scroll_y)
        await pilot.press("F")
        await wait_for_text(pilot, app, "order frozen")
        assert "▼" not in header(app)  # no sort is in force
        # Echo, the last but one, gets the newest activity and a running turn
        kit.add_message("s15", user("newer"), BASE_MS)
        kit.run("s15", "compacting")
        await wait_for_text(pilot, app, "compacting")
        assert order(app, TITLES) == BY_ACTIVITY  # held: nobody moved
        assert table(app).cursor_key() == "t:14"
        assert table(app).cursor_row - int(table(app).scroll_y) == line
        # a task new since the freeze goes to the end of its group
        kit.add_task(16, "Foxtrot task", "active")
        await wait_for_text(pilot, app, "Foxtrot task")
        assert order(app, TITLES + ["Foxtrot task"])[-1] == "Foxtrot task"
        await pilot.press("F")  # sorted live again: Echo is the newest now
        await wait_until(pilot, lambda: order(app, TITLES)[0] == "Echo task", what="re-sorted")
        assert table(app).cursor_key() == "t:14"


async def test_g_and_G_go_to_the_first_and_last_rows(fleet: StoreKit) -> None:
    app = configured(fleet)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Review the watcher debounce")
        await pilot.press("G")
        assert table(app).cursor_key() == table(app)._rows[-1][0]
        await pilot.press("g")
        assert table(app).cursor_row == 0


async def test_every_group_heading_folds_and_unfolds(fleet: StoreKit) -> None:
    app = configured(fleet)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Review the watcher debounce")
        for heading, title in (("Active (2)", "Review the watcher debounce"),
                               ("Held (1)", "Refactor the session list"),
                               ("Finished (2)", "Rename the crate")):
            assert table(app).select_key(next(k for k, c in table(app)._rows
                                              if k.startswith("g:") and heading in c[0].plain))
            await pilot.press("enter")
            await wait_until(pilot, lambda: title not in screen_text(app), what=f"{heading} folded")
            assert f"▸  {heading}" in screen_text(app)
            await pilot.press("enter")
            await wait_for_text(pilot, app, title)
            assert f"▾  {heading}" in screen_text(app)


async def test_finished_never_folds_a_single_row(kit: StoreKit) -> None:
    for i in range(FINISHED_SHOWN + 1):
        kit.add_task(100 + i, f"Done thing {i}", "merged", updated_at=BASE_MS - i * 60_000)
    app = configured(kit)
    async with app.run_test(size=(120, 40)) as pilot:
        text = await wait_for_text(pilot, app, f"Done thing {FINISHED_SHOWN}")
        assert "more (Enter to show)" not in text
        kit.add_task(200, "Done thing new", "done", updated_at=BASE_MS)
        text = await wait_for_text(pilot, app, "▸ 2 more (Enter to show)")
        assert f"Done thing {FINISHED_SHOWN}" not in text


async def test_the_detail_line_tells_two_cut_titles_apart_at_80x24(kit: StoreKit) -> None:
    for task_id, branch in ((21, "task-21-orders"), (22, "task-22-invoices")):
        kit.add_task(task_id, f"Paginate the orders endpoint for the mobile client, part {task_id}",
                     "ready", branch=branch, updated_at=BASE_MS - task_id * 1000)
        kit.set_state(task_id, "active", at=BASE_MS - 120_000)
    app = configured(kit)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_text(pilot, app, "Paginate the orde")
        screen = app.screen
        assert isinstance(screen, TaskListScreen)
        text = await wait_for_text(pilot, app, "branch task-21-orders")
        lines = text.splitlines()
        # above the status line and the footer, after the rows' cut titles
        assert "Paginate the o…" in text and "part 21" not in "".join(lines[:-4])
        assert lines[-4].startswith(" #21 Paginate the orders endpoint for the mobile client, part 21")
        assert lines[-3].startswith(" active · tau · branch task-21-orders · ready→active 2m ago")
        await pilot.press("j")
        text = await wait_for_text(pilot, app, "branch task-22-invoices")
        assert "part 22" in text.splitlines()[-4]


async def test_columns_fit_60_and_give_200_to_what_was_cut(kit: StoreKit) -> None:
    kit.add_task(31, "A task whose title is rather long, long enough to be cut at 120", "active",
                 project="a-project-with-a-long-name")
    kit.link(31, "s31", "worker")
    kit.add_session("s31")
    kit.add_message("s31", user("go"), BASE_MS - 60_000)
    kit.run("s31", "sending request")
    app = configured(kit)
    async with app.run_test(size=(60, 24)) as pilot:
        text = await wait_for_text(pilot, app, "A task whose")
        head = header(app)
        assert head.rstrip().endswith("Last▼") and "Phase" in head and "State" in head
        row = next(line for line in text.splitlines() if "A task whose" in line)
        assert row.rstrip().endswith("1m")  # the Last column is on screen
        await pilot.resize_terminal(120, 30)
        await wait_until(pilot, lambda: "sending req" in screen_text(app)
                         and "sending request" not in screen_text(app), what="cut at 120")
        await pilot.resize_terminal(200, 30)
        await wait_for_all(pilot, app, "sending request", "a-project-with-a-long-name",
                           "long enough to be cut at 120")
