"""The real app, driven by Pilot, on a real store written by another connection.

The live tests rely on real watchfiles events: no poll is configured, so a
change shows up only because the watcher saw the write.
"""

from __future__ import annotations

from tests.conftest import FIXED_NOW
from tests.harness import make_app, screen_text, wait_for_all, wait_for_text, wait_gone, wait_until
from tests.storekit import BASE_MS, StoreKit, assistant, user
from tui.ui.app import SessionTopApp
from tui.ui.screens.session import TranscriptScreen
from tui.ui.screens.task import TaskScreen
from tui.ui.screens.tasks import TaskListScreen
from tui.ui.widgets.filter_box import FilterBox
from tui.ui.widgets.task_table import TaskTable

SIZE = (120, 34)


def cursor_key(app: SessionTopApp) -> str | None:
    return app.screen.query_one(TaskTable).cursor_key()


def shown_outside_the_box(app: SessionTopApp, text: str) -> bool:
    """``text`` on screen other than in the filter/search box: what was typed
    there proves nothing about what the screen found."""
    box = app.screen.query_one(FilterBox).region
    lines = screen_text(app).splitlines()
    return any(text in line for y, line in enumerate(lines) if not box.y <= y < box.bottom)


async def test_walk_the_three_levels_with_the_keyboard(fleet: StoreKit) -> None:
    app = make_app(fleet, clock=lambda: FIXED_NOW)
    async with app.run_test(size=SIZE) as pilot:
        text = await wait_for_text(pilot, app, "Review the watcher debounce")
        # tau's task picker's groups, in its order, then what it leaves out
        headings = ("Active (2) · tau 2 of 8 slots", "Queued — planning (1)", "Blocked (1)",
                    "Held (1)", "Failed (1)", "Finished (2)")
        assert [text.index(h) for h in headings] == sorted(text.index(h) for h in headings)
        assert "2 running" in text
        assert "waits on #3" in text and "4 (2 live)" in text
        assert cursor_key(app) == "t:2"  # newest activity first, headings skipped
        await pilot.press("j")
        assert cursor_key(app) == "t:1"
        await pilot.press("enter")
        await wait_for_all(pilot, app, "Sessions (4, 2 live)", "#1", "Add retry to the dispatcher",
                           "branch task-1-retry", "ready→active", "creator", "planner", "s3",
                           "running tools", "last turn completed", "archived", "last turn error",
                           "2.0k tok", "$0.08", "bash: exit 101")
        assert isinstance(app.screen, TaskScreen)
        await pilot.press("right", "right")
        assert app.screen.cursor == 2
        await pilot.press("enter")
        text = await wait_for_text(pilot, app, "implement retry with backoff")
        assert isinstance(app.screen, TranscriptScreen)
        for bit in ("Session s3", "running tools", "5 messages", "2.0k tokens", "$0.08",
                    "read_file", "42 lines", "ERROR", "exit 101", "✻ thinking", "⚒ bash"):
            assert bit in text, bit
        await pilot.press("t")
        await wait_for_text(pilot, app, "The dispatcher lives in dispatch.rs")
        await pilot.press("escape")
        assert isinstance(app.screen, TaskScreen) and app.screen.cursor == 2
        await pilot.press("escape")
        assert isinstance(app.screen, TaskListScreen)
        assert cursor_key(app) == "t:1"


