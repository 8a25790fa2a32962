"""The demo fleet writes what tau persists, and only that, like a tau server.

Read back with plain sqlite3 only: the project's own store reader is not a
dependency of these tests. The socket side is in test_standin.py.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import poll
from tui.demo import DemoFleet, build_demo_store
from tui.tau.ddl import create_store

NOW = 1_760_000_000_000  # a fixed "now" (ms) so two builds can be compared
REPO = Path(__file__).resolve().parent.parent
EXITS = {"completed", "succeeded", "error", "cancelled", "max_turns", "panicked"}
TERMINAL = ("merged", "done", "closed", "failed")
SIX = {"waiting", "preparing", "sending request", "rate limited", "compacting", "idle"}
TASK_ROLES = ("worker", "planner", "refiner", "reviewer")


def rows(path: Path, sql: str, *args: object) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def dump(data_dir: Path) -> dict[str, list[tuple]]:
    """Every row of every table of both files, in a stable order."""
    out: dict[str, list[tuple]] = {}
    for name in ("tasks.db", "tau.db"):
        tables = [r[0] for r in rows(data_dir / name, "SELECT name FROM sqlite_master WHERE type='table'")]
        for t in tables:
            out[f"{name}:{t}"] = sorted(rows(data_dir / name, f"SELECT * FROM {t}"), key=repr)
    return out


@pytest.fixture
def store(tmp_path: Path) -> Path:
    build_demo_store(tmp_path, now_ms=NOW)
    return tmp_path


def check_consistent(d: Path) -> None:
    """Invariants any moment of the store must keep (TAU.md §2-§5)."""
    sessions = {r[0]: r[1:] for r in rows(d / "tau.db", "SELECT id, archived, last_phase, last_exit_status,"
                                                         " parent_id, json_extract(model_json, '$.api') FROM sessions")}
    created = dict(rows(d / "tau.db", "SELECT id, created_at FROM sessions"))
    owners = {r[0] for r in rows(d / "tau.db", "SELECT DISTINCT session_id FROM messages")}
    assert owners <= set(sessions)
    for (js,) in rows(d / "tau.db", "SELECT message_json FROM messages"):
        assert json.loads(js)["role"] in {"user", "assistant", "tool_result", "compaction_summary", "info"}
    # only tau's six phase labels reach the disk
    assert {v[1] for v in sessions.values()} <= SIX | {None}
    # exit statuses only where a socket chat ran: never on task-run sessions or placeholders
    task_run = {r[0] for r in rows(d / "tasks.db", "SELECT session_id FROM task_sessions WHERE role IN"
                                                   f" {TASK_ROLES}")}
    for sid, (_, _, status, _, api) in sessions.items():
        if status is not None:
            assert sid not in task_run and api != "log", sid
            assert status in EXITS
    tasks = rows(d / "tasks.db", "SELECT id, state, placeholder_session_id FROM tasks")
    for t_id, state, placeholder in tasks:
        hist = rows(d / "tasks.db", "SELECT new_value FROM task_history WHERE task_id = ? AND field = 'state'"
                    " ORDER BY id DESC LIMIT 1", t_id)
        assert hist and hist[0][0] == state, (t_id, state, hist)
        assert sessions[placeholder][4] == "log"
        # the task's own sessions live under its placeholder
        for (sid,) in rows(d / "tasks.db", "SELECT session_id FROM task_sessions WHERE task_id = ? AND role"
                                           " NOT IN ('creator', 'contributor')", t_id):
            if sid in sessions:
                assert sessions[sid][3] == placeholder, (t_id, sid)
        # a finished task's placeholder subtree is archived, each with an info. (tau refuses the
        # archive while a session of the tree is live, and later children are not archived.)
        if state in TERMINAL and sessions[placeholder][0]:
            (when,) = rows(d / "tau.db", "SELECT MIN(created_at) FROM messages WHERE session_id = ? AND"
                           " json_extract(message_json, '$.text') = 'Session archived.'", placeholder)[0]
            subtree, todo = set(), [placeholder]
            while todo:
                sid = todo.pop()
                subtree.add(sid)
                todo += [k for k, v in sessions.items() if v[3] == sid and created[k] <= when]
            for sid in subtree:
                assert sessions[sid][0] == 1, (t_id, sid)
                assert rows(d / "tau.db", "SELECT COUNT(*) FROM messages WHERE session_id = ? AND json_extract("
                            "message_json, '$.text') = 'Session archived.'", sid)[0][0] >= 1, (t_id, sid)


def test_initial_fleet_has_every_group(store: Path) -> None:
    t = store / "tasks.db"
    tasks = rows(t, "SELECT id, state, held FROM tasks")
    assert 14 <= len(tasks) <= 20
    states = [s for _, s, _ in tasks]
    assert sum(s in ("active", "review", "merging", "refining", "approved") for s in states) >= 3
    assert sum(s in ("ready", "planning") for s in states) >= 3
    assert "failed" in states and sum(s in ("merged", "done", "closed") for s in states) >= 3
    assert sum(h for _, _, h in tasks) == 1
    blocked = rows(t, "SELECT r.from_task FROM task_relations r JOIN tasks d ON d.id = r.to_task"
                      f" WHERE r.relation = 'depends_on' AND d.state NOT IN {TERMINAL}")
    assert blocked
    assert {r[0] for r in rows(t, "SELECT DISTINCT project_name FROM tasks")} \
        >= {"tau", "sessiontop", "webapp"}


def test_initial_sessions_and_messages(store: Path) -> None:
    linked = {r[0] for r in rows(store / "tasks.db", "SELECT session_id FROM task_sessions")}
    sessions = rows(store / "tau.db", "SELECT id, archived, last_exit_status, last_phase, model_json FROM sessions")
    ids = {r[0] for r in sessions}
    assert linked - ids, "the bare row: a task_sessions row whose session is gone"
    assert all(i.startswith("s") and i[1:].isdigit() for i in ids | linked)
    assert any(a for _, a, _, _, _ in sessions)
    assert {e for _, _, e, _, _ in sessions} >= EXITS
    assert {p for _, a, _, p, _ in sessions if not a} >= SIX - {"idle"}  # caught mid-turn
    assert all(p in (None, "idle") for _, a, _, p, _ in sessions if a)
    model_keys = {"id", "name", "api", "provider", "base_url", "thinking", "cost", "context_window", "max_tokens"}
    assert all(json.loads(m).keys() == model_keys for *_, m in sessions)
    roles = {r[0] for r in rows(store / "tasks.db", "SELECT role FROM task_sessions")}
    assert {"creator", "planner", "refiner", "worker", "reviewer", "interactive"} <= roles
    seen: set[str] = set()
    for (js,) in rows(store / "tau.db", "SELECT message_json FROM messages"):
        msg = json.loads(js)
        seen.add(msg["role"])
        assert isinstance(msg["timestamp"], int)
        if msg["role"] == "assistant":
            assert list(msg)[:4] == ["role", "content", "api", "provider"] and msg["model"]
            u = msg["usage"]
            assert list(u) == ["input", "output", "cache_read", "cache_write", "total_tokens", "cost"]
            assert u["total_tokens"] == u["input"] + u["output"] + u["cache_read"] + u["cache_write"]
            cost = u["cost"]
            assert list(cost) == ["input", "output", "cache_read", "cache_write", "total"]
            assert cost["total"] == pytest.approx(cost["input"] + cost["output"] + cost["cache_read"]
                                                  + cost["cache_write"])
            assert msg["stop_reason"] in ("stop", "length", "tool_use", "error", "aborted")
        if msg["role"] == "tool_result":
            assert msg["tool_call_id"] and msg["content"][0]["type"] == "text"
            assert isinstance(msg["is_error"], bool)
    assert seen == {"user", "assistant", "tool_result", "compaction_summary", "info"}
    errs = rows(store / "tau.db", "SELECT COUNT(*) FROM messages WHERE json_extract(message_json, '$.is_error') = 1")
    assert errs[0][0] > 0
    check_consistent(store)


def test_times_are_recent(store: Path) -> None:
    newest = rows(store / "tau.db", "SELECT MAX(created_at), MIN(created_at) FROM messages")[0]
    assert NOW - 60_000 < newest[0] <= NOW
    assert newest[1] > NOW - 7 * 24 * 3600 * 1000
    for created, updated in rows(store / "tasks.db", "SELECT created_at, updated_at FROM tasks"):
        assert created <= updated <= NOW


def test_same_seed_same_store(tmp_path: Path) -> None:
    build_demo_store(tmp_path / "a", seed=3, now_ms=NOW)
    build_demo_store(tmp_path / "b", seed=3, now_ms=NOW)
    build_demo_store(tmp_path / "c", seed=4, now_ms=NOW)
    assert dump(tmp_path / "a") == dump(tmp_path / "b")
    assert dump(tmp_path / "a") != dump(tmp_path / "c")


def test_build_refuses_to_double_a_fleet(store: Path) -> None:
    with pytest.raises(FileExistsError):
        build_demo_store(store, now_ms=NOW)


def test_steps_change_the_store_and_keep_it_consistent(store: Path) -> None:
    before = dump(store)
    fleet = DemoFleet(store, seed=7)
    try:
        descriptions = [fleet.step() for _ in range(400)]
    finally:
        fleet.close()
    after = dump(store)
    assert len(after["tau.db:messages"]) > len(before["tau.db:messages"])
    assert after["tau.db:sessions"] != before["tau.db:sessions"]
    assert after["tasks.db:tasks"] != before["tasks.db:tasks"]
    assert len(after["tasks.db:task_history"]) > len(before["tasks.db:task_history"])
    assert any("joined" in d for d in descriptions) and any("->" in d for d in descriptions)
    assert any("turn ended" in d for d in descriptions)
    check_consistent(store)
    # updated_at is bumped with each state change
    for t_id, updated in rows(store / "tasks.db", "SELECT id, updated_at FROM tasks"):
        last = rows(store / "tasks.db", "SELECT MAX(created_at) FROM task_history WHERE task_id = ?", t_id)[0][0]
        assert updated >= last


def test_steps_are_seeded(tmp_path: Path) -> None:
    clock = lambda: NOW + 1000  # noqa: E731 - timing aside, the changes repeat
    for name in ("a", "b"):
        build_demo_store(tmp_path / name, now_ms=NOW)
        fleet = DemoFleet(tmp_path / name, seed=11, clock=clock)
        for i in range(150):
            fleet.step()
            if i % 3 == 0:
                fleet.stream_step()
        fleet.close()
    assert dump(tmp_path / "a") == dump(tmp_path / "b")


def test_thread_writes_then_stops_cleanly(tmp_path: Path) -> None:
    fleet = DemoFleet(tmp_path / "data", seed=5, speed=4.0)
    watcher: sqlite3.Connection | None = None
    with fleet:
        assert fleet.running
        assert fleet.pid_path == tmp_path / "data" / "run" / "tau.pid"
        assert fleet.pid_path.read_text() == str(os.getpid())
        assert fleet.socket_path == tmp_path / "data" / "run" / "tau.sock" and fleet.server.running
        watcher = sqlite3.connect(fleet.tau_path)
        version = watcher.execute("PRAGMA data_version").fetchone()[0]
        count = watcher.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        poll(lambda: watcher.execute("SELECT COUNT(*) FROM messages").fetchone()[0] > count
             and watcher.execute("PRAGMA data_version").fetchone()[0] != version,
             what="the simulator to write")
        with pytest.raises(RuntimeError):
            fleet.step()
    assert not fleet.running and fleet.error is None
    assert not fleet.pid_path.exists() and not fleet.socket_path.exists()
    assert {r[0] for r in watcher.execute("SELECT DISTINCT last_phase FROM sessions")} <= {"idle", None}
    watcher.close()
    fleet.stop()  # idempotent
    check_consistent(tmp_path / "data")


class SimulatedTime:
    """The simulator thread's clock, simulated: it stands still until a wait moves
    it on by the wait's timeout, at once. The thread's loop then runs the same
    on any machine, however loaded: its pace is its own, not the machine's."""

    def __init__(self, seconds: float) -> None:
        self.now, self.end = 0.0, seconds

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return NOW / 1000 + self.now


