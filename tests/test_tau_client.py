"""The tau server client and the live tracker, against the demo's stand-in server.

A real Unix socket served by `tui.demo.TauServer` over a real store: framing,
error replies, garbage and huge lines, EOF, shutdown, restart and reattach,
and the subscription rules that keep tau's cost near zero (TAU.md §7).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.harness import apoll
from tests.storekit import StoreKit
from tests.taukit import MUTATING_REQUESTS
from tui.tau.client import ALLOWED_REQUESTS, MAX_LINE, RequestRefused, Skipped, connect, encode_request
from tui.tau.live import LiveTracker



@pytest.fixture
async def tracker(kit: StoreKit) -> AsyncIterator[LiveTracker]:
    t = LiveTracker(kit.socket_path)
    await t.start()
    yield t
    await t.stop()


def test_only_read_only_requests_can_be_encoded() -> None:
    for kind in MUTATING_REQUESTS:
        with pytest.raises(RequestRefused):
            encode_request({"type": kind, "session_id": "s1"})
    assert not ALLOWED_REQUESTS & set(MUTATING_REQUESTS)
    line = encode_request({"type": "subscribe", "session_id": "s1"})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == {"type": "subscribe", "session_id": "s1"}


async def test_framing_and_an_error_reply_keep_the_connection(kit: StoreKit) -> None:
    kit.add_task(1, "A task", "ready")
    conn = await connect(kit.socket_path)
    try:
        await conn.send({"type": "task_overview"})  # no project: tau answers "bad request" and goes on
        await conn.send({"type": "task_overview", "project": "tau", "recent_limit": 10})
        replies = []
        async for item in conn.lines():
            assert not isinstance(item, Skipped)
            replies.append(item.decode())
            if len(replies) == 2:
                break
    finally:
        await conn.close()
    assert replies[0]["type"] == "error" and "bad request" in replies[0]["message"]
    assert replies[1]["type"] == "task_overview"
    assert [t["id"] for t in replies[1]["queued_ready"]] == [1]


async def test_a_running_session_is_live_with_the_servers_phase(kit: StoreKit, tracker: LiveTracker) -> None:
    kit.add_session("s1", phase="sending request")
    kit.live("s1", "Thinking")
    await apoll(lambda: tracker.up, what="server up")
    tracker.want({"s1": ("sending request", 0)})
    await apoll(lambda: (p := tracker.phase("s1")) is not None and p.label == "thinking", what="thinking")
    p = tracker.phase("s1")
    assert p is not None and p.live and p.turn_started_ms and p.phase_started_ms
    assert kit.server.subscriber_count() == 1
    # A change made only in the server's memory is pushed to us.
    kit.server.set_phase("s1", "ToolExec")
    await apoll(lambda: tracker.phase("s1").label == "running tools", what="running tools")  # type: ignore[union-attr]
    # Derived from stream events, as tau's client derives them.
    kit.server.emit("s1", {"type": "text_start", "content_index": 0,
                           "partial": {"content": [{"type": "text", "text": ""}]}})
    await apoll(lambda: tracker.phase("s1").label == "working", what="working")  # type: ignore[union-attr]
    # The turn ends: the subscription is closed, the session is idle.
    kit.server.end_turn("s1")
    await apoll(lambda: kit.server.subscriber_count() == 0, what="subscription closed")
    assert tracker.said_idle("s1") and not tracker.phase("s1").live  # type: ignore[union-attr]


async def test_a_stale_phase_is_asked_once_then_again_only_when_the_disk_moves(
        kit: StoreKit, tracker: LiveTracker) -> None:
    kit.add_session("s1", phase="sending request")  # left behind by a crash: the server says Idle
    await apoll(lambda: tracker.up, what="server up")
    tracker.want({"s1": ("sending request", 7)})
    await apoll(lambda: tracker.said_idle("s1"), what="idle answer")
    await apoll(lambda: kit.server.subscriber_count() == 0, what="subscription closed")
    asked = lambda: sum(r.get("type") == "subscribe" for r in kit.server.requests)  # noqa: E731
    assert asked() == 1
    for _ in range(3):  # the same disk state again and again: no subscription opened
        assert tracker.want({"s1": ("sending request", 7)}) == 0
    assert asked() == 1
    kit.live("s1", "Connecting")
    tracker.want({"s1": ("sending request", 9)})  # a new message: maybe a new run
    await apoll(lambda: (p := tracker.phase("s1")) is not None and p.live, what="live again")
    assert asked() == 2


async def test_the_cap_bounds_subscriptions_and_says_so(kit: StoreKit) -> None:
    for i in range(5):
        kit.add_session(f"s{i}", phase="sending request")
        kit.live(f"s{i}", "Thinking")
    tracker = LiveTracker(kit.socket_path, cap=3)
    await tracker.start()
    try:
        await apoll(lambda: tracker.up, what="server up")
        tracker.want({f"s{i}": i for i in range(5)}, order=[f"s{i}" for i in (4, 3, 2, 1, 0)])
        await apoll(lambda: kit.server.subscriber_count() == 3, what="three subscriptions")
        view = tracker.view()  # and no more: the tracker holds three
        assert view.capped and view.wanted == 5 and view.watching == 3
        assert {s for s in ("s4", "s3", "s2") if tracker.phase(s)} == {"s4", "s3", "s2"}
    finally:
        await tracker.stop()
    await apoll(lambda: kit.server.subscriber_count() == 0, what="all closed on stop")


async def test_garbage_and_a_huge_line_are_skipped_and_said(kit: StoreKit, tracker: LiveTracker) -> None:
    kit.add_session("s1", phase="sending request")
    kit.live("s1", "Thinking")
    await apoll(lambda: tracker.up, what="server up")
    tracker.want({"s1": 1})
    await apoll(lambda: tracker.phase("s1") is not None, what="first answer")
    kit.server.inject_line("s1", b"this is not json\n")
    await apoll(lambda: tracker.view().problem is not None, what="a problem said")
    assert "not JSON" in (tracker.view().problem or "")
    kit.server.inject_line("s1", b'{"type":"stream","event":{"type":"text_delta","delta":"'
                           + b"x" * (MAX_LINE + 10) + b'"}}\n')
    await apoll(lambda: "skipped" in (tracker.view().problem or ""), timeout=30, what="huge line skipped")
    # The subscription goes on: the last good data is kept and new events still arrive.
    assert tracker.phase("s1").label == "thinking"  # type: ignore[union-attr]
    kit.server.set_phase("s1", "ToolExec")
    await apoll(lambda: tracker.phase("s1").label == "running tools", what="still following")  # type: ignore[union-attr]


async def test_crash_then_restart(kit: StoreKit, tracker: LiveTracker) -> None:
    kit.add_session("s1", phase="sending request")
    kit.live("s1", "Thinking")
    await apoll(lambda: tracker.up, what="server up")
    tracker.want({"s1": 1})
    await apoll(lambda: (p := tracker.phase("s1")) is not None and p.live, what="live")
    kit.server.crash()  # EOF everywhere; tau.sock stays behind and refuses connections
    await apoll(lambda: tracker.view().state == "down", what="down")
    assert tracker.phase("s1") is None
    kit.server.start()
    kit.live("s1", "ToolExec")
    await apoll(lambda: (p := tracker.phase("s1")) is not None and p.label == "running tools",
                what="reattached and subscribed again")


async def test_clean_shutdown_then_a_new_server(kit: StoreKit, tracker: LiveTracker) -> None:
    kit.add_session("s1", phase="sending request")
    kit.live("s1", "Thinking")
    await apoll(lambda: tracker.up, what="server up")
    tracker.want({"s1": 1})
    await apoll(lambda: tracker.phase("s1") is not None, what="subscribed")
    kit.server.shutdown()
    await apoll(lambda: tracker.view().state == "down", what="down")
    assert kit.server.subscriber_count() == 0
    assert not kit.socket_path.exists()
    kit.server.start()
    await apoll(lambda: tracker.up, what="up again")
    # The new server's memory is empty: the session is idle there.
    tracker.want({"s1": 2})
    await apoll(lambda: tracker.said_idle("s1"), what="idle on the new server")


async def test_a_stalled_server_is_said_and_its_answer_still_taken(kit: StoreKit, tracker: LiveTracker) -> None:
    kit.add_session("s1", phase="sending request")
    kit.live("s1", "Thinking")
    await apoll(lambda: tracker.up, what="server up")
    kit.server.stall(True)  # accepts, answers nothing
    tracker.want({"s1": 1})
    await apoll(lambda: "has not answered" in (tracker.view().problem or ""), what="the stall said")
    assert tracker.phase("s1") is None and tracker.pending("s1")
    kit.server.stall(False)
    await apoll(lambda: (p := tracker.phase("s1")) is not None and p.live, what="the late answer")
    assert tracker.view().problem is None


async def test_no_server(tmp_path: Path) -> None:
    t = LiveTracker(tmp_path / "nowhere" / "tau.sock")
    await t.start()
    try:
        await apoll(lambda: t.view().state == "down", what="down")
        assert "not running" in t.view().detail
    finally:
        await t.stop()
