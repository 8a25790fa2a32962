"""Load, scale and exit: a busy tau server, a task of 10,000 sessions, and the
real command line quitting.

The load test runs SESSIONTOP_LOAD_SECONDS (default 12) of a writer process
asked to commit 200 times a second; ``SESSIONTOP_LOAD_SECONDS=60 pytest
tests/test_load.py -k busy`` is the full minute. Nothing here is timed: keys
must take effect, the screen must reach the store's final state, every commit
must succeed, and the process must end, each within a generous deadline. How
fast, how many commits a second and how much memory are the benchmark's
(``python -m bench``: operator latency, load p99 and RSS growth, exit).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
from pathlib import Path

import pytest

from tests.faultkit import (
    StoreGuard,
    press_fast,
    reads_change_nothing,
    rollback_store,
    start_writer,
)
from tests.harness import flat, make_app, screen_text, wait_for, wait_until
from tests.ptykit import PtyApp
from tests.storekit import BASE_MS, StoreKit, assistant, model_json, user
from tui.ui.screens.session import TranscriptScreen
from tui.ui.screens.task import PAGE, TaskScreen
from tui.ui.widgets.message_view import MessageView
from tui.ui.widgets.session_card import SessionCard
from textual.widgets import Static

LOAD_SECONDS = float(os.environ.get("SESSIONTOP_LOAD_SECONDS", "12"))
RATE = 200.0
#: A key must take effect within this long, even under load: a deadline that
#: catches a dashboard that stopped answering, not a latency target.
KEY_DEADLINE = 30.0
#: The command line must have ended within this long of q (a hang, not a speed).
EXIT_DEADLINE = 30.0


def store_counts(data_dir: Path, sessions: list[str]) -> dict[str, tuple[int, str, str]]:
    """(message count, phase, exit status) per session, read with plain sqlite3."""
    conn = sqlite3.connect(f"file:{data_dir / 'tau.db'}?mode=ro", uri=True)
    try:
        out = {}
        for sid in sessions:
            n = conn.execute("SELECT COUNT(*) FROM messages WHERE session_id=?", (sid,)).fetchone()[0]
            phase, status = conn.execute(
                "SELECT last_phase, last_exit_status FROM sessions WHERE id=?", (sid,)).fetchone()
            out[sid] = (n, phase, status)
        return out
    finally:
        conn.close()


def cursor_card(screen: TaskScreen) -> int:
    """Which card on the page is drawn as the cursor (the screen, not the attribute)."""
    cards = list(screen.query(SessionCard))
    return next((i for i, c in enumerate(cards) if c.has_class("-cursor")), -1)


async def test_busy_writer_on_the_busiest_task(fleet: StoreKit) -> None:
    sessions = ["s1", "s2", "s3", "s4"]  # task 1, the busiest
    app = make_app(fleet)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, app, "Review the watcher debounce")
        app.open_task(1)
        await wait_for(pilot, app, "Sessions (4, 2 live)")
        screen = app.screen
        assert isinstance(screen, TaskScreen)
        writer = start_writer(fleet.data_dir, seconds=LOAD_SECONDS, rate=RATE, task_id=1,
                              sessions=sessions)
        applied_before = app.applied
        keys = 0
        step = 1
        while writer.poll() is None:  # the operator moves between two panes all along
            target = screen.cursor + step
            await press_fast(app, "right" if step > 0 else "left",
                             lambda t=target: screen.cursor == t and cursor_card(screen) == t,
                             KEY_DEADLINE)
            keys += 1
            step = -step
            await pilot.pause(0.25)  # the operator's pace between two keys (the scenario)
        out, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err
        result = json.loads(out)
        # Every commit of the writer succeeded: the dashboard never locked it out.
        assert result["errors"] == [], result["errors"][:5]
        # The writer left every session idle on disk; tau's server ends their turns too.
        for sid in sessions:
            fleet.server.end_turn(sid)
        expected = store_counts(fleet.data_dir, sessions)

        def final_on_screen() -> bool:
            d = screen.detail
            if d is None:
                return False
            got = {p.info.session_id: (p.info.message_count, p.info.last_phase,
                                       p.info.last_exit_status) for p in d.sessions}
            return got == expected

        await wait_until(pilot, final_on_screen, 60, "the final store on screen")
        # The cards are drawn from the detail a frame after it is set.
        await wait_until(pilot, lambda: all(f"{n} msgs" in flat(screen_text(app))
                                            for n, _, _ in expected.values()), 30,
                         "every session's final count drawn")
        text = flat(screen_text(app))
        assert "last turn completed" in text and "last turn cancelled" in text
        assert "stale" not in text and app.refresh_state.error is None
        assert keys >= 1 and result["commits"] > len(sessions)  # keys went in while it wrote
        assert app.applied > applied_before  # the screen followed the writer
        await reads_change_nothing(pilot, app, fleet.data_dir)


async def test_busy_writer_on_a_followed_transcript(fleet: StoreKit) -> None:
    """The transcript screen following a session that receives ~140 messages a
    second: the mounted message widgets stay bounded, the newest is shown."""
    seconds = min(LOAD_SECONDS, 8.0)
    app = make_app(fleet)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, app, "Review the watcher debounce")
        app.open_session("s3")
        await wait_for(pilot, app, "implement retry with backoff")
        screen = app.screen
        assert isinstance(screen, TranscriptScreen)
        writer = start_writer(fleet.data_dir, seconds=seconds, rate=RATE, task_id=1,
                              sessions=["s3"])
        mounted = []
        while writer.poll() is None:  # a look now and then while the writer runs
            mounted.append(len(screen.query(MessageView)))
            await pilot.pause(0.3)
        out, err = writer.communicate(timeout=60)
        result = json.loads(out)
        assert result["errors"] == []
        (count, _, _), = store_counts(fleet.data_dir, ["s3"]).values()
        conn = sqlite3.connect(f"file:{fleet.data_dir / 'tau.db'}?mode=ro", uri=True)
        last_id = conn.execute("SELECT MAX(id) FROM messages WHERE session_id='s3'").fetchone()[0]
        conn.close()
        await wait_until(pilot, lambda: screen.last_id == last_id, 60, "the newest message")
        await wait_for(pilot, app, f"{count:,} messages")
        assert max(mounted + [len(screen.query(MessageView))]) <= 700, max(mounted)
        await reads_change_nothing(pilot, app, fleet.data_dir)


# --- a task with 10,000 sessions -------------------------------------------------------------


def ten_thousand(kit: StoreKit, n: int = 10_000) -> None:
    kit.add_task(1, "The task of ten thousand sessions", "active")
    phases = ("idle", "thinking", "running tools", "waiting")
    with kit._tx(kit.tasks) as c:
        c.executemany("INSERT INTO task_sessions (task_id, session_id, role, created_at)"
                      " VALUES (1, ?, ?, ?)",
                      [(f"s{i}", ("worker", "reviewer", "planner")[i % 3], BASE_MS + i)
                       for i in range(n)])
    with kit._tx(kit.tau) as c:
        c.executemany("INSERT INTO sessions (id, model_json, created_at, tagline, archived,"
                      " last_phase, last_exit_status) VALUES (?,?,?,?,?,?,?)",
                      [(f"s{i}", model_json("m"), BASE_MS + i, f"tagline {i}", i % 5 == 0,
                        phases[i % 4], ("completed", "error", None)[i % 3]) for i in range(n)])
        c.executemany("INSERT INTO messages (session_id, message_json, created_at) VALUES (?,?,?)",
                      [(f"s{i % 500}", json.dumps((user, assistant)[i % 2](f"m{i}")), BASE_MS + i)
                       for i in range(5000)])


async def test_ten_thousand_sessions_on_one_task(kit: StoreKit) -> None:
    ten_thousand(kit)
    app = make_app(kit)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, app, "The task of ten thousand sessions")
        app.open_task(1)
        await wait_for(pilot, app, "Sessions (10000", timeout=60)
        screen = app.screen
        assert isinstance(screen, TaskScreen)
        await wait_until(pilot, lambda: len(screen.query(SessionCard)) == PAGE, 30, "a page")

        def page_note() -> str:  # below the cards: read the widget, it may be scrolled away
            return str(screen.query_one("#page-note", Static).content)

        assert "sessions 1–48 of 10000" in page_note()

        await press_fast(app, "right", lambda: cursor_card(screen) == 1, KEY_DEADLINE)
        await press_fast(app, "down", lambda: screen.cursor > 1, KEY_DEADLINE)
        # Page down until the next page of panes is shown.
        while screen.cursor < PAGE:
            before = screen.cursor
            await press_fast(app, "pagedown", lambda b=before: screen.cursor > b, KEY_DEADLINE)
        await wait_until(pilot, lambda: "sessions 49–96 of 10000" in page_note(), 30,
                         "the second page")
        first = list(screen.query(SessionCard))[0]
        assert first.pane.info.session_id == "s48"
        # A commit while on this screen: one more session shows up.
        kit.link(1, "s-new", "worker")
        await wait_for(pilot, app, "Sessions (10000 + 1 gone", timeout=60)  # no tau.db row yet
        await reads_change_nothing(pilot, app, kit.data_dir)


# --- quitting the real command line ----------------------------------------------------------


@pytest.mark.parametrize("how", ["q", "ctrl+c key", "SIGINT"])
def test_the_cli_exits_at_once(fleet: StoreKit, how: str) -> None:
    """q, ctrl+c or SIGINT on a task screen (the watcher, the refresher and a
    screen stack running): the process ends, status 0, no traceback. How long
    it takes is the benchmark's; the deadline here only catches a hang."""
    guard = StoreGuard(fleet.data_dir)
    app = PtyApp("--data-dir", str(fleet.data_dir), "--runtime-dir", str(fleet.runtime_dir),
                 cols=140, rows=40)
    try:
        app.wait_for("Review the watcher debounce")
        app.quiet()  # the list drawn whole, the table ready for keys
        app.send(b"\r")  # into a task
        app.wait_for("Sessions (")
        if how == "q":
            app.send(b"q")
        elif how == "ctrl+c key":
            app.send(b"\x03")
        else:
            app.signal(signal.SIGINT)
        assert app.wait_exit(EXIT_DEADLINE) == 0
        assert "Traceback" not in app.written()
    finally:
        app.close()
    guard.check()


def test_the_cli_exits_at_once_while_a_writer_holds_the_lock(tmp_path: Path) -> None:
    """A read waiting on a lock cannot be interrupted (SQLite's busy wait):
    quitting waits at most for that one read (BUSY_TIMEOUT_MS), then ends."""
    data_dir = tmp_path / "tau"
    writer = rollback_store(data_dir)
    app = PtyApp("--data-dir", str(data_dir), cols=140, rows=40)
    try:
        app.wait_for("Review the watcher debounce")
        writer.execute("BEGIN EXCLUSIVE")
        writer.execute("UPDATE tasks SET title = 'held' WHERE id = 1")
        app.wait(lambda: "busy: a writer holds a lock" in flat(app.text()), 30, "the lock said")
        app.send(b"q")
        assert app.wait_exit(EXIT_DEADLINE) == 0
        writer.execute("COMMIT")  # the writer's transaction was never disturbed
    finally:
        app.close()
        writer.close()
