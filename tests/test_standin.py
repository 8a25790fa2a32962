"""The demo's tau stand-in: its Unix socket and in-memory live state.

Against a real socket and real files, with plain ``socket`` / ``sqlite3``:
framing and error replies (TAU.md §7.1), what ``subscribe`` streams and how it
ends (§7.4), answers built the way tau builds them (§6, §7.3), and the life
of the server (start-up, clean shutdown, crash, restart; §1.2, §5.1).
Synchronisation is by markers injected into the stream, never by sleeping.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.harness import poll
from tui.demo import DemoFleet, TauServer, build_demo_store

NOW = 1_760_000_000_000
SIX = {"waiting", "preparing", "sending request", "rate limited", "compacting", "idle"}
INFO_KEYS = ["id", "model", "provider", "cwd", "message_count", "stats", "last_activity", "parent_id",
             "child_count", "child_budget", "tagline", "state", "context_pct", "archived", "project_name",
             "successor_id", "last_exit_status", "is_live", "turn_started_at_ms", "phase_started_at_ms"]
PARTIAL_KEYS = {"content", "api", "provider", "model", "usage", "stop_reason", "timestamp"}
DERIVED = {"thinking_start": "Thinking", "thinking_delta": "Thinking", "text_start": "Responding",
           "text_delta": "Responding", "toolcall_start": "Responding", "toolcall_end": "ToolExec",
           "tool_result": "ToolExec"}
MARK = b'{"type":"marker"}\n'
LABELS = {"Idle": "idle", "Waiting": "waiting", "Preparing": "preparing", "Connecting": "sending request",
          "Thinking": "thinking", "Responding": "working", "ToolExec": "running tools",
          "Compacting": "compacting", "RateLimited": "rate limited"}


def connect(path: Path) -> socket.socket:
    """Connect to a Unix socket, through /proc/self/fd when the path is too long."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    if len(os.fsencode(str(path))) > 107:
        fd = os.open(path.parent, os.O_PATH)
        try:
            s.connect(f"/proc/self/fd/{fd}/{path.name}")
        finally:
            os.close(fd)
    else:
        s.connect(str(path))
    return s