class SimulatedStop:
    """The thread's stop event on that clock: set once the simulated time is up."""

    def __init__(self, clock: SimulatedTime) -> None:
        self.clock = clock

    def is_set(self) -> bool:
        return self.clock.now >= self.clock.end

    def wait(self, timeout: float) -> bool:
        self.clock.now += timeout
        return self.is_set()

    def set(self) -> None:
        self.clock.now = max(self.clock.now, self.clock.end)

    def clear(self) -> None:
        pass


def test_speed_scales_the_rate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--speed 4 makes four times the changes in the same time. The thread's own
    loop runs on a simulated clock (each of its waits moves it on at once), so
    the count is the loop's, not how fast this machine runs it."""
    steps = {}
    for name, speed in (("slow", 1.0), ("fast", 4.0)):
        clock = SimulatedTime(10.0)
        monkeypatch.setattr("tui.demo.fleet.time", clock)
        fleet = DemoFleet(tmp_path / name, speed=speed, clock=lambda: NOW)
        fleet.start(run_thread=False)
        fleet._stop = SimulatedStop(clock)  # type: ignore[assignment]  # noqa: SLF001
        try:
            fleet._run()  # noqa: SLF001 - the thread's loop, here, for 10 simulated seconds
            assert fleet.error is None, fleet.error
            steps[name] = fleet.steps
        finally:
            fleet.stop()
    # Four times, give or take where the changes fall on the loop's 70 ms beat.
    assert steps["slow"] > 0 and 3.5 * steps["slow"] <= steps["fast"] <= 4.5 * steps["slow"], steps


