"""What tau sends on a subscription that is not a run's end, and a failed answer's words.

tau sends ``agent_done`` after refusing a chat during shutdown (after an
``error`` carrying its sentinel) and after a chat to a task's log session (after
a ``status`` note), while the session's run, if any, goes on; only a real end
is followed by Phase Idle (dispatch.rs:1036-1070, :1462). A streamed ``error``
event carries the failed message, whose ``error_message`` says why
(types.rs ``StreamEvent::Error``). The stand-in server sends those lines on its
real socket; the real app is driven by Pilot.
"""

from __future__ import annotations

import copy

from tests.conftest import screen_text, wait_for_all, wait_for_text, wait_until
from tests.harness import make_app
from tests.storekit import BASE_MS, StoreKit, user

SIZE = (130, 40)


def one_worker(kit: StoreKit) -> None:
    kit.add_task(1, "A busy task", "active")
    kit.link(1, "s1", "worker")
    kit.add_session("s1", tagline="the worker")
    kit.add_messages("s1", [user("please fix the retry loop")])
    kit.run("s1", "thinking")


def output(kit: StoreKit, line: str) -> None:
    """A line of streamed tool output: it shows as the pane's newest line."""
    kit.server.emit("s1", {"type": "tool_output_delta", "tool_call_id": "t1", "delta": line + "\n"})


async def test_agent_done_after_an_error_reply_or_a_note_does_not_end_the_run(kit: StoreKit) -> None:
    one_worker(kit)
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        app.open_task(1)
        await wait_for_all(pilot, app, "Sessions (1, 1 live)", "thinking")
        # Someone's chat refused while tau drains its turns: this run goes on.
        kit.server.send("s1", {"type": "error", "message": "__tau_server_shutting_down__"})
        kit.server.send("s1", {"type": "agent_done"})
        await wait_for_text(pilot, app, "a chat was refused: tau server shutting down")
        output(kit, "cargo test: 12 passed")
        text = await wait_for_text(pilot, app, "cargo test: 12 passed")
        assert "Sessions (1, 1 live)" in text
        # A chat to a log placeholder: a note, then agent_done, no run ended.
        kit.server.emit("s1", {"type": "status", "message": "Message recorded on session s1."})
        kit.server.send("s1", {"type": "agent_done"})
        output(kit, "cargo build: done")
        text = await wait_for_text(pilot, app, "cargo build: done")
        assert "Sessions (1, 1 live)" in text
        assert app.store.live.phase("s1").live  # type: ignore[union-attr]
        # A real end: agent_done, then Idle.
        kit.finish("s1")
        await wait_for_text(pilot, app, "Sessions (1)")


async def test_a_streamed_error_says_its_error_message(kit: StoreKit) -> None:
    one_worker(kit)
    app = make_app(kit)
    partial = {"content": [{"type": "text", "text": "Let me look"}], "api": "anthropic-messages",
               "provider": "anthropic", "model": "claude-test", "usage": {}, "stop_reason": "stop",
               "timestamp": BASE_MS + 60_000}
    failed = {**copy.deepcopy(partial), "stop_reason": "error",
              "error_message": "HTTP 529: overloaded_error (retries exhausted)"}
    async with app.run_test(size=SIZE) as pilot:
        app.open_task(1)
        await wait_for_all(pilot, app, "Sessions (1, 1 live)", "thinking")
        kit.server.emit("s1", {"type": "start", "partial": partial})
        kit.server.emit("s1", {"type": "error", "reason": "error", "error": failed})
        # The pane's newest streamed line says why, not just "error".
        await wait_for_text(pilot, app, "HTTP 529: overloaded_error")
        app.open_session("s1")
        await wait_for_text(pilot, app, "please fix the retry loop")
        kit.server.emit("s1", {"type": "start", "partial": {**partial, "timestamp": BASE_MS + 70_000}})
        kit.server.emit("s1", {"type": "error", "reason": "aborted",
                               "error": {**failed, "timestamp": BASE_MS + 70_000,
                                         "error_message": "stream ended: connection reset by peer"}})
        # The open transcript's live turn says it too.
        await wait_until(pilot, lambda: "connection reset by peer" in screen_text(app),
                         what="the error in the live turn")
