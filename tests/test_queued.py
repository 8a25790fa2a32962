"""Messages waiting for a session: tau's ``queued_messages`` on screen.

tau queues a message for a session (db.rs ``queue_message``) and feeds it into
the session's next turn before an LLM call (``drain_queued_messages``: stored
as a user message ``[from sender] content``, deleted, in one transaction). One
queued while a turn ends, or for a session no run comes to, waits (TAU.md
§2.1). Real parts: a tau-shaped store written by the test's connection, the
stand-in server on a real socket, the real app under Pilot, and the real
command line on a pty at 80x24 for the notification.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.harness import make_app, wait_for, wait_for_all, wait_for_text, wait_gone, wait_until
from tests.harness import caught_up, refresher_passes
from tests.ptykit import PtyApp
from tests.storekit import BASE_MS, StoreKit, assistant, user
from tests.taukit import drain, queue
from tui.notify.settings import KINDS, demo_table, parse

SIZE = (130, 36)


def idle_worker(kit: StoreKit) -> None:
    kit.add_task(1, "A task that waits", "active")
    kit.link(1, "s1", "worker")
    kit.add_session("s1", tagline="the worker")
    kit.add_messages("s1", [user("fix the retry loop"), assistant("Done for now.", ts=BASE_MS + 1)])


async def test_queued_messages_show_on_the_row_the_pane_and_after_the_transcript_until_drained(
        kit: StoreKit) -> None:
    idle_worker(kit)
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "A task that waits")
        then = int(time.time() * 1000) - 3 * 60_000
        queue(kit, "s1", "Please also run clippy.", "session:s9", then)
        queue(kit, "s1", "[System: plugins reloaded. Tool definitions updated.]", "system", then + 1000)
        since = time.strftime("%H:%M", time.localtime(then / 1000))
        await wait_for_all(pilot, app, "✉2", f"✉ since {since}")  # the task's row
        app.open_task(1)
        await wait_for_text(pilot, app, "✉ 2 queued · oldest 3m")
        await pilot.press("enter")
        text = await wait_for_all(pilot, app, "Done for now.", "queued, not delivered yet: 2 messages")
        assert "✉ 2 queued" in text  # the header
        # After the stored messages, in the order tau will feed them in.
        assert text.index("Done for now.") < text.index("queued, not delivered yet") \
            < text.index("queued from session:s9") < text.index("Please also run clippy.") \
            < text.index("queued from system")
        # The next run drains them: stored as tau stores them, no longer waiting.
        kit.run("s1", "sending request")
        drain(kit, "s1", int(time.time() * 1000))
        await wait_gone(pilot, app, "queued, not delivered yet")
        text = await wait_for_text(pilot, app, "[from session:s9] Please also run clippy.")
        assert "[from system] [System: plugins reloaded." in text and "✉" not in text
        await pilot.press("escape")
        await wait_gone(pilot, app, "✉ 2 queued")


async def test_a_message_waiting_too_long_for_a_session_not_running_needs_attention_once(
        kit: StoreKit) -> None:
    idle_worker(kit)
    kit.add_task(2, "A task that runs", "active")
    kit.link(2, "s2", "worker")
    kit.add_session("s2", tagline="the busy one")
    kit.run("s2", "running tools")
    # One second instead of ten minutes: the rule is the same.
    app = make_app(kit, notify=parse({"queued_minutes": 1 / 60, "osc9": False, "bell": False}))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_all(pilot, app, "A task that waits", "running tools")
        await wait_until(pilot, lambda: app.notifier.engine.baselined, what="the baseline")
        now = int(time.time() * 1000)
        queue(kit, "s1", "Please also run clippy.", "session:s9", now)
        queue(kit, "s2", "And the docs.", "session:s9", now)  # s2 runs: it takes it at its next call
        await wait_until(pilot, lambda: any(e.kind == "queued" for e in app.notifier.log), what="told")
        told = [e for e in app.notifier.log if e.kind == "queued"]
        assert [(e.session_id, e.task_id, e.notify) for e in told] == [("s1", 1, "queued")]
        assert "1 message queued under a minute ago for worker s1 of task #1, which is not running" \
            == told[0].message
        await pilot.press("exclamation_mark")
        text = await wait_for(pilot, app, "s1 not running · 1 queued")
        assert "s2 not running" not in text
        await pilot.press("escape")
        looks = app.notifier.looks
        await wait_until(pilot, lambda: app.notifier.looks >= looks + 2, what="more looks")
        assert len([e for e in app.notifier.log if e.kind == "queued"]) == 1  # told once


def test_the_demo_does_not_tell_queued_messages_unless_asked() -> None:
    assert "queued" in KINDS and "queued" in parse({}).kinds
    assert "queued" not in parse(demo_table({})).kinds
    assert parse(demo_table({"events": ["queued"]})).kinds == frozenset({"queued"})


async def test_the_queue_is_read_by_what_changed(kit: StoreKit) -> None:
    """A commit costs one aggregate over the queue (a small table); its rows by
    session only when it moved; nothing of the queue touches `messages`."""
    idle_worker(kit)
    kit.run("s1", "thinking")
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "thinking")
        await caught_up(pilot, app, refresher_passes(app))
        statements: list[str] = []
        conn = app.store._db.tau.conn  # noqa: SLF001 - the store's own connection, watched
        assert conn is not None
        await conn.set_trace_callback(statements.append)
        reads = app.store.queued.reads

        def asked() -> int:
            return sum("FROM queued_messages" in s for s in statements)

        for i in range(3):  # commits that do not touch the queue: one aggregate each, no more
            n = asked()
            kit.add_message("s1", assistant(f"step {i}", ts=BASE_MS + 10 + i), BASE_MS + 10 + i)
            await wait_until(pilot, lambda n=n: asked() > n, what="the queue looked at")
        assert app.store.queued.reads == reads
        queued = [s for s in statements if "queued_messages" in s]
        assert queued and all("GROUP BY" not in s for s in queued), queued
        queue(kit, "s1", "Please also run clippy.", "session:s9", int(time.time() * 1000))
        await wait_until(pilot, lambda: app.store.queued.reads == reads + 1, what="the queue read again")
        assert len([s for s in statements if "GROUP BY target_session_id" in s]) == 1
        # Nothing of the queue reads `messages` (a million rows must not slow it).
        queued = [s for s in statements if "queued_messages" in s]
        assert all(" messages" not in s.replace("queued_messages", "") for s in queued), queued


def test_a_message_waiting_too_long_is_told_on_a_real_terminal_at_80x24(kit: StoreKit, tmp_path: Path) -> None:
    idle_worker(kit)
    config = tmp_path / "config.toml"
    config.write_text("[notify]\nqueued_minutes = 0.02\nosc9 = true\nbell = true\n")
    app = PtyApp("--data-dir", str(kit.data_dir), "--runtime-dir", str(kit.runtime_dir),
                 "--config", str(config), cols=80, rows=24, env={"TMUX": ""})
    try:
        app.wait_for("A task that waits")
        app.send(b"!")
        app.wait_for("Watching since")  # the baseline is taken
        app.send(b"!")
        app.wait(lambda: "Watching since" not in app.text(), what="the log closed")
        queue(kit, "s1", "Please also run clippy.", "session:s9", int(time.time() * 1000))
        app.wait(lambda: "✉1" in app.text(), what="the row's mark")
        app.wait(lambda: b"\x1b]9;sessiontop: queued: 1 message queued" in app.output, what="OSC 9")
        app.wait_for("sessiontop: queued")  # the toast, on the 80x24 screen
        assert app.output.count(b"\x1b]9;sessiontop: queued") == 1
        app.send(b"!")
        app.wait_for("s1 not running")
        app.send(b"q")
        assert app.wait_exit() == 0
    finally:
        app.close()