def test_module_runs_as_a_process(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "tui.demo", "--data-dir", str(tmp_path), "--duration", "1"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert rows(tmp_path / "tasks.db", "SELECT COUNT(*) FROM tasks")[0][0] >= 14
    assert rows(tmp_path / "tau.db", "SELECT COUNT(*) FROM sessions WHERE last_phase != 'idle'")[0][0] == 0
    assert not (tmp_path / "run" / "tau.pid").exists()


def test_process_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "tui.demo", "--data-dir", str(tmp_path)],
                            cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    pid_file = tmp_path / "run" / "tau.pid"
    try:
        poll(lambda: int(pid_file.read_text().strip()) == proc.pid, what="tau.pid written")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(10)
        sock.connect(str(tmp_path / "run" / "tau.sock"))
        sock.sendall(b'{"type":"task_overview","project":"tau"}\n')
        reply = b""
        while not reply.endswith(b"\n"):
            reply += sock.recv(1 << 20)
        assert json.loads(reply)["type"] == "task_overview"
        proc.terminate()
        assert sock.recv(1 << 20) == b'{"type":"server_shutdown","restart":false}\n'
        sock.close()
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not pid_file.exists() and not (tmp_path / "run" / "tau.sock").exists()
    assert rows(tmp_path / "tau.db", "SELECT COUNT(*) FROM sessions WHERE last_phase != 'idle'")[0][0] == 0


