"""Watching a turn as it happens: the open transcript streams what tau's server
sends (TAU.md §7.4) and tau stores only whole messages (§3).

Real parts: a tau-shaped store written by another connection, the demo's
stand-in server on a real Unix socket sending the events tau sends (each delta
with the whole partial message, tool arguments only as deltas), the real app
under Pilot. What tau would show: the streamed part until the message is
stored, then the stored message alone, once.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.harness import make_app, screen_text, wait_for_text, wait_gone, wait_until
from tests.storekit import BASE_MS, StoreKit, assistant, tool_result, user
from tui.ui.app import SessionTopApp
from tui.ui.screens.session import TranscriptScreen

SIZE = (110, 40)


class Stream:
    """One assistant message streamed as tau's anthropic provider streams it."""

    def __init__(self, kit: StoreKit, sid: str, stamp: int) -> None:
        self.kit, self.sid = kit, sid
        self.partial: dict[str, Any] = {
            "content": [], "api": "anthropic-messages", "provider": "anthropic", "model": "claude-test",
            "usage": {"input": 10, "output": 0, "cache_read": 0, "cache_write": 0, "total_tokens": 10,
                      "cost": {"input": 0, "output": 0, "cache_read": 0, "cache_write": 0, "total": 0}},
            "stop_reason": "stop", "timestamp": stamp}
        self.emit("start")

    def emit(self, kind: str, **fields: Any) -> None:
        self.kit.server.emit(self.sid, {"type": kind, **fields, "partial": copy.deepcopy(self.partial)})

    def block(self, kind: str, pieces: list[str]) -> None:
        ci = len(self.partial["content"])
        self.partial["content"].append({"type": kind, kind: ""})
        self.emit(f"{kind}_start", content_index=ci)
        for piece in pieces:
            self.partial["content"][ci][kind] += piece
            self.emit(f"{kind}_delta", content_index=ci, delta=piece)
        self.emit(f"{kind}_end", content_index=ci, content=self.partial["content"][ci][kind])

    def tool_call(self, call_id: str, name: str, pieces: list[str], args: dict[str, Any]) -> None:
        ci = len(self.partial["content"])
        self.partial["content"].append({"type": "tool_call", "id": call_id, "name": name, "arguments": {}})
        self.emit("toolcall_start", content_index=ci)
        for piece in pieces:  # the partial's arguments stay {} until the end (anthropic.rs)
            self.emit("toolcall_delta", content_index=ci, delta=piece)

    def end_tool_call(self, args: dict[str, Any]) -> None:
        ci = len(self.partial["content"]) - 1
        self.partial["content"][ci]["arguments"] = args
        call = self.partial["content"][ci]
        self.emit("toolcall_end", content_index=ci,
                  tool_call={"id": call["id"], "name": call["name"], "arguments": args})

    def done(self, reason: str = "stop") -> dict[str, Any]:
        """The end of the stream, then what tau stores: the same message."""
        self.partial["stop_reason"] = reason
        self.kit.server.emit(self.sid, {"type": "done", "reason": reason, "message": copy.deepcopy(self.partial)})
        return {"role": "assistant", **copy.deepcopy(self.partial)}


def one_session(kit: StoreKit, n_old: int = 1) -> None:
    kit.add_task(1, "A busy task", "active")
    kit.link(1, "s1", "worker")
    kit.add_session("s1", tagline="the worker")
    kit.add_messages("s1", [user("please fix the retry loop")]
                     + [assistant(f"earlier answer {i}\n" + "line\n" * 6, ts=BASE_MS + i) for i in range(n_old)])


async def open_live_transcript(pilot, app: SessionTopApp, kit: StoreKit) -> None:  # type: ignore[no-untyped-def]
    kit.run("s1", "working")
    await wait_for_text(pilot, app, "A busy task")
    app.open_session("s1")
    await wait_for_text(pilot, app, "Session s1")
    await wait_until(pilot, lambda: kit.server.subscriber_count("s1") == 1, what="subscribed")
    await wait_until(pilot, lambda: isinstance(app.screen, TranscriptScreen) and app.screen.header is not None
                     and app.screen.header.is_live, what="the transcript says live")