async def test_bare_row_and_help_screen(fleet: StoreKit) -> None:
    app = make_app(fleet, clock=lambda: FIXED_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Review the watcher debounce")
        await pilot.press("enter")  # task 2
        text = await wait_for_text(pilot, app, "session gone")
        assert "s99" in text and "reviewer" in text
        await pilot.press("enter")  # the cursor is on the bare row: nothing to open, it says so
        await wait_until(pilot, lambda: any("no transcript to show" in n.message
                                            for n in app._notifications), what="the reason")
        assert isinstance(app.screen, TaskScreen)
        await pilot.press("question_mark")
        text = await wait_for_text(pilot, app, "sessiontop: keys")
        assert "pause / resume live refresh" in text
        await pilot.press("escape")
        assert isinstance(app.screen, TaskScreen)


async def test_task_list_follows_the_store_and_keeps_the_cursor(fleet: StoreKit) -> None:
    app = make_app(fleet)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Review the watcher debounce")
        await pilot.press("j")
        assert cursor_key(app) == "t:1"
        # new activity on task 1 moves it above task 2: rows reorder in place
        fleet.add_message("s4", user("newer"), BASE_MS)
        await wait_until(pilot, lambda: screen_text(app).index("Add retry to the dispatcher")
                         < screen_text(app).index("Review the watcher debounce"), what="reorder")
        assert cursor_key(app) == "t:1"
        assert app.screen.query_one(TaskTable).cursor_row == 1
        # a phase change
        fleet.run("s5", "compacting")
        await wait_for_text(pilot, app, "compacting")
        # a task changing state moves it to another group
        fleet.set_state(3, "active", at=BASE_MS)
        await wait_for_text(pilot, app, "Active (3) · tau 3 of 8 slots")
        # a new task, with the newest activity, lands above the cursor
        fleet.add_task(9, "A brand new task", "active")
        fleet.link(9, "s20", "worker")
        fleet.add_session("s20")
        fleet.add_message("s20", user("go"), int(FIXED_NOW * 1000) + 10**9)
        fleet.run("s20", "thinking")
        await wait_for_text(pilot, app, "A brand new task")
        # The server's answer for the new run arrives as a change of its own.
        await wait_for_text(pilot, app, "· 3 running ·")
        assert "Active (4)" in screen_text(app)
        assert cursor_key(app) == "t:1"
        # the session ends: the task is no longer running, and stays in its group
        fleet.finish("s20", "completed")
        await wait_for_text(pilot, app, "· 2 running ·")
        assert "Active (4)" in screen_text(app)
        assert cursor_key(app) == "t:1"
        # the tau server stops: nothing is live any more
        fleet.server_up(False)
        await wait_for_text(pilot, app, "tau server not running", timeout=20)
        assert "· 0 running ·" in screen_text(app) and "Active (4)" in screen_text(app)
        assert cursor_key(app) == "t:1"


async def test_task_screen_follows_the_store(fleet: StoreKit) -> None:
    app = make_app(fleet)
    async with app.run_test(size=(130, 44)) as pilot:
        await wait_for_text(pilot, app, "Review the watcher debounce")
        app.open_task(1)
        await wait_for_all(pilot, app, "Sessions (4, 2 live)", "s4")
        await pilot.press("right")  # cursor on s2
        # a new session on the task
        fleet.link(1, "s30", "reviewer", BASE_MS)
        fleet.add_session("s30", tagline="a fresh reviewer")
        fleet.run("s30", "preparing")
        await wait_for_text(pilot, app, "a fresh reviewer")
        await wait_for_text(pilot, app, "Sessions (5, 3 live)")  # the server's answer: its own change
        assert app.screen.pane_at_cursor() == "s2"  # type: ignore[attr-defined]
        # a new message, shown under the live session
        fleet.add_message("s4", assistant("All 12 retry tests pass"), BASE_MS)
        await wait_for_text(pilot, app, "All 12 retry tests pass")
        assert "3 msgs" in screen_text(app)
        # an exit status
        fleet.finish("s4", "max_turns")
        await wait_for_text(pilot, app, "last turn max_turns")
        # an archived session, hidden with `a`
        fleet.archive("s1")
        await wait_until(pilot, lambda: screen_text(app).count("archived") >= 2, what="s1 archived")
        await pilot.press("a")
        text = await wait_gone(pilot, app, "creator")
        assert "2 archived hidden" in text and "planner" not in text
        await pilot.press("a")
        await wait_for_text(pilot, app, "creator")
        # task state change shows in the header and the history
        fleet.set_state(1, "review", at=BASE_MS)
        await wait_for_text(pilot, app, "active→review")
        assert app.screen.pane_at_cursor() == "s2"  # type: ignore[attr-defined]


async def test_filter_and_live_only(fleet: StoreKit) -> None:
    app = make_app(fleet, clock=lambda: FIXED_NOW)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Review the watcher debounce")
        await pilot.press("slash", *"docs")
        text = await wait_gone(pilot, app, "Review the watcher debounce")
        assert "Ship the docs" in text and "Blocked (1)" in text
        await pilot.press("enter")  # leaves the box, keeps the filter
        assert "Ship the docs" in screen_text(app)
        await pilot.press("escape")
        await wait_for_text(pilot, app, "Review the watcher debounce")
        await pilot.press("l")
        text = await wait_gone(pilot, app, "Ship the docs")
        assert "Active (2)" in text and "live only" in text
        await pilot.press("l")
        await wait_for_text(pilot, app, "Ship the docs")
        await pilot.press("slash", *"no such thing")
        await wait_for_text(pilot, app, "No task matches")
        await pilot.press("escape")
        # on the task screen: filter panes, live only
        await wait_for_text(pilot, app, "Review the watcher debounce")
        await pilot.press("j", "enter")
        await wait_for_all(pilot, app, "Sessions (4, 2 live)", "creator", "s4")
        await pilot.press("l")
        text = await wait_gone(pilot, app, "creator")
        assert "s3" in text and "s4" in text
        await pilot.press("l", "slash", *"planner")
        await wait_gone(pilot, app, "creator")
        # the planner's pane, not the word typed in the box
        await wait_until(pilot, lambda: shown_outside_the_box(app, "planner"), what="the planner's pane")
        await pilot.press("escape")
        await wait_for_text(pilot, app, "creator")
        assert isinstance(app.screen, TaskScreen)


async def test_pause_holds_the_screen_until_resumed(fleet: StoreKit) -> None:
    app = make_app(fleet)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Review the watcher debounce")
        await pilot.press("p")
        await wait_for_text(pilot, app, "PAUSED")
        applied, looks = app.applied, app.notifier.looks
        fleet.tasks.execute("UPDATE tasks SET title='Renamed while paused' WHERE id=2")
        # The app saw the commit: its notifier looks at the store, paused or not, and
        # its second look from now began after the commit. A read would have
        # shown it; paused, the screen stays as it was.
        await wait_until(pilot, lambda: app.notifier.looks >= looks + 2, 30,
                         what="the app to look at the store after the commit")
        assert "Renamed while paused" not in screen_text(app)
        assert app.applied == applied
        await pilot.press("p")
        await wait_for_text(pilot, app, "Renamed while paused")
        assert "PAUSED" not in screen_text(app)


async def test_transcript_follows_stops_and_resumes(kit: StoreKit) -> None:
    kit.add_task(1, "chatty", "active")
    kit.link(1, "s1", "worker")
    kit.add_session("s1")
    kit.run("s1", "working")
    kit.add_messages("s1", [user(f"line {i}") for i in range(60)])
    app = make_app(kit)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_text(pilot, app, "chatty")
        app.open_session("s1")
        await wait_for_text(pilot, app, "line 59")
        assert "following new messages" in screen_text(app)
        kit.add_message("s1", assistant("first new reply"))
        await wait_for_text(pilot, app, "first new reply")
        # scrolling up stops following
        await pilot.press("k", "k", "k", "pageup")
        await wait_for_text(pilot, app, "not following")
        kit.add_message("s1", assistant("second new reply"))
        await wait_for_text(pilot, app, "1 new below")
        assert "second new reply" not in screen_text(app)
        # End resumes
        await pilot.press("end")
        await wait_for_text(pilot, app, "second new reply")
        assert "following new messages" in screen_text(app)
        # search: the match, read back from an older page, is scrolled into view
        # (the box shows "line 7" as typed: that proves nothing)
        await pilot.press("slash", *"line 7", "enter")
        await wait_until(pilot, lambda: shown_outside_the_box(app, "line 7"), what="line 7 in view")
        assert "not following" in screen_text(app)


async def test_transcript_loads_older_pages(kit: StoreKit) -> None:
    kit.add_task(1, "long", "active")
    kit.link(1, "s1", "worker")
    kit.add_session("s1")
    kit.run("s1", "working")
    kit.add_messages("s1", [user(f"entry {i:04d}") for i in range(450)])
    app = make_app(kit)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_text(pilot, app, "long")
        app.open_session("s1")
        await wait_for_text(pilot, app, "entry 0449")
        assert "40 of 450 messages loaded" in screen_text(app)
        # Reading back past the top fetches the page before, keeping the place.
        await pilot.press("home")
        await wait_until(pilot, lambda: app.screen.first_id is not None
                         and app.screen.first_id < 410, what="an older page")
        await wait_for_text(pilot, app, "entry 0410")
        assert "190 of 450 messages loaded" in screen_text(app)
        for _ in range(20):
            if "start of session" in screen_text(app):
                break
            first = app.screen.first_id
            await pilot.press("home")
            await wait_until(pilot, lambda f=first: app.screen.first_id < f
                             or "start of session" in screen_text(app), what="the page before")
        text = await wait_for_text(pilot, app, "start of session")
        assert "entry 0000" in text


def long_session(kit: StoreKit) -> None:
    """Task 1 with one session of 300 replies, 1,000 tokens and $0.01 each."""
    kit.add_task(1, "chatty", "active")
    kit.link(1, "s1", "worker")
    kit.add_session("s1", phase="idle")
    kit.add_messages("s1", [assistant(f"reply {i:03d}", tokens=1000, cost=0.01) for i in range(300)])


async def test_long_sessions_totals_are_counted_after_the_first_screen(
        kit: StoreKit, monkeypatch: object) -> None:
    """A long session's token and cost sums are finished in the background, a
    chunk at a time: the first screen does not wait for them, and the full
    totals replace the partial ones without any store change."""
    import tui.tau.usage

    monkeypatch.setattr(tui.tau.usage, "USAGE_CHUNK", 40)
    long_session(kit)
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "chatty")
        app.open_task(1)
        # 300 × 1,000 tokens, $3.00: only the complete sum is shown without a "+".
        text = await wait_for_text(pilot, app, "300.0k tok · $3.00", timeout=30)
        assert "300.0k+ tok" not in text
        app.open_session("s1")
        text = await wait_for_text(pilot, app, "reply 299")
        await wait_until(pilot, lambda: "300.0k tokens" in screen_text(app) and "$3.00" in screen_text(app),
                         30, "the whole sum")
        assert "counting" not in screen_text(app)