class Client:
    """One connection: send objects or bytes, read lines with a deadline."""

    def __init__(self, path: Path) -> None:
        self.sock = connect(path)
        self.buf = b""

    def send(self, obj: dict[str, Any] | bytes) -> None:
        self.sock.sendall(obj if isinstance(obj, bytes) else json.dumps(obj).encode() + b"\n")

    def raw_line(self, timeout: float = 10) -> bytes | None:
        """The next line as sent (with its newline); None at EOF."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no line within {timeout}s (have {self.buf[:80]!r})")
            self.sock.settimeout(left)
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    def line(self, timeout: float = 10) -> dict[str, Any]:
        raw = self.raw_line(timeout)
        assert raw is not None, "connection closed"
        return json.loads(raw)

    def ask(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.send(obj)
        return self.line()

    def until_marker(self) -> list[dict[str, Any]]:
        out = []
        while True:
            msg = self.line()
            if msg == {"type": "marker"}:
                return out
            out.append(msg)

    def at_eof(self, timeout: float = 10) -> bool:
        return self.raw_line(timeout) is None

    def close(self) -> None:
        self.sock.close()


def rows(path: Path, sql: str, *args: object) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    build_demo_store(tmp_path / "data", now_ms=NOW)
    return tmp_path / "data"


@pytest.fixture
def server(store: Path, tmp_path: Path) -> Iterator[TauServer]:
    srv = TauServer(tmp_path / "run", store).start()
    try:
        yield srv
    finally:
        srv.shutdown()


@contextmanager
def stepped_fleet(store: Path, run_dir: Path, **kw: Any) -> Iterator[DemoFleet]:
    """The demo fleet on the built store, its clock starting at the store's "now",
    stepped by the test (no run thread); stopped after."""
    t0 = time.monotonic()
    f = DemoFleet(store, seed=7, runtime_dir=run_dir, clock=lambda: NOW + int((time.monotonic() - t0) * 1000),
                  **kw).start(run_thread=False)
    try:
        yield f
    finally:
        f.stop()


@pytest.fixture
def fleet(store: Path, tmp_path: Path) -> Iterator[DemoFleet]:
    with stepped_fleet(store, tmp_path / "run") as f:
        yield f


def test_starts_as_tau_does(store: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "tau.sock").write_text("stale")
    srv = TauServer(run, store).start()
    try:
        assert stat.S_ISSOCK((run / "tau.sock").stat().st_mode)
        assert (run / "tau.pid").read_bytes() == str(os.getpid()).encode()
        c = Client(srv.socket_path)
        assert c.ask({"type": "list_sessions"})["type"] == "sessions"
        c.close()
    finally:
        srv.shutdown()
    assert not (run / "tau.sock").exists() and not (run / "tau.pid").exists()


def test_bad_lines_get_errors_and_the_connection_stays(server: TauServer) -> None:
    c = Client(server.socket_path)
    c.send(b"not json\n\n   \n[1]\n{\"type\":\"no_such_thing\"}\n{\"type\":\"get_session_info\"}\n"
           b"{\"type\":\"task_get\",\"id\":\"12\"}\n")
    errors = [c.line() for _ in range(5)]
    assert all(e["type"] == "error" and e["message"].startswith("bad request: ") for e in errors)
    assert "unknown variant `no_such_thing`" in errors[2]["message"]
    assert "missing field `session_id`" in errors[3]["message"]
    assert "invalid type" in errors[4]["message"]
    assert c.ask({"type": "get_project_info", "project_name": "tau", "extra": 1}) == {
        "type": "project_info", "project": {"name": "tau", "path": "/home/dev/src/tau"}}
    assert server.requests == [{"type": "get_project_info", "project_name": "tau", "extra": 1}]
    c.close()


def test_requests_on_one_connection_are_answered_in_order(server: TauServer) -> None:
    c = Client(server.socket_path)
    batch = [{"type": "get_session_info", "session_id": "s1"}, {"type": "get_session_info", "session_id": "zz"},
             {"type": "project_stats", "project_name": "webapp"}, {"type": "get_messages", "session_id": "zz"},
             {"type": "resolve_successor", "session_id": "s3"}, {"type": "list_models"}]
    c.send(b"".join(json.dumps(r).encode() + b"\n" for r in batch))
    got = [c.line() for _ in batch]
    assert [g["type"] for g in got] == ["session_info", "error", "project_stats", "messages",
                                        "resolved_successor", "models"]
    assert got[1]["message"] == "session not found: zz" and got[3]["messages"] == []
    stats = got[2]["stats"]
    assert list(stats)[:2] == ["project_name", "session_count"] and NOW - 3_600_000 < stats["last_activity"] <= NOW  # ms, not s
    assert got[4]["session_id"] != "s3"  # the tau orchestrator retired itself into a successor
    assert server.requests == batch
    c.close()


def test_mutating_requests_are_recorded_not_acted_on(server: TauServer, store: Path) -> None:
    before = rows(store / "tau.db", "SELECT COUNT(*), MAX(id) FROM messages")
    c = Client(server.socket_path)
    sent = [{"type": "chat", "session_id": "s1", "text": "hi"}, {"type": "archive_session", "session_id": "s1"},
            {"type": "task_update", "id": 3, "state": "closed"}, {"type": "get_subscription_usage"},
            {"type": "shutdown"}]
    for req in sent:
        assert c.ask(req)["type"] == "error"
    assert server.requests == sent and server.running
    assert rows(store / "tau.db", "SELECT COUNT(*), MAX(id) FROM messages") == before
    c.close()


def test_subscribe_phase_events_and_end_of_turn(server: TauServer) -> None:
    idle = Client(server.socket_path)
    idle.send({"type": "subscribe", "session_id": "nobody"})
    assert idle.raw_line() == b'{"type":"stream","event":{"type":"phase","phase":"Idle"}}\n'
    server.set_phase("s7", "ToolExec")
    c = Client(server.socket_path)
    c.send({"type": "subscribe", "session_id": "s7"})
    first = c.line()["event"]
    assert first["phase"] == "ToolExec" and first["turn_started_at_ms"] <= first["phase_started_at_ms"]
    poll(lambda: server.subscriber_count() == 2)
    server.emit("s7", {"type": "status", "message": "hello"})
    server.emit("s7", {"type": "thinking_delta", "content_index": 0, "delta": "hm", "partial": {}})
    server.set_phase("s7", "Connecting")
    server.end_turn("s7")
    msgs = [c.line() for _ in range(5)]
    assert msgs[0] == {"type": "stream", "event": {"type": "status", "message": "hello"}}
    assert msgs[1]["event"]["type"] == "thinking_delta"
    assert msgs[2]["event"]["phase"] == "Connecting"
    assert msgs[2]["event"]["turn_started_at_ms"] == first["turn_started_at_ms"]
    assert msgs[3:] == [{"type": "agent_done"}, {"type": "stream", "event": {"type": "phase", "phase": "Idle"}}]
    assert server.phase_of("s7") == ("Idle", None, None) and not server.is_live("s7")
    for cl in (idle, c):
        cl.close()


def test_a_client_byte_or_close_ends_a_subscription(server: TauServer) -> None:
    a, b = Client(server.socket_path), Client(server.socket_path)
    for cl in (a, b):
        cl.send({"type": "subscribe", "session_id": "s2"})
        cl.line()
    poll(lambda: server.subscriber_count("s2") == 2)
    a.send(b"x")
    poll(lambda: server.subscriber_count("s2") == 1)
    assert a.at_eof()
    b.close()
    poll(lambda: server.subscriber_count() == 0 and server.connection_count() == 0)
    a.close()


def test_injected_lines_stall_and_recovery(server: TauServer) -> None:
    c = Client(server.socket_path)
    c.send({"type": "subscribe", "session_id": "s2"})
    c.line()
    poll(lambda: server.subscriber_count("s2") == 1)
    server.inject_line("s2", b"\x00garbage\n")
    server.inject_line("s2", b'{"type":"stream","event":{"type":"status","message":"' + b"x" * 200_000 + b'"}}\n')
    assert c.raw_line() == b"\x00garbage\n"
    assert len(c.raw_line()) > 200_000
    server.stall(True)
    q = Client(server.socket_path)
    q.send({"type": "list_models"})
    with pytest.raises(TimeoutError):
        q.raw_line(timeout=0.3)
    server.stall(False)
    assert q.line()["type"] == "models"
    for cl in (c, q):
        cl.close()


def test_answers_are_built_as_tau_builds_them(fleet: DemoFleet, store: Path) -> None:
    c = Client(fleet.socket_path)
    live_sid = next(s for s in fleet.live_runs() if fleet.server.phase_of(s)[0] != "Idle")
    info = c.ask({"type": "get_session_info", "session_id": live_sid})["info"]
    assert list(info) == [k for k in INFO_KEYS if k in info]
    assert info["is_live"] and "turn_started_at_ms" in info and info["cwd"] is not None
    assert info["state"] in {"waiting", "preparing", "sending request", "thinking", "working", "running tools",
                             "compacting", "rate limited"}
    listed = c.ask({"type": "list_sessions"})["sessions"]
    order = [r[0] for r in rows(store / "tau.db", "SELECT id FROM sessions WHERE archived = 0 ORDER BY created_at")]
    assert [s["id"] for s in listed] == order
    everything = c.ask({"type": "list_sessions", "include_archived": True})["sessions"]
    assert len(everything) > len(listed)
    counts = dict(rows(store / "tau.db", "SELECT session_id, COUNT(*) FROM messages GROUP BY session_id"))
    assert all(s["message_count"] == counts.get(s["id"], 0) for s in everything)
    idle = next(s for s in listed if not s["is_live"])
    assert idle["state"] == "idle" and "turn_started_at_ms" not in idle
    # task_get: rows whose session is gone are dropped; last_phase comes from memory
    (bare_task,) = {t for t, s in rows(store / "tasks.db", "SELECT task_id, session_id FROM task_sessions")
                    if not rows(store / "tau.db", "SELECT 1 FROM sessions WHERE id = ?", s)}
    detail = c.ask({"type": "task_get", "id": bare_task})
    linked = rows(store / "tasks.db", "SELECT COUNT(*) FROM task_sessions WHERE task_id = ?", bare_task)[0][0]
    assert len(detail["sessions"]) == linked - 1
    live_task = next(t for t, s in rows(store / "tasks.db", "SELECT task_id, session_id FROM task_sessions")
                     if s == live_sid)
    detail = c.ask({"type": "task_get", "id": live_task})
    mine = next(s for s in detail["sessions"] if s["session_id"] == live_sid)
    assert mine["is_live"] and mine["last_phase"] == LABELS[fleet.server.phase_of(live_sid)[0]]
    assert detail["task"]["has_live_session"]
    assert c.ask({"type": "task_get", "id": 999}) == {"type": "error", "message": "task 999 not found"}
    c.close()


def test_task_overview_buckets_and_wait_reasons(fleet: DemoFleet, store: Path) -> None:
    c = Client(fleet.socket_path)
    seen_reasons: list[Any] = []
    for project in ("tau", "sessiontop", "webapp"):
        ov = c.ask({"type": "task_overview", "project": project})
        assert list(ov)[:9] == ["type", "active", "queued_ready", "queued_planning", "blocked", "held",
                                "recently_merged", "recently_done", "recently_closed"]
        assert ov["max_concurrent"] == 8 and ov["inflight_count"] >= len(ov["active"]) - 1
        for bucket, states in (("active", {"active", "review", "merging", "refining"}),
                               ("queued_ready", {"ready"}), ("queued_planning", {"planning"}),
                               ("recently_merged", {"merged"}), ("recently_closed", {"closed"})):
            assert {t["state"] for t in ov[bucket]} <= states
        seen_reasons += [r for w in ov.get("wait_reasons", []) for r in w["reasons"]]
        live_tasks = {t for t, s in rows(store / "tasks.db", "SELECT task_id, session_id FROM task_sessions")
                      if fleet.server.is_live(s)}
        for bucket in ("active", "queued_ready", "queued_planning", "blocked", "held"):
            for t in ov[bucket]:
                assert t["has_live_session"] == (t["id"] in live_tasks)
        tree = c.ask({"type": "task_list", "project": project})
        assert tree["type"] == "task_tree" and all(isinstance(d, int) for d, _ in tree["tasks"])
        assert not {t["state"] for _, t in tree["tasks"]} & {"merged", "closed"}
    assert "NotScheduled" in seen_reasons and any("Dependency" in r for r in seen_reasons if isinstance(r, dict))
    c.close()


def test_a_streamed_turn_as_tau_streams_it(fleet: DemoFleet, store: Path) -> None:
    """Deltas carry the whole partial; phases derive from events; messages reach the
    disk only whole; the turn ends with agent_done (or cancelled) then Idle."""
    sid = next(s for s in fleet.live_runs() if fleet.server.phase_of(s)[0] in ("Thinking", "Responding")
               and not fleet.waiting(s))
    c = Client(fleet.socket_path)
    c.send({"type": "subscribe", "session_id": sid})
    first = c.line()["event"]
    assert first["phase"] in ("Thinking", "Responding") and "turn_started_at_ms" in first
    poll(lambda: fleet.server.subscriber_count(sid) == 1)
    texts: dict[int, str] = {}
    stream: list[dict[str, Any]] = []
    for _ in range(3000):
        before = rows(store / "tau.db", "SELECT COUNT(*) FROM messages WHERE session_id = ?", sid)[0][0]
        fleet.stream_step()
        fleet.server.inject_line(sid, MARK)
        got = c.until_marker()
        stream += got
        after = rows(store / "tau.db", "SELECT COUNT(*), MAX(id) FROM messages WHERE session_id = ?", sid)[0]
        phased = [m["event"] for m in got if m["type"] == "stream" and (
            m["event"]["type"] in DERIVED or m["event"]["type"] == "phase")]
        if phased:  # the server's phase is the one the last event implies
            last = phased[-1]
            assert fleet.server.phase_of(sid)[0] == DERIVED.get(last["type"], last.get("phase"))
        for msg in got:
            ev = msg.get("event", {})
            kind = ev.get("type", msg["type"])
            if kind in ("start", "text_start", "thinking_start", "toolcall_start"):
                assert PARTIAL_KEYS <= ev["partial"].keys()
                texts = {} if kind == "start" else texts
            if kind in ("text_delta", "thinking_delta"):
                i, field = ev["content_index"], kind.split("_")[0]
                texts[i] = texts.get(i, "") + ev["delta"]
                assert ev["partial"]["content"][i][field] == texts[i]
                assert PARTIAL_KEYS <= ev["partial"].keys() and after[0] == before
            if kind == "done":
                (stored,) = rows(store / "tau.db", "SELECT message_json FROM messages WHERE id = ?", after[1])[0]
                assert json.loads(stored) == {"role": "assistant", **ev["message"]}
        if any(m["type"] in ("agent_done", "cancelled") for m in got):
            break
    kinds = [m.get("event", {}).get("type", m["type"]) for m in stream]
    end = max(i for i, k in enumerate(kinds) if k in ("agent_done", "cancelled"))
    if end + 1 == len(stream):  # the Idle phase can come with the next tick
        fleet.stream_step()
        fleet.server.inject_line(sid, MARK)
        stream += c.until_marker()
    assert stream[end + 1] == {"type": "stream", "event": {"type": "phase", "phase": "Idle"}}
    assert {"text_delta", "thinking_delta"} & set(kinds)
    assert not fleet.server.is_live(sid)
    phase = rows(store / "tau.db", "SELECT last_phase FROM sessions WHERE id = ?", sid)[0][0]
    assert phase == "idle"
    c.close()


def test_clean_shutdown_notifies_resets_and_removes(store: Path, tmp_path: Path) -> None:
    baseline = threading.active_count()
    fleet = DemoFleet(store, seed=7, runtime_dir=tmp_path / "run").start()
    sub, plain = Client(fleet.socket_path), Client(fleet.socket_path)
    sub.send({"type": "subscribe", "session_id": fleet.live_runs()[0]})
    sub.line()
    assert plain.ask({"type": "list_models"})["type"] == "models"
    poll(lambda: fleet.server.subscriber_count() == 1)
    assert set(r[0] for r in rows(store / "tau.db", "SELECT last_phase FROM sessions")) - {None, "idle"}
    fleet.stop()
    for cl in (sub, plain):
        line = cl.raw_line()
        while line is not None and b"server_shutdown" not in line:
            line = cl.raw_line()
        assert line == b'{"type":"server_shutdown","restart":false}\n'
        assert cl.at_eof()
        cl.close()
    assert not fleet.socket_path.exists() and not fleet.pid_path.exists()
    assert {r[0] for r in rows(store / "tau.db", "SELECT DISTINCT last_phase FROM sessions")} <= {None, "idle"}
    poll(lambda: threading.active_count() <= baseline)


def test_crash_leaves_everything_and_restart_is_a_new_server(fleet: DemoFleet, store: Path) -> None:
    live = fleet.live_runs()[0]
    c = Client(fleet.socket_path)
    c.send({"type": "subscribe", "session_id": live})
    c.line()
    poll(lambda: fleet.server.subscriber_count() == 1)
    old = os.open(fleet.socket_path, os.O_PATH)  # holds the old inode: its number cannot be reused
    stale = rows(store / "tau.db", "SELECT id, last_phase FROM sessions WHERE last_phase != 'idle'")
    fleet.server.crash()
    assert c.at_eof()
    assert fleet.socket_path.exists() and fleet.pid_path.exists() and stale
    assert rows(store / "tau.db", "SELECT id, last_phase FROM sessions WHERE last_phase != 'idle'") == stale
    with pytest.raises(ConnectionRefusedError):
        connect(fleet.socket_path)
    fleet.server.start()
    assert fleet.socket_path.stat().st_ino != os.fstat(old).st_ino
    os.close(old)
    assert fleet.server.phase_of(live) == ("Idle", None, None)  # memory is empty after every start
    d = Client(fleet.socket_path)
    info = d.ask({"type": "get_session_info", "session_id": live})["info"]
    assert not info["is_live"] and info["state"] == "idle"
    for cl in (c, d):
        cl.close()


def test_restart_resumes_unfinished_turns_as_tau_does(fleet: DemoFleet, store: Path) -> None:
    exits = dict(rows(store / "tau.db", "SELECT id, last_exit_status FROM sessions"))
    resumed = fleet.restart(crash=True)
    assert resumed and all(exits[s] != "completed" for s in resumed)
    for sid in resumed:
        texts = [json.loads(m)["text"] for (m,) in rows(
            store / "tau.db", "SELECT message_json FROM messages WHERE session_id = ? AND"
            " json_extract(message_json, '$.role') = 'info'", sid)]
        assert "Resumed after server restart." in texts
        assert fleet.server.is_live(sid)
    assert dict(rows(store / "tau.db", "SELECT id, last_exit_status FROM sessions")) == exits


def test_a_long_runtime_path(store: Path, tmp_path: Path) -> None:
    run = tmp_path / ("r" * 60) / ("u" * 60)
    srv = TauServer(run, store).start()
    try:
        assert len(str(srv.socket_path)) > 107
        c = Client(srv.socket_path)
        assert c.ask({"type": "auth_status"})["type"] == "auth_status"
        c.close()
    finally:
        srv.shutdown()
    assert not srv.socket_path.exists()


def _whole_turn(fleet: DemoFleet, sid: str, start: Callable[[], object]) -> list[dict[str, Any]]:
    """Subscribe to an idle session, start a turn, and stream it to its Idle."""
    c = Client(fleet.socket_path)
    c.send({"type": "subscribe", "session_id": sid})
    assert c.line() == {"type": "stream", "event": {"type": "phase", "phase": "Idle"}}
    poll(lambda: fleet.server.subscriber_count(sid) == 1)
    start()
    stream: list[dict[str, Any]] = []
    for _ in range(5000):
        fleet.server.inject_line(sid, MARK)
        stream += c.until_marker()
        if stream and stream[-1] == {"type": "stream", "event": {"type": "phase", "phase": "Idle"}}:
            break
        fleet.stream_step()
    c.close()
    return stream


def _terminal(stream: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages after the last stream event but the final Idle."""
    i = len(stream) - 1
    while i > 0 and stream[i - 1]["type"] != "stream":
        i -= 1
    return stream[i - 1:]


