"""The demo fleet writes a tau-shaped store, and keeps writing it like a tau server.

Read back with plain sqlite3 only: the project's own store reader is not a
dependency of these tests.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui.demo import DemoFleet, build_demo_store

NOW = 1_760_000_000_000  # a fixed "now" (ms) so two builds can be compared
REPO = Path(__file__).resolve().parent.parent
EXITS = {"completed", "succeeded", "error", "cancelled", "max_turns", "panicked"}
TERMINAL = ("merged", "done", "closed", "failed")


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
    """Invariants any moment of the store must keep."""
    sessions = {r[0] for r in rows(d / "tau.db", "SELECT id FROM sessions")}
    owners = {r[0] for r in rows(d / "tau.db", "SELECT DISTINCT session_id FROM messages")}
    assert owners <= sessions
    for (js,) in rows(d / "tau.db", "SELECT message_json FROM messages"):
        assert json.loads(js)["role"] in {"user", "assistant", "tool_result", "compaction_summary", "info"}
    tasks = rows(d / "tasks.db", "SELECT id, state FROM tasks")
    for t_id, state in tasks:
        hist = rows(d / "tasks.db", "SELECT new_value FROM task_history WHERE task_id = ? AND field = 'state'"
                    " ORDER BY id DESC LIMIT 1", t_id)
        assert hist and hist[0][0] == state, (t_id, state, hist)
    # every session of a finished task is archived and idle
    finished = rows(d / "tasks.db", "SELECT ts.session_id FROM task_sessions ts JOIN tasks t ON t.id = ts.task_id"
                    f" WHERE t.state IN {TERMINAL} AND ts.role != 'creator'")
    by_id = {r[0]: r[1:] for r in rows(d / "tau.db", "SELECT id, archived, last_phase FROM sessions")}
    for (sid,) in finished:
        if sid in by_id:
            assert by_id[sid] == (1, "idle"), sid


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
    assert any(p not in (None, "idle") for _, a, _, p, _ in sessions if not a)
    assert all(p == "idle" for _, a, _, p, _ in sessions if a)
    assert all({"id", "name", "provider"} <= json.loads(m).keys() for *_, m in sessions)
    roles = {r[0] for r in rows(store / "tasks.db", "SELECT role FROM task_sessions")}
    assert {"creator", "planner", "worker", "reviewer"} <= roles
    seen: set[str] = set()
    for (js,) in rows(store / "tau.db", "SELECT message_json FROM messages"):
        msg = json.loads(js)
        seen.add(msg["role"])
        assert isinstance(msg["timestamp"], int)
        if msg["role"] == "assistant":
            assert {"input", "output", "cache_read", "cache_write", "total_tokens"} <= msg["usage"].keys()
            assert "total" in msg["usage"]["cost"] and msg["stop_reason"]
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
        for _ in range(150):
            fleet.step()
        fleet.close()
    assert dump(tmp_path / "a") == dump(tmp_path / "b")


def test_thread_writes_then_stops_cleanly(tmp_path: Path) -> None:
    fleet = DemoFleet(tmp_path / "data", seed=5, speed=4.0)
    watcher: sqlite3.Connection | None = None
    with fleet:
        assert fleet.running
        assert fleet.pid_path == tmp_path / "data" / "run" / "tau.pid"
        assert int(fleet.pid_path.read_text().strip()) == os.getpid()
        watcher = sqlite3.connect(fleet.tau_path)
        version = watcher.execute("PRAGMA data_version").fetchone()[0]
        count = watcher.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            time.sleep(0.2)
            if (watcher.execute("SELECT COUNT(*) FROM messages").fetchone()[0] > count
                    and watcher.execute("PRAGMA data_version").fetchone()[0] != version):
                break
        else:
            pytest.fail("the simulator wrote nothing")
        with pytest.raises(RuntimeError):
            fleet.step()
    assert not fleet.running and fleet.error is None
    assert not fleet.pid_path.exists()
    assert {r[0] for r in watcher.execute("SELECT DISTINCT last_phase FROM sessions")} == {"idle"}
    watcher.close()
    fleet.stop()  # idempotent
    check_consistent(tmp_path / "data")


def test_speed_scales_the_rate(tmp_path: Path) -> None:
    slow, fast = DemoFleet(tmp_path / "slow", speed=1.0), DemoFleet(tmp_path / "fast", speed=4.0)
    with slow, fast:
        time.sleep(1.0)
    assert fast.steps > 2 * slow.steps > 0


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
        deadline = time.monotonic() + 10
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert int(pid_file.read_text().strip()) == proc.pid
        time.sleep(0.3)
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not pid_file.exists()
    assert rows(tmp_path / "tau.db", "SELECT COUNT(*) FROM sessions WHERE last_phase != 'idle'")[0][0] == 0