async def test_text_thinking_and_tool_output_stream_in_then_the_stored_messages_take_their_place(
        kit: StoreKit) -> None:
    one_session(kit)
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await open_live_transcript(pilot, app, kit)
        s = Stream(kit, "s1", BASE_MS + 60_000)
        s.block("thinking", ["The retry ", "loop never backs off."])
        s.block("text", ["Looking at ", "dispatch.rs: ", "the loop retries at once"])
        text = await wait_for_text(pilot, app, "the loop retries at once")
        assert "streaming from tau's server, not stored yet" in text
        assert "✻ thinking (" in text and "never backs off" not in text  # folded, as stored thinking is
        await pilot.press("t")
        await wait_for_text(pilot, app, "The retry loop never backs off.")
        await pilot.press("t")
        # A tool call's arguments as they form, then whole.
        s.tool_call("toolu_1", "bash", ['{"command":', '"cargo test re'], {})
        await wait_for_text(pilot, app, '"cargo test re')
        s.end_tool_call({"command": "cargo test retry"})
        stored = s.done("tool_use")
        await wait_for_text(pilot, app, "stored next")
        # tau stores the answer: it takes the streamed one's place, shown once.
        kit.add_message("s1", stored, BASE_MS + 61_000)
        await wait_gone(pilot, app, "stored next")
        text = screen_text(app)
        assert text.count("the loop retries at once") == 1 and "#3" in text
        # The tool runs: its output streams, then its result, then tau stores it.
        kit.server.emit("s1", {"type": "tool_output_delta", "tool_call_id": "toolu_1",
                               "delta": "running 12 tests\n"})
        kit.server.emit("s1", {"type": "tool_output_delta", "tool_call_id": "toolu_1",
                               "delta": "test retry::backoff ... ok\n"})
        text = await wait_for_text(pilot, app, "test retry::backoff ... ok")
        assert "running…" in text and "running 12 tests" in text
        kit.server.emit("s1", {"type": "tool_result", "tool_call_id": "toolu_1", "tool_name": "bash",
                               "is_error": False, "content": "12 passed", "summary": "bash: 12 passed"})
        await wait_for_text(pilot, app, "bash: 12 passed")
        result = dict(tool_result("bash", "12 passed", summary="bash: 12 passed"), tool_call_id="toolu_1")
        kit.add_message("s1", result, BASE_MS + 62_000)
        await wait_gone(pilot, app, "streaming from tau's server")
        text = screen_text(app)
        assert text.count("bash: 12 passed") == 1 and "test retry::backoff" not in text
        kit.finish("s1")
        await wait_until(pilot, lambda: kit.server.subscriber_count("s1") == 0, what="subscription closed")
        assert "the loop retries at once" in screen_text(app)


async def test_following_stays_at_the_end_and_a_reader_scrolled_back_is_not_moved(kit: StoreKit) -> None:
    one_session(kit, n_old=12)
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await open_live_transcript(pilot, app, kit)
        screen = app.screen
        assert isinstance(screen, TranscriptScreen)
        s = Stream(kit, "s1", BASE_MS + 60_000)
        s.block("text", [f"streamed line {i}\n" for i in range(30)])
        await wait_for_text(pilot, app, "streamed line 29")
        await wait_until(pilot, lambda: screen.scroller.at_end, what="followed to the end")
        assert screen.following and "following new messages" in screen_text(app)
        # Read back: the stream goes on below, the view does not move.
        await pilot.press("home")
        await wait_until(pilot, lambda: not screen.following and screen.scroller.scroll_y == 0,
                         what="not following, at the top")
        y = screen.scroller.scroll_y
        before = screen.last_id
        assert before is not None
        # As tau does it: the answer is stored at its end, then the next one streams.
        kit.add_message("s1", s.done(), BASE_MS + 61_000)
        await wait_until(pilot, lambda: screen.last_id is not None and screen.last_id > before,
                         what="the stored answer read")
        tall = screen.scroller.max_scroll_y
        s2 = Stream(kit, "s1", BASE_MS + 70_000)
        s2.block("text", [f"second answer line {i}\n" for i in range(30)])
        await wait_until(pilot, lambda: screen._live is not None
                         and "second answer line 29" in str(screen._live.render_turn()), what="streamed")
        # laid out below: the transcript grew, the view stayed where the reader is
        await wait_until(pilot, lambda: screen.scroller.max_scroll_y > tall, what="the stream laid out")
        assert screen.scroller.scroll_y == y and not screen.following
        # End follows again, to the streaming end.
        await pilot.press("end")
        await wait_for_text(pilot, app, "second answer line 29")
        assert screen.following


async def stream_an_answer(pilot, app: SessionTopApp, kit: StoreKit, text: str) -> Stream:  # type: ignore[no-untyped-def]
    """The transcript open on a live s1, an answer streaming into it, on screen."""
    await open_live_transcript(pilot, app, kit)
    s = Stream(kit, "s1", BASE_MS + 60_000)
    s.block("text", [text])
    await wait_for_text(pilot, app, text)
    return s


async def test_a_server_shutdown_mid_stream_leaves_the_stored_transcript(kit: StoreKit) -> None:
    one_session(kit, n_old=2)
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await stream_an_answer(pilot, app, kit, "half an answer that tau never stored")
        kit.server.shutdown()
        text = await wait_gone(pilot, app, "half an answer that tau never stored")
        assert "earlier answer 1" in text and "please fix the retry loop" in text
        await wait_for_text(pilot, app, "tau server not running")


async def test_a_cancelled_answer_is_let_go_and_nothing_streams_on_the_task_list(kit: StoreKit) -> None:
    one_session(kit)
    app = make_app(kit)
    async with app.run_test(size=SIZE) as pilot:
        await stream_an_answer(pilot, app, kit, "an answer the operator cancels")
        kit.add_message("s1", {"role": "info", "text": "Session cancelled.", "timestamp": BASE_MS + 61_000})
        kit.server.send("s1", {"type": "cancelled"})
        text = await wait_gone(pilot, app, "an answer the operator cancels")
        assert "Session cancelled." in text
        # Back on the list, a stream is not gathered (only the open transcript's is).
        await pilot.press("escape")
        await wait_for_text(pilot, app, "A busy task")
        kit.run("s1", "working")
        await wait_until(pilot, lambda: kit.server.subscriber_count("s1") == 1, what="subscribed again")
        Stream(kit, "s1", BASE_MS + 80_000).block("text", ["unseen"])
        # A marker after it on the same subscription: once it is in, so is the stream.
        kit.server.set_phase("s1", "ToolExec")
        await wait_until(pilot, lambda: (p := app.store.live.phase("s1")) is not None
                         and p.label == "running tools", what="the events after the stream")
        assert app.store.live._stream is None  # noqa: SLF001 - nothing kept for a closed transcript