def test_a_task_session_turn_from_its_start(fleet: DemoFleet, store: Path) -> None:
    sid = rows(store / "tasks.db", "SELECT ts.session_id FROM task_sessions ts JOIN tasks t ON t.id = ts.task_id"
               " WHERE ts.role = 'planner' AND t.state NOT IN ('merged','done','closed','failed')")[0][0]
    assert not fleet.server.is_live(sid)
    exit_before = rows(store / "tau.db", "SELECT last_exit_status FROM sessions WHERE id = ?", sid)[0][0]
    stream = _whole_turn(fleet, sid, lambda: fleet.start_run(sid))
    assert stream[0]["type"] == "user_message"
    first_phase = next(m["event"] for m in stream if m["type"] == "stream" and m["event"]["type"] == "phase")
    assert first_phase["phase"] in ("Connecting", "RateLimited") and "turn_started_at_ms" in first_phase
    assert not any(m.get("event", {}).get("phase") == "Preparing" for m in stream)  # only chats prepare
    end = _terminal(stream)
    assert end[-1] == {"type": "stream", "event": {"type": "phase", "phase": "Idle"}}
    assert end[-2]["type"] in ("agent_done", "cancelled")
    assert all(m["type"] != "error" or m["message"].startswith("child agent") for m in end)
    assert rows(store / "tau.db", "SELECT last_phase, last_exit_status FROM sessions WHERE id = ?", sid) == [
        ("idle", exit_before)]  # no exit status for a run tau starts itself


def test_a_chat_turn_from_its_start(fleet: DemoFleet, store: Path) -> None:
    sid = next(s for (s,) in rows(store / "tasks.db", "SELECT session_id FROM task_sessions WHERE role = 'interactive'")
               if not fleet.server.is_live(s))
    stream = _whole_turn(fleet, sid, lambda: fleet.chat(sid))
    phases = [m["event"]["phase"] for m in stream if m["type"] == "stream" and m["event"]["type"] == "phase"]
    assert phases[0] == "Preparing" and phases[-1] == "Idle"
    assert stream[1]["type"] == "user_message"
    end = _terminal(stream)
    status = rows(store / "tau.db", "SELECT last_phase, last_exit_status FROM sessions WHERE id = ?", sid)[0]
    assert status[0] == "idle"
    if end[-2]["type"] == "cancelled":
        assert status[1] == "cancelled"
    elif any(m["type"] == "error" for m in end):
        assert status[1] == ("panicked" if "panicked" in end[0]["message"] else "error")
    else:
        assert status[1] in ("completed", "max_turns", "succeeded")