def test_compaction_deletes_rows_and_inserts_one_summary(store: Path) -> None:
    """db.rs compact_session: rows below the first kept one go; one summary row comes,
    with a higher id than the kept rows and the compaction time as created_at."""
    (sid,) = rows(store / "tau.db", "SELECT id FROM sessions WHERE last_phase = 'compacting'")[0]
    before = rows(store / "tau.db", "SELECT id, json_extract(message_json, '$.role') FROM messages"
                                    " WHERE session_id = ? ORDER BY id", sid)
    fleet = DemoFleet(store, seed=7, clock=lambda: NOW + 5000)
    try:
        for _ in range(400):
            fleet.step()
            now = rows(store / "tau.db", "SELECT id, json_extract(message_json, '$.role'), created_at FROM messages"
                                         " WHERE session_id = ? ORDER BY id", sid)
            if [r[:2] for r in now[:len(before)]] != before:
                break
        else:
            pytest.fail("the compaction never happened")
    finally:
        fleet.close()
    summary = now[-1] if now[-1][1] == "compaction_summary" else next(
        r for r in now if r[1] == "compaction_summary" and r[0] > before[-1][0])
    kept = [r for r in now if r[0] < summary[0]]
    assert len(now) < len(before) + 2 and summary[2] == NOW + 5000
    assert kept and [r[:2] for r in kept] == before[len(before) - len(kept):]  # the newest rows stay
    assert kept[0][1] in ("user", "info", "compaction_summary")  # a cut only at a turn boundary
    assert all(r[0] > summary[0] for r in now if r[0] not in {k[0] for k in kept} and r != summary)
    assert rows(store / "tau.db", "SELECT last_exit_status FROM sessions WHERE id = ?", sid)[0][0] in EXITS


