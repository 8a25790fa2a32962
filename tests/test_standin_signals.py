"""The stand-in pushes and queues as tau does, in tau's order.

Read back with plain sqlite3 and a raw socket client (`tests.test_standin`):

- ``subscription_usage`` (refresh_subscription_usage.rs): serde's shape of
  ``SubscriptionUsage`` (every field, null when absent), one copy on every
  subscription, the first soon after start, then every 300 s (scaled by speed);
- the queue (notifications.rs ``queue_and_maybe_resume``, agent.rs
  ``drain_queued``, db.rs): a message for a running session waits in
  ``queued_messages`` until the engine's next loop, which stores it as
  ``[from sender] content`` and deletes the row in one commit, then sends
  ``user_message``, then ``Connecting``; one for an idle session resumes it
  (live first, ``Connecting`` persisted, then the drain);
- a retirement (dispatch.rs ``succeed_session_impl``, worker.rs
  ``session_succeed``): successor row, ``successor_id`` and the info line
  first, then ``session_succeeded``, then the handoff queued for the successor
  (which resumes it), then the tool's result.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness import poll
from tests.test_demo import SimulatedStop, SimulatedTime
from tests.test_standin import MARK, NOW, Client, rows, stepped_fleet
from tui.demo import DemoFleet, build_demo_store
from tui.demo.runs import Run



@pytest.fixture
def store(tmp_path: Path) -> Path:
    build_demo_store(tmp_path / "data", now_ms=NOW)
    return tmp_path / "data"


@pytest.fixture
def fleet(store: Path, tmp_path: Path) -> Iterator[DemoFleet]:
    with stepped_fleet(store, tmp_path / "run", load_ticks=(2, 2)) as f:
        yield f


def subscribe(fleet: DemoFleet, sid: str) -> Client:
    client = Client(fleet.socket_path)
    client.send({"type": "subscribe", "session_id": sid})
    client.line()  # tau's first answer: the phase
    poll(lambda: fleet.server.subscriber_count(sid) >= 1, what="subscribed")
    return client


def step(fleet: DemoFleet, clients: list[Client], sid: str) -> list[dict[str, Any]]:
    """One stream tick; what the subscription to ``sid`` got (`clients[0]`)."""
    fleet.stream_step()
    fleet.server.inject_line(sid, MARK)
    return clients[0].until_marker()


def test_usage_is_pushed_to_every_subscription_in_taus_shape(fleet: DemoFleet) -> None:
    a, b = fleet.live_runs()[:2]
    ca, cb = subscribe(fleet, a), subscribe(fleet, b)
    fleet.push_usage()
    for client in (ca, cb):
        got = client.line()
        assert got["type"] == "subscription_usage"
        usage = got["usage"]
        assert list(usage) == ["five_hour", "seven_day", "seven_day_sonnet", "seven_day_opus", "extra_usage"]
        assert list(usage["five_hour"]) == ["utilization", "resets_at"]
        assert isinstance(usage["five_hour"]["utilization"], float)
        assert usage["five_hour"]["resets_at"].endswith("+00:00") and usage["seven_day_sonnet"] is None
        assert usage["extra_usage"] == {"is_enabled": False, "monthly_limit": None, "used_credits": None}
    assert not any(r["type"] == "get_subscription_usage" for r in fleet.server.requests)
    ca.close()
    cb.close()


def test_usage_comes_soon_after_start_then_every_five_minutes(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.demo.usage import FIRST_S, INTERVAL_S

    for speed in (1.0, 2.0):
        clock = SimulatedTime(700 / speed)
        monkeypatch.setattr("tui.demo.fleet.time", clock)
        fleet = DemoFleet(tmp_path / str(speed), speed=speed, clock=lambda: NOW)
        fleet.start(run_thread=False)
        pushed: list[float] = []
        fleet.push_usage = lambda: pushed.append(clock.now)  # type: ignore[method-assign]
        fleet._stop = SimulatedStop(clock)  # type: ignore[assignment]  # noqa: SLF001
        try:
            fleet._run()  # noqa: SLF001 - the thread's loop on the simulated clock
        finally:
            fleet.stop()
        want = [(FIRST_S + k * INTERVAL_S) / speed for k in range(3)]
        assert pushed == pytest.approx(want, abs=0.2), (speed, pushed)


def live_task_run(fleet: DemoFleet) -> str:
    """A live run in its LLM rounds (its Connecting already persisted)."""
    for sid in fleet.live_runs():
        if fleet.server.phase_of(sid)[0] in ("Thinking", "Responding") and not fleet.waiting(sid):
            return sid
    raise AssertionError("no streaming run")


def test_a_message_for_a_running_session_waits_then_is_fed_in_before_the_next_call(
        fleet: DemoFleet, store: Path) -> None:
    from tui.demo import queueing

    sid = live_task_run(fleet)
    client = subscribe(fleet, sid)
    target = queueing.queue(fleet, sid, "Please also run clippy.", "session:s9")
    assert target == sid and sid in fleet._runs  # noqa: SLF001 - running: no resume
    (waiting,) = rows(store / "tau.db", "SELECT content, sender_info FROM queued_messages")
    assert waiting == ("Please also run clippy.", "session:s9")
    for _ in range(5000):
        before = rows(store / "tau.db", "SELECT COUNT(*) FROM queued_messages")[0][0]
        got = step(fleet, [client], sid)
        after = rows(store / "tau.db", "SELECT COUNT(*) FROM queued_messages")[0][0]
        if after < before:  # drained in this tick: stored, deleted, then said, then Connecting
            (text,) = rows(store / "tau.db", "SELECT json_extract(message_json, '$.content[0].text')"
                           " FROM messages WHERE session_id = ? ORDER BY id DESC LIMIT 1", sid)[0]
            assert text == "[from session:s9] Please also run clippy."
            got += step(fleet, [client], sid)
            kinds = [g.get("event", {}).get("phase", g["type"]) for g in got]
            assert kinds[:2] == ["user_message", "Connecting"], got
            assert got[0]["text"] == text
            break
        assert not any(g["type"] == "user_message" for g in got)
        if sid not in fleet.live_runs():  # the turn ended first: the message waits for the next run
            assert after == 1 and sid in fleet.has_queued
            break
    else:
        raise AssertionError("never drained")
    client.close()


def test_a_message_for_an_idle_session_resumes_it_in_taus_order(fleet: DemoFleet, store: Path) -> None:
    from tui.demo import queueing

    live = set(fleet.live_runs())
    sid = next(s for (s,) in rows(store / "tau.db", "SELECT id FROM sessions WHERE archived = 0 AND"
                                  " last_phase = 'idle' AND json_extract(model_json, '$.api') != 'log'"
                                  " ORDER BY id") if s not in live)
    before = rows(store / "tau.db", "SELECT COUNT(*) FROM messages WHERE session_id = ?", sid)[0][0]
    queueing.queue(fleet, sid, "Child session s99 completed. Summary: done.", "child:s99")
    # resume_child_session: live first, no phase yet (subscribe answers Idle), nothing stored.
    assert fleet.server.is_live(sid)
    client = Client(fleet.socket_path)
    client.send({"type": "subscribe", "session_id": sid})
    assert client.line()["event"]["phase"] == "Idle"
    poll(lambda: fleet.server.subscriber_count(sid) == 1)
    seen: list[str] = []
    for _ in range(200):
        got = step(fleet, [client], sid)
        seen += [g.get("event", {}).get("phase", g["type"]) for g in got if g["type"] in ("stream", "user_message")
                 and g.get("event", {}).get("type", "phase") == "phase" or g["type"] == "user_message"]
        if "user_message" in seen and seen[-1] != "user_message":
            break
    assert seen[:3] == ["Connecting", "user_message", "Connecting"], seen
    assert rows(store / "tau.db", "SELECT last_phase FROM sessions WHERE id = ?", sid)[0][0] == "sending request"
    assert rows(store / "tau.db", "SELECT COUNT(*) FROM messages WHERE session_id = ?", sid)[0][0] == before + 1
    assert rows(store / "tau.db", "SELECT COUNT(*) FROM queued_messages")[0][0] == 0
    client.close()


def test_a_session_retires_in_taus_order(fleet: DemoFleet, store: Path) -> None:
    sid = fleet.orchestrators()[0]
    while sid in fleet.live_runs():  # its turn under way ends first
        fleet.advance(sid)
    ctx, n_msgs, _ = fleet._ctx(sid)  # noqa: SLF001
    run = Run(fleet._sink, sid, ctx, random.Random(3), chat=True, first=False, n_msgs=n_msgs,  # noqa: SLF001
              outcome="succeeded", rounds=1, throttle=False, load_ticks=1)
    fleet._runs[sid] = run  # noqa: SLF001 - started as start_run does, its outcome chosen
    run.tick()
    client = subscribe(fleet, sid)
    order: list[str] = []
    successor = None
    for _ in range(5000):
        got = step(fleet, [client], sid)
        for g in got:
            if g["type"] == "session_succeeded":
                successor = g["successor_id"]
                # Already on disk: the successor, the link, the info line.
                assert rows(store / "tau.db", "SELECT successor_id FROM sessions WHERE id = ?", sid)[0][0] == successor
                assert rows(store / "tau.db", "SELECT COUNT(*) FROM sessions WHERE id = ?", successor)[0][0] == 1
                last = rows(store / "tau.db", "SELECT json_extract(message_json, '$.role'),"
                            " json_extract(message_json, '$.text') FROM messages WHERE session_id = ?"
                            " ORDER BY id DESC LIMIT 2", sid)
                # (the tool's result was stored in the same tick, after it)
                assert last[1] == ("info", f"Session retired by {sid}; succeeded by {successor}. "
                                           "Future notifications forwarded."), last
                assert last[0][0] == "tool_result"
                # Then the handoff, queued for the successor, resumes it.
                assert fleet.server.is_live(successor)
                (sender,) = rows(store / "tau.db", "SELECT sender_info FROM queued_messages"
                                 " WHERE target_session_id = ?", successor)[0]
                assert sender == f"session_succeed from {sid}"
                order.append("succeeded")
            elif g.get("event", {}).get("type") == "tool_result" and g["event"]["tool_name"] == "session_succeed":
                order.append("tool_result")
        if "agent_done" in [g["type"] for g in got]:
            break
    assert order == ["succeeded", "tool_result"], order
    assert successor is not None
    client.close()