async def test_partial_totals_say_they_are_partial(kit: StoreKit, monkeypatch: object) -> None:
    """While the sums are being counted the screen says so; with the refresh
    paused it stays that way, and resuming finishes it."""
    import tui.tau.usage

    monkeypatch.setattr(tui.tau.usage, "USAGE_CHUNK", 40)
    long_session(kit)
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "chatty")
        await pilot.press("p")  # paused: only this first read, no background refresh
        app.open_session("s1")
        text = await wait_for_text(pilot, app, "reply 299")
        # A chunk per read (the task list's detail line read the task too): partial, said so
        assert "(counting…)" in text and "300.0k tokens" not in text
        await pilot.press("p")
        await wait_until(pilot, lambda: "300.0k tokens" in screen_text(app) and "$3.00" in screen_text(app),
                         30, "the whole sum")
        text = screen_text(app)
        assert "counting" not in text


async def test_a_pane_never_wraps_so_its_newest_message_stays_visible(kit: StoreKit) -> None:
    """Pane lines are cut with an ellipsis, never wrapped: a pane grows only
    when its number of lines does, and a new message line is never pushed
    out of a pane that kept its old height."""
    kit.server_up()
    kit.add_task(1, "wide", "active")
    kit.link(1, "s1", "worker")
    kit.add_session("s1", model="M" * 300, tagline="T" * 300)
    kit.run("s1", "working")
    kit.add_messages("s1", [user("short one"), user("short two"), user("U" * 300)])
    app = make_app(kit)
    async with app.run_test(size=(80, 30)) as pilot:
        await wait_for_text(pilot, app, "wide")
        app.open_task(1)
        await wait_for_text(pilot, app, "UUUU")
        # Three recent messages shown: a fourth replaces the oldest, same line count.
        kit.add_message("s1", assistant("newest reply " + "漢" * 300))
        await wait_for_text(pilot, app, "newest reply 漢漢")
        kit.add_message("s1", user("final word"))  # the wide line moves up one
        text = await wait_for_text(pilot, app, "final word")
        assert "newest reply 漢漢" in text and "…" in text and "short one" not in text