def test_finishing_a_task_archives_its_subtree_and_nothing_else(store: Path) -> None:
    fleet = DemoFleet(store, seed=3, clock=lambda: NOW + 7000)
    try:
        for _ in range(600):
            what = fleet.step()
            if any(f"-> {s}" in what for s in TERMINAL):
                break
        else:
            pytest.fail("no task finished")
    finally:
        fleet.close()
    t_id = int(what.split()[1].rstrip(":"))
    (placeholder, creator), = rows(store / "tasks.db", "SELECT placeholder_session_id, filed_by_session_id"
                                                       " FROM tasks WHERE id = ?", t_id)
    archived_now = {r[0] for r in rows(store / "tau.db", "SELECT session_id FROM messages WHERE created_at = ?"
                                       " AND json_extract(message_json, '$.text') = 'Session archived.'", NOW + 7000)}
    assert placeholder in archived_now
    assert rows(store / "tau.db", "SELECT COUNT(*) FROM sessions WHERE id IN (%s) AND archived = 0"
                % ",".join("?" * len(archived_now)), *archived_now)[0][0] == 0
    if creator is not None:
        assert creator not in archived_now
    check_consistent(store)


# tau's own schema, column by column: (name, type, not null, default, pk) as SQLite reports it.
TAU_SESSIONS = [("id", "TEXT", 0, None, 1), ("model_json", "TEXT", 1, None, 0), ("system_prompt", "TEXT", 0, None, 0),
                ("cwd", "TEXT", 0, None, 0), ("is_subscription", "INTEGER", 1, "0", 0),
                ("created_at", "INTEGER", 1, None, 0), ("parent_id", "TEXT", 0, None, 0),
                ("child_budget", "INTEGER", 1, "16", 0), ("tagline", "TEXT", 0, None, 0),
                ("archived", "INTEGER", 1, "0", 0), ("last_exit_status", "TEXT", 0, None, 0),
                ("last_phase", "TEXT", 0, None, 0), ("auto_archive", "INTEGER", 1, "0", 0),
                ("notify_parent", "INTEGER", 1, "1", 0), ("project_name", "TEXT", 0, None, 0),
                ("successor_id", "TEXT", 0, None, 0), ("resume_on_restart", "INTEGER", 1, "1", 0)]
TAU_OTHERS = {
    "messages": [("id", "INTEGER", 0, None, 1), ("session_id", "TEXT", 1, None, 0),
                 ("message_json", "TEXT", 1, None, 0), ("created_at", "INTEGER", 1, None, 0)],
    "queued_messages": [("id", "INTEGER", 0, None, 1), ("target_session_id", "TEXT", 1, None, 0),
                        ("content", "TEXT", 1, None, 0), ("sender_info", "TEXT", 0, None, 0),
                        ("created_at", "INTEGER", 1, None, 0)],
    "projects": [("name", "TEXT", 0, None, 1), ("path", "TEXT", 1, None, 0), ("last_seen", "INTEGER", 1, None, 0),
                 ("created_at", "INTEGER", 1, None, 0)],
    "migrations": [("name", "TEXT", 0, None, 1), ("applied_at", "INTEGER", 1, None, 0)],
}
TASKS_TASKS = [("id", "INTEGER", 0, None, 1), ("project_name", "TEXT", 1, None, 0), ("title", "TEXT", 1, None, 0),
               ("state", "TEXT", 1, "'interactive'", 0), ("priority", "INTEGER", 0, "0", 0),
               ("parent_id", "INTEGER", 0, None, 0), ("tags", "TEXT", 0, None, 0),
               ("affected_files", "TEXT", 0, None, 0), ("branch", "TEXT", 0, None, 0),
               ("worktree_path", "TEXT", 0, None, 0), ("session_id", "TEXT", 0, None, 0),
               ("skip_review", "INTEGER", 1, "0", 0), ("held", "INTEGER", 1, "0", 0),
               ("placeholder_session_id", "TEXT", 0, None, 0), ("auto_downgraded_from_ready", "INTEGER", 1, "0", 0),
               ("filed_by_project", "TEXT", 0, None, 0), ("filed_by_session_id", "TEXT", 0, None, 0),
               ("no_merge", "INTEGER", 1, "0", 0), ("dispatch_failure_count", "INTEGER", 1, "0", 0),
               ("created_at", "INTEGER", 1, None, 0), ("updated_at", "INTEGER", 1, None, 0),
               ("require_approval", "INTEGER", 1, "0", 0), ("merge_target", "TEXT", 0, None, 0),
               ("sandbox_profile", "TEXT", 0, None, 0)]
