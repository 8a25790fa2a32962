"""What tau's server pushes beside the phase, and what it never stores, on screen.

Real parts: a tau-shaped store written by the test's own connection, the demo's
stand-in server on a real Unix socket sending what tau sends (TAU.md §7.4),
the real app under Pilot. What tau would show for the same rows and pushes:

- ``subscription_usage`` (refresh_subscription_usage.rs, every 300 s on an
  OAuth install, to every subscriber): the windows on the status line, the
  fullest coloured, with its age; nothing when tau sends none; never asked for;
- a retirement (``sessions.successor_id`` and ``session_succeeded``): the pane
  reads "retired → s2", Enter offers the successor, and a task never counts
  both as live;
- a queued message fed into the running turn (``user_message`` mid-turn):
  shown where it landed, marked as steering;
- compactions and loop reviews (LLM calls tau never stores): counted as the
  stream shows them, and every total says it counts stored calls only.
"""

from __future__ import annotations

import time

from tests.harness import make_app, screen_text, wait_for, wait_for_all, wait_for_text, wait_gone, wait_until
from tests.storekit import BASE_MS, StoreKit, assistant, user
from tests.taukit import drain, queue, succeed, usage_push
from tests.test_streaming import Stream, open_live_transcript
from tui.ui.screens.help import LEGEND
from tui.ui.screens.task import TaskScreen
from tui.ui.widgets.status import StatusLine

SIZE = (130, 36)
HOUR = 3_600_000


def worker(kit: StoreKit, sid: str = "s1", task: int = 1, title: str = "A busy task") -> None:
    kit.add_task(task, title, "active")
    kit.link(task, sid, "worker")
    kit.add_session(sid, tagline="the worker")
    kit.add_messages(sid, [user("fix the retry loop"), assistant("On it.", ts=BASE_MS + 1)])


def status_line(app) -> str:  # type: ignore[no-untyped-def]
    return app.screen.query_one(StatusLine).query_one("#status-main").render().plain  # type: ignore[union-attr]


async def test_rate_limit_windows_tau_pushes_show_on_the_status_line(kit: StoreKit) -> None:
    worker(kit)
    kit.run("s1", "thinking")  # a live session: the app holds a subscription, tau pushes on it
    offset = [0.0]
    app = make_app(kit, clock=lambda: time.time() + offset[0])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: kit.server.subscriber_count("s1") == 1, what="subscribed")
        await wait_for_text(pilot, app, "live from tau server")
        assert "5h" not in status_line(app) and "7d" not in status_line(app)  # tau sent none: nothing said
        now = time.time()
        reset = (int(now) // 3600 + 2) * 3600
        kit.server.broadcast(usage_push(72.0, 31.0, five_reset_ms=reset * 1000,
                                        seven_reset_ms=(reset + 3 * 86400) * 1000, opus=12.0))
        clock = time.strftime("%H:%M", time.localtime(reset))
        await wait_until(pilot, lambda: f"5h 72% · resets {clock} · 7d 31% · opus 7d 12% (just now)"
                         in status_line(app), what="the windows on the status line")
        offset[0] = 180.0  # three minutes later, nothing new from tau: the line says how old
        await wait_until(pilot, lambda: "(3m ago)" in status_line(app), what="its age")
        offset[0] = 0.0
        kit.server.broadcast(usage_push(96.0, 31.0, five_reset_ms=reset * 1000,
                                        seven_reset_ms=(reset + 3 * 86400) * 1000))
        await wait_until(pilot, lambda: "5h 96%" in status_line(app), what="the newest push")
        status = app.screen.query_one(StatusLine)
        shown = status._shown_main  # noqa: SLF001 - the Text the line shows, with its styles
        assert shown is not None
        at = shown.plain.index("96%")
        bad = str(status.get_component_rich_style("status--bad", partial=True))
        ok = str(status.get_component_rich_style("status--ok", partial=True))
        styles = {str(span.style): (span.start, span.end) for span in shown.spans}
        assert styles.get(bad) == (at, at + 3), shown.spans  # nearly full: the error colour
        at7 = shown.plain.index("31%")
        assert any(str(span.style) == ok and span.start == at7 for span in shown.spans)
        # What tau's own footer leaves out is left out: a bucket without a number,
        # a time that is not one; a push with no window says nothing new.
        kit.server.broadcast({"type": "subscription_usage", "usage": {
            "five_hour": {"utilization": 40.0, "resets_at": "soon"}, "seven_day": {"utilization": None,
                                                                             "resets_at": None},
            "seven_day_sonnet": None, "seven_day_opus": None, "extra_usage": None}})
        await wait_until(pilot, lambda: "5h 40% (just now)" in status_line(app), what="the bad parts left out")
        kit.server.broadcast({"type": "subscription_usage", "usage": {"five_hour": None, "seven_day": "x"}})
        kit.server.broadcast({"type": "subscription_usage", "usage": [1, 2]})
        kit.server.inject_line("s1", b'{"type":"subscription_usage","usage":{"five_hour":{"utiliz\n')
        kit.server.set_phase("s1", "ToolExec")  # a line after them, to know they were read
        await wait_for_text(pilot, app, "running tools")
        assert "5h 40% (just now)" in status_line(app)  # the last good figures stand
    assert not any(r.get("type") == "get_subscription_usage" for r in kit.server.requests)


async def test_a_retired_session_says_so_and_enter_offers_its_successor(kit: StoreKit) -> None:
    from tui.ui.screens.successor import SuccessorPrompt

    worker(kit)
    kit.run("s1", "running tools")
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "A busy task")
        app.open_task(1)
        await wait_for_all(pilot, app, "Sessions (1, 1 live)", "running tools")
        # session_succeed: the successor, the link, the info line, then the push.
        succeed(kit, "s1", "s2", BASE_MS + 10_000)
        await wait_for_text(pilot, app, "retired → s2")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SuccessorPrompt), what="the offer")
        await wait_for_text(pilot, app, "s1 is retired → s2")
        await pilot.press("enter")
        await wait_for_text(pilot, app, "Session s2")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, TaskScreen), what="back on the task")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SuccessorPrompt), what="the offer again")
        await pilot.press("o")  # the retired one after all
        await wait_for_text(pilot, app, "Session s1")
        text = await wait_for(pilot, app, "retired → s2")
        assert "succeeded by s2" in text
        await pilot.press("escape")
        # The successor takes the task over (tau's task_assign) while the old
        # turn ends: both live, the task counts one.
        kit.link(1, "s2", "worker")
        kit.run("s2", "thinking")
        await wait_for_all(pilot, app, "Sessions (2, 1 live)", "thinking", "running tools")
        await pilot.press("escape")
        await wait_for_text(pilot, app, "2 (1 live)")
        kit.finish("s1")
        await wait_until(pilot, lambda: not kit.server.is_live("s1"))
        await wait_for_text(pilot, app, "2 (1 live)")


