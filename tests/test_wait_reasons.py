"""Why a queued task waits, in tau's scheduler's words (TAU.md §7.3 task_overview).

The demo's stand-in classifies tasks as tau's ``get_status`` does, from the
same tasks.db the test writes; the app asks it over the real socket. Each
reason below is what tau's own task picker would show for these rows.
"""

from __future__ import annotations

from tests.conftest import screen_text, wait_for_all, wait_for_text, wait_until
from tests.harness import make_app
from tests.storekit import StoreKit, user
from tui.tau.overview import MIN_INTERVAL_S

SIZE = (140, 44)


def board(kit: StoreKit) -> None:
    kit.add_task(1, "Busy worker task", "active")
    kit.add_task(2, "Touches the same file", "ready")
    kit.add_task(3, "Waits for the busy one", "ready")
    kit.add_task(4, "Nothing in its way", "ready")
    kit.depends_on(3, 1)
    files = '["src/dispatch.rs"]'
    kit.tasks.execute("UPDATE tasks SET affected_files=? WHERE id IN (1, 2)", (files,))
    for i in range(8):  # a full budget in another project
        kit.add_task(10 + i, f"webapp job {i}", "active", project="webapp")
    kit.add_task(20, "Queued behind a full budget", "ready", project="webapp")


async def test_each_kind_of_wait_reason_on_the_list_and_the_task_screen(kit: StoreKit) -> None:
    board(kit)
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        text = await wait_for_all(pilot, app, "⏳ files ∩ #1", "⏳ waits on #1", "⏳ not yet sche",
                                  "⏳ budget 8/8")
        assert text.count("⏳") == 4  # the active tasks have no reason to wait
        await pilot.press("G")  # the last row, #3: the detail line says it whole
        await wait_for_text(pilot, app, "⏳ waits on #1 (active)")
        await pilot.press("g")
        app.open_task(2)
        await wait_for_text(pilot, app, "⏳ files ∩ #1: dispatch.rs")
        await pilot.press("escape")
        app.open_task(20)
        await wait_for_text(pilot, app, "⏳ budget 8/8 in flight")
        await pilot.press("escape")
        # tau's word follows tasks.db: the busy task merges, the others are free.
        kit.set_state(1, "merged")
        # (the rows follow tasks.db first, then tau's answer to the next task_overview)
        await wait_until(pilot, lambda: "⏳ waits on #1" not in screen_text(app)
                         and "⏳ files ∩" not in screen_text(app)
                         and screen_text(app).count("⏳ not yet sche") == 3, what="reasons to follow tasks.db")
    asked = [r for r in kit.server.requests if r.get("type") == "task_overview"]
    assert {r["project"] for r in asked} == {"tau", "webapp"}
    # Asked when tasks.db moved, not on every read: a handful, not one per refresh.
    assert len(asked) <= 12, len(asked)


async def test_without_a_server_the_dependency_comes_from_the_disk(kit: StoreKit) -> None:
    board(kit)
    kit.server_up(False)
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        text = await wait_for_text(pilot, app, "waits on #1")
        assert "⏳" not in text and "tau server not running" in text


async def test_only_the_project_whose_tasks_changed_is_asked_again(kit: StoreKit) -> None:
    """tau's scheduler weighs a project's own tasks: a phase change or a new
    message in a running session asks nothing, a task change in one project
    asks that project only (task_overview is tau's time, TAU.md §7.6)."""
    board(kit)
    kit.link(1, "s1", "worker")
    kit.add_session("s1")
    kit.run("s1", "thinking")
    app = make_app(kit)

    def asked() -> list[str]:
        return [r["project"] for r in kit.server.requests if r.get("type") == "task_overview"]

    async with app.run_test(size=SIZE) as pilot:
        # Both projects' answers on screen: the asks of the start are all in (a read
        # asks only when tasks.db moved, and it has not since).
        await wait_for_all(pilot, app, "⏳ files ∩ #1", "⏳ budget 8/8")
        assert set(asked()) == {"tau", "webapp"}
        before = asked()
        for label, msg in (("working", "one"), ("running tools", "two"), ("thinking", "three")):
            kit.run("s1", label)
            kit.add_message("s1", user(msg))
            await wait_for_text(pilot, app, label)
        # The scenario: past the rate (an ask held back by it goes out within
        # MIN_INTERVAL_S), nothing was asked for these changes.
        await pilot.pause(MIN_INTERVAL_S + 0.5)
        assert asked() == before, asked()[len(before):]
        kit.set_state(20, "planning")  # webapp's queued task moves
        await wait_until(pilot, lambda: len(asked()) > len(before), what="webapp asked again")
        await pilot.pause(MIN_INTERVAL_S + 0.5)  # the scenario again: nothing else follows
        assert set(asked()[len(before):]) == {"webapp"}, asked()[len(before):]