TASKS_OTHERS = {
    "task_messages": [("id", "INTEGER", 0, None, 1), ("task_id", "INTEGER", 1, None, 0),
                      ("content", "TEXT", 1, None, 0), ("author", "TEXT", 0, None, 0),
                      ("created_at", "INTEGER", 1, None, 0), ("updated_at", "INTEGER", 1, None, 0)],
    "task_relations": [("from_task", "INTEGER", 1, None, 1), ("to_task", "INTEGER", 1, None, 2),
                       ("relation", "TEXT", 1, None, 3)],
    "task_sessions": [("task_id", "INTEGER", 1, None, 1), ("session_id", "TEXT", 1, None, 2),
                      ("role", "TEXT", 1, "'worker'", 0), ("created_at", "INTEGER", 1, None, 0)],
    "task_history": [("id", "INTEGER", 0, None, 1), ("task_id", "INTEGER", 1, None, 0),
                     ("field", "TEXT", 1, None, 0), ("old_value", "TEXT", 0, None, 0),
                     ("new_value", "TEXT", 0, None, 0), ("session_id", "TEXT", 0, None, 0),
                     ("created_at", "INTEGER", 1, None, 0)],
}


def layout(path: Path) -> dict[str, list[tuple]]:
    out = {}
    for (name,) in rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'"):
        out[name] = [tuple(r[1:]) for r in rows(path, f"PRAGMA table_info({name})")]
    out["indexes"] = sorted(rows(path, "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index'"
                                       " AND name NOT LIKE 'sqlite_autoindex%'"))
    return out


def test_the_ddl_is_taus(tmp_path: Path) -> None:
    """db.rs Db::open and tasks_db.rs SCHEMA + migrate, for a new store and for the oldest."""
    create_store(tmp_path / "new")
    create_store(tmp_path / "new")  # opening again changes nothing, as in tau
    assert layout(tmp_path / "new" / "tau.db") == {
        "sessions": TAU_SESSIONS, **TAU_OTHERS,
        "indexes": [("idx_messages_session", "messages"), ("idx_queued_target", "queued_messages"),
                    ("idx_sessions_parent", "sessions")]}
    assert layout(tmp_path / "new" / "tasks.db") == {
        "tasks": TASKS_TASKS, **TASKS_OTHERS,
        "indexes": [("idx_task_history_task", "task_history"), ("idx_task_messages_task", "task_messages"),
                    ("idx_tasks_parent", "tasks"), ("idx_tasks_project_state", "tasks")]}
    create_store(tmp_path / "old", old=True)
    old_tau = layout(tmp_path / "old" / "tau.db")
    assert old_tau["sessions"] == [TAU_SESSIONS[i] for i in (0, 1, 2, 4, 5)]
    assert old_tau.keys() == {"sessions", "messages", "indexes"}
    old_tasks = layout(tmp_path / "old" / "tasks.db")
    assert [c[0] for c in old_tasks["tasks"]] == [
        "id", "project", "title", "state", "priority", "parent_id", "tags", "affected_files", "assigned_session",
        "branch", "worktree_path", "session_id", "skip_review", "created_at", "updated_at"]
    assert {k: v for k, v in old_tasks.items() if k not in ("tasks", "indexes")} == TASKS_OTHERS
    fk = rows(tmp_path / "new" / "tau.db", "PRAGMA foreign_key_list(queued_messages)")
    assert [(r[2], r[3], r[4], r[6]) for r in fk] == [("sessions", "target_session_id", "id", "CASCADE")]
    assert rows(tmp_path / "new" / "tau.db", "PRAGMA journal_mode") == [("wal",)]


def test_start_collects_empty_sessions_as_tau_does(store: Path, tmp_path: Path) -> None:
    """gc_empty_sessions at start-up: old, empty, childless, not live, not owned by an open task."""
    conn = sqlite3.connect(store / "tau.db")
    conn.execute("INSERT INTO sessions (id, model_json, created_at) VALUES ('s900', '{}', ?)", (NOW - 120_000,))
    conn.execute("INSERT INTO sessions (id, model_json, created_at) VALUES ('s901', '{}', ?)", (NOW - 1_000,))
    conn.commit()
    conn.close()
    kept = rows(store / "tasks.db", "SELECT placeholder_session_id FROM tasks WHERE state = 'ready'")
    with DemoFleet(store, seed=7, runtime_dir=tmp_path / "run", clock=lambda: NOW + 1000).start(run_thread=False):
        pass
    ids = {r[0] for r in rows(store / "tau.db", "SELECT id FROM sessions")}
    assert "s900" not in ids and "s901" in ids
    assert {k for (k,) in kept} <= ids