async def test_keys_typed_in_a_burst_after_slash_land_in_the_filter(fleet: StoreKit) -> None:
    """An operator types "/#3" and Enter without pausing: every key after "/"
    goes to the filter box, none to the table (which would open a task)."""
    from textual import events

    app = make_app(fleet)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "Review the watcher debounce")
        for key, char in (("slash", "/"), ("number_sign", "#"), ("3", "3"), ("enter", "\r")):
            app.post_message(events.Key(key, char))  # all queued before any is handled
        # Every key handled: "#3" in the box and Enter left it (the filter kept), or
        # Enter reached the table and opened a task.
        await wait_until(pilot, lambda: not isinstance(app.screen, TaskListScreen)
                         or (app.screen.needle == "#3" and isinstance(app.focused, TaskTable)),
                         what="the four keys handled")
        assert isinstance(app.screen, TaskListScreen), "Enter went to the table"
        assert app.screen.needle == "#3"
        await wait_until(pilot, lambda: cursor_key(app) == "t:3", what="the cursor on task 3")
        # A "/" typed in the open box is a character of the filter, not a new filter.
        await pilot.press("slash")
        await pilot.press("slash", "x")
        assert app.screen.needle == "#3/x"


async def test_transcript_messages_take_a_new_theme(kit: StoreKit) -> None:
    """Messages are styled when made; switching the theme restyles them."""
    from tui.ui.widgets.message_view import MessageView

    kit.add_task(1, "styled", "active")
    kit.link(1, "s1", "worker")
    kit.add_session("s1", phase="idle")
    kit.add_messages("s1", [user("a question"), assistant("an answer")])
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "styled")
        app.open_session("s1")
        await wait_for_text(pilot, app, "an answer")
        view = app.screen.query(MessageView).first()
        before = dict(view.styles_of_parts)
        assert before.get("user"), "message parts are styled"
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await wait_until(pilot, lambda: view.styles_of_parts != before, what="new part styles")


