"""The app shows tau's live truth: what the server holds in memory, over its socket.

The real app driven by Pilot, a real store written by other connections, and
the demo's stand-in server on a real Unix socket. Each test states what tau's
server would say for the same rows (TAU.md §5, §6.1): is_live and the phase
come from its memory; the disk says only what tau persists.
"""

from __future__ import annotations

from tests.harness import (
    caught_up,
    make_app,
    refresher_passes,
    wait_for_all,
    wait_for_text,
    wait_gone,
    wait_until,
)
from tests.storekit import StoreKit, user
from tui.ui.screens.task import TaskScreen

SIZE = (130, 40)


def one_task(kit: StoreKit, sid: str = "s1") -> None:
    kit.add_task(1, "A busy task", "active")
    kit.link(1, sid, "worker")
    kit.add_session(sid, tagline="the worker")
    kit.add_messages(sid, [user("start")])


async def test_a_phase_change_in_the_servers_memory_reaches_both_screens(kit: StoreKit) -> None:
    one_task(kit)
    kit.run("s1", "thinking")  # disk: "sending request"; memory: Thinking
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        text = await wait_for_text(pilot, app, "thinking")
        assert "1 (1 live)" in text and "live from tau server" in text
        # Only the server's memory changes: nothing is written to disk.
        kit.server.set_phase("s1", "ToolExec")
        await wait_for_text(pilot, app, "running tools")
        app.open_task(1)
        await wait_for_text(pilot, app, "Sessions (1, 1 live)")
        kit.server.set_phase("s1", "Responding")
        await wait_for_text(pilot, app, "working")
        # Phases derived from stream events, as tau's own client derives them.
        kit.server.emit("s1", {"type": "thinking_start", "content_index": 0,
                               "partial": {"content": [{"type": "thinking", "thinking": ""}]}})
        await wait_for_text(pilot, app, "thinking")
        kit.server.emit("s1", {"type": "tool_output_delta", "tool_call_id": "t1",
                               "delta": "running 12 tests\ntest retry::backoff ... ok\n"})
        await wait_for_text(pilot, app, "test retry::backoff ... ok")  # the newest streamed line
        # The turn ends: not live; the subscription is closed.
        kit.finish("s1")
        await wait_for_text(pilot, app, "Sessions (1)")
        await wait_until(pilot, lambda: kit.server.subscriber_count() == 0, what="subscription closed")
        await pilot.press("escape")
        text = await wait_for_text(pilot, app, "A busy task")
        assert "(1 live)" not in text


async def test_a_stale_phase_with_the_server_saying_idle_is_not_live(kit: StoreKit) -> None:
    """After a crash tau leaves `sending request` on disk; the restarted server's
    memory is empty, so it answers Idle (TAU.md §5.1): not live, phase idle."""
    one_task(kit)
    kit.set_phase("s1", "sending request")
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        text = await wait_for_text(pilot, app, "A busy task")
        assert "(1 live)" not in text and "· 0 running ·" in text
        app.open_task(1)
        text = await wait_for_all(pilot, app, "Sessions (1)", "· idle")
        assert "sending request" not in text
        await wait_until(pilot, lambda: kit.server.subscriber_count() == 0, what="subscription closed")
    # One subscribe; task_overview (no per-message work, TAU.md §7.6) for the wait
    # reasons of the task list; nothing that takes tau's lock per message.
    kinds = [r["type"] for r in kit.server.requests]
    assert kinds.count("subscribe") == 1 and set(kinds) <= {"subscribe", "task_overview"}, kinds


async def test_server_killed_then_restarted(kit: StoreKit) -> None:
    one_task(kit)
    kit.run("s1", "running tools")
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "1 (1 live)")
        kit.server.crash()  # killed: tau.sock and the stale phase stay behind
        text = await wait_for_text(pilot, app, "tau server not running")
        assert "(1 live)" not in text
        app.open_task(1)
        text = await wait_for_text(pilot, app, "sending request (persisted)")
        kit.server.start()  # a new server resumes the turn (tau's auto-resume)
        kit.server.set_phase("s1", "Thinking")
        await wait_for_text(pilot, app, "live from tau server")
        await wait_for_text(pilot, app, "Sessions (1, 1 live)")
        assert isinstance(app.screen, TaskScreen)


async def test_no_server_means_nothing_is_live_and_says_so(kit: StoreKit) -> None:
    one_task(kit)
    kit.run("s1", "thinking")
    kit.server.crash()
    (kit.runtime_dir / "tau.sock").unlink()
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        text = await wait_for_text(pilot, app, "tau server not running")
        assert "(1 live)" not in text
        app.open_task(1)
        await wait_for_text(pilot, app, "sending request (persisted)")
        app.open_session("s1")
        await wait_for_text(pilot, app, "sending request (persisted)")


async def test_a_clean_shutdown_resets_phases_and_the_app_follows(kit: StoreKit) -> None:
    one_task(kit)
    kit.run("s1", "working")
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "1 (1 live)")
        kit.server_up(False)  # server_shutdown to every connection, phases reset on disk
        await wait_for_text(pilot, app, "tau server not running")
        await wait_gone(pilot, app, "(1 live)")
        assert kit.server.subscriber_count() == 0


async def test_a_pushed_phase_reaches_the_list_without_a_query_on_taus_files(kit: StoreKit) -> None:
    """A phase change lives only in tau's server (TAU.md §5.2): the list shows it
    from memory, and the store is asked no more than whether its files moved
    (`PRAGMA data_version`). A commit that comes next is still read."""
    one_task(kit)
    kit.run("s1", "thinking")
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "thinking")
        # The start-up work (the server's first answers, the background sum of the
        # session's tokens) is done first: it is not the pushed phase's.
        await caught_up(pilot, app, refresher_passes(app))
        statements: list[str] = []
        db = app.store._db  # the store's own two connections, to watch what they run
        for f in (db.tasks, db.tau):
            assert f.conn is not None
            await f.conn.set_trace_callback(statements.append)
        applied = app.applied
        kit.server.set_phase("s1", "ToolExec")
        await wait_for_text(pilot, app, "running tools")
        assert app.applied > applied
        assert statements and all(s.strip().upper() == "PRAGMA DATA_VERSION" for s in statements), statements
        kit.tasks.execute("UPDATE tasks SET title = 'Renamed while busy' WHERE id = 1")
        text = await wait_for_text(pilot, app, "Renamed while busy")
        assert "running tools" in text