async def test_a_queued_message_fed_into_the_running_turn_shows_as_steering_where_it_lands(
        kit: StoreKit) -> None:
    worker(kit)
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await open_live_transcript(pilot, app, kit)
        s = Stream(kit, "s1", BASE_MS + 60_000)
        s.block("text", ["Running the ", "tests first."])
        s.tool_call("toolu_1", "bash", ['{"command":"cargo test"}'], {})
        s.end_tool_call({"command": "cargo test"})
        kit.add_message("s1", s.done("tool_use"), BASE_MS + 61_000)
        kit.add_message("s1", {"role": "tool_result", "tool_call_id": "toolu_1", "tool_name": "bash",
                               "content": [{"type": "text", "text": "214 passed"}], "is_error": False,
                               "timestamp": BASE_MS + 62_000, "summary": "bash: exit 0"}, BASE_MS + 62_000)
        await wait_for_text(pilot, app, "bash: exit 0")
        # Another session queues a message while the turn runs: it waits…
        queue(kit, "s1", "Please also run clippy.", "session:s9", BASE_MS + 63_000)
        await wait_for_text(pilot, app, "queued, not delivered yet")
        # …until the engine drains it before its next LLM call: stored, then sent.
        drain(kit, "s1", BASE_MS + 64_000)
        kit.server.set_phase("s1", "Connecting")
        s2 = Stream(kit, "s1", BASE_MS + 65_000)
        s2.block("text", ["Running clippy ", "as asked."])
        text = await wait_for_all(pilot, app, "↪ steering", "Running clippy as asked.")
        await wait_gone(pilot, app, "queued, not delivered yet")
        text = screen_text(app)
        # Where it landed: after the tool's result, before the answer it steered.
        assert text.index("bash: exit 0") < text.index("↪ steering") < text.index("[from session:s9] Please") \
            < text.index("Running clippy as asked.")
        assert text.count("[from session:s9] Please also run clippy.") == 1


async def test_calls_tau_never_stores_are_counted_and_totals_say_stored_calls_only(kit: StoreKit) -> None:
    worker(kit)
    kit.run("s1", "thinking")
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_text(pilot, app, "A busy task")
        await wait_until(pilot, lambda: kit.server.subscriber_count("s1") == 1, what="subscribed")
        app.open_task(1)
        text = await wait_for_all(pilot, app, "Sessions (1, 1 live)", "$: stored calls only")
        assert "unpriced" not in text
        # run_compaction's notice, then the engine's loop review (agent.rs): their
        # LLM calls are stored nowhere, and the stream says nothing of their cost.
        kit.server.emit("s1", {"type": "status", "message": "compacting session (14 messages → summary)..."})
        kit.server.emit("s1", {"type": "status", "message": "compaction done: 171234 → 20011 tokens"})
        kit.server.set_phase("s1", "Compacting")
        kit.server.emit("s1", {"type": "status",
                               "message": "Loop review at turn 8: session making progress, continuing."})
        await wait_for_text(pilot, app, "+2 unpriced")
        await pilot.press("enter")
        await wait_for(pilot, app, "(stored calls) + 1 compaction, 1 loop review unpriced")
    assert "compaction" in LEGEND and "loop review" in LEGEND and "stored" in LEGEND