async def test_the_cursor_row_keeps_its_line_when_rows_move(kit: StoreKit) -> None:
    """Thirty tasks become more recent than the one under the cursor: they sort
    above it, and a view scrolled down the list moves with it (its line on
    screen stays put), as the operator expects of a list that re-sorts under
    them. (A view at the top of the list stays at the top: test_view_at_top.)"""
    for i in range(1, 121):  # long enough that the view can follow (not at the end)
        kit.add_task(i, f"queued task {i:03d}", "ready", updated_at=BASE_MS - i * 60_000)
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "queued task 001")
        await pilot.press(*["j"] * 40)
        key = cursor_key(app)
        assert key == "t:41" and app.screen.query_one(TaskTable).scroll_y > 0

        def line_of(title: str) -> int | None:
            lines = screen_text(app).splitlines()
            return next((n for n, ln in enumerate(lines) if title in ln), None)

        before = line_of("queued task 041")
        assert before is not None
        with kit._tx(kit.tasks) as c:
            for i in range(50, 80):  # newer than task 41: sorted above it
                c.execute("UPDATE tasks SET updated_at=? WHERE id=?", (BASE_MS + i * 1000, i))
        await wait_until(pilot, lambda: app.screen.query_one(TaskTable).cursor_row >= 70,
                         what="the cursor's task moved down the list")
        assert cursor_key(app) == key
        # The view follows a frame after the rows moved: the line comes back to its place.
        await wait_until(pilot, lambda: line_of("queued task 041") == before,
                         what=f"task 41 back on line {before}")


async def test_clearing_the_filter_keeps_the_chosen_task_in_view(kit: StoreKit) -> None:
    """Filter to a task far down the list, clear the filter: the cursor is on
    that task and the view shows it (it opened at the top of the list)."""
    for i in range(1, 81):
        kit.add_task(i, f"queued task {i:02d}", "ready", updated_at=BASE_MS - i * 60_000)
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "queued task 01")
        await pilot.press("slash", *"task 60", "enter")
        await wait_until(pilot, lambda: cursor_key(app) == "t:60", what="the filtered task")
        await pilot.press("escape")
        await wait_for_text(pilot, app, "queued task 60")
        assert cursor_key(app) == "t:60" and "queued task 01" not in screen_text(app)
