"""A tau-shaped store written by its own sqlite3 connections, for the tests.

This plays tau's server: every method is one short committed transaction on a
connection the dashboard does not share, exactly how the real store changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
import sqlite3
from pathlib import Path

from tui.demo import TauServer
from tui.tau.ddl import connect_writer, create_store

BASE_MS = 1_780_000_000_000  # a fixed clock for reproducible stores


def assistant(text: str = "", *, thinking: str = "", calls: tuple[tuple[str, dict], ...] = (),
              tokens: int = 100, cost: float = 0.01, stop: str = "stop", ts: int = BASE_MS) -> dict:
    content: list[dict] = []
    if thinking:
        content.append({"type": "thinking", "thinking": thinking})
    if text:
        content.append({"type": "text", "text": text})
    for i, (name, args) in enumerate(calls):
        content.append({"type": "tool_call", "id": f"call_{i}", "name": name, "arguments": args})
    return {
        "role": "assistant", "content": content, "provider": "anthropic", "model": "claude-test",
        "usage": {"input": tokens // 2, "output": tokens - tokens // 2, "cache_read": 0,
                  "cache_write": 0, "total_tokens": tokens,
                  "cost": {"input": cost / 2, "output": cost / 2, "cache_read": 0,
                           "cache_write": 0, "total": cost}},
        "stop_reason": stop, "timestamp": ts,
    }


def user(text: str, ts: int = BASE_MS) -> dict:
    return {"role": "user", "content": [{"type": "text", "text": text}], "timestamp": ts}


def tool_result(name: str, text: str, *, is_error: bool = False, duration_ms: int = 120,
                summary: str = "", ts: int = BASE_MS) -> dict:
    return {"role": "tool_result", "tool_call_id": "call_0", "tool_name": name,
            "content": [{"type": "text", "text": text}], "is_error": is_error,
            "timestamp": ts, "duration_ms": duration_ms, "summary": summary}


def model_json(name: str = "Claude Test", *, window: int = 200000, model_id: str = "m") -> str:
    """A ``sessions.model_json`` tau can read back: its ``Model`` (types.rs) whole.
    tau fails to load a session whose model_json lacks a field (TAU.md §6.1)."""
    return json.dumps({"id": model_id, "name": name, "api": "anthropic", "provider": "anthropic",
                       "base_url": "https://api.anthropic.com", "thinking": "anthropic",
                       "cost": {"input": 3.0, "output": 15.0, "cache_read": 0.3, "cache_write": 3.75},
                       "context_window": window, "max_tokens": 64000})


#: The six values tau writes to sessions.last_phase (TAU.md §5.1).
PERSISTED = frozenset({"waiting", "preparing", "sending request", "rate limited", "compacting", "idle"})
#: tau's labels and their wire names (TAU.md §5.2).
WIRE = {"idle": "Idle", "waiting": "Waiting", "preparing": "Preparing", "sending request": "Connecting",
        "thinking": "Thinking", "working": "Responding", "running tools": "ToolExec",
        "compacting": "Compacting", "rate limited": "RateLimited"}


def _persisted(phase: str | None) -> None:
    if phase is not None and phase not in PERSISTED and phase in WIRE:
        raise ValueError(f"tau never writes {phase!r} to disk: it lives in the server's memory "
                         f"(use StoreKit.run)")


class StoreKit:
    """Writes tasks, sessions and messages the way tau does."""

    def __init__(self, data_dir: Path, *, old: bool = False,
                 server_clock: Callable[[], int] | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.old = old
        self.tasks_path, self.tau_path = create_store(self.data_dir, old=old)
        self.tasks = connect_writer(self.tasks_path)
        self.tau = connect_writer(self.tau_path)
        self.runtime_dir = self.data_dir / "run"
        self.socket_path = self.runtime_dir / "tau.sock"
        #: tau's server: the stand-in of the demo, on a real Unix socket. The
        #: live truth (is_live, the real phase) is in its memory only.
        self.server = TauServer(self.runtime_dir, self.data_dir, clock=server_clock)

    def close(self) -> None:
        self.server.crash()
        self.tasks.close()
        self.tau.close()

    # --- tau's server ---
    def server_up(self, up: bool = True) -> None:
        """Start the stand-in server, or shut it down cleanly as tau does."""
        if up:
            self.server.start()
        else:
            self.server.shutdown()

    def live(self, session_id: str, wire_phase: str = "Thinking") -> None:
        """A turn running in the server's memory, in phase ``wire_phase``
        (the disk says only what tau persists: see `add_session`)."""
        self.server.set_phase(session_id, wire_phase)

    # --- tasks.db ---
    def add_task(self, task_id: int, title: str, state: str = "active", *, priority: int = 0,
                 project: str = "tau", held: bool = False, parent_id: int | None = None,
                 branch: str | None = None, tags: list[str] | None = None,
                 updated_at: int = BASE_MS) -> None:
        cols = {"id": task_id, "project_name": project, "title": title, "state": state,
                "priority": priority, "parent_id": parent_id, "held": int(held), "branch": branch,
                "tags": json.dumps(tags) if tags is not None else None,
                "created_at": updated_at - 3_600_000, "updated_at": updated_at}
        if self.old:  # the first tasks.db: `project` held a path; no `held` yet (TAU.md §4.2)
            cols["project"] = cols.pop("project_name")
            if held:
                raise ValueError("the oldest tasks.db has no held column")
            del cols["held"]
        self.tasks.execute(f"INSERT INTO tasks ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                           tuple(cols.values()))

    def set_state(self, task_id: int, state: str, *, at: int = BASE_MS) -> None:
        with self._tx(self.tasks) as c:
            old = c.execute("SELECT state FROM tasks WHERE id=?", (task_id,)).fetchone()[0]
            c.execute("UPDATE tasks SET state=?, updated_at=? WHERE id=?", (state, at, task_id))
            c.execute("INSERT INTO task_history (task_id, field, old_value, new_value, created_at)"
                      " VALUES (?,?,?,?,?)", (task_id, "state", old, state, at))

    def link(self, task_id: int, session_id: str, role: str = "worker",
             created_at: int = BASE_MS) -> None:
        self.tasks.execute(
            "INSERT OR IGNORE INTO task_sessions (task_id, session_id, role, created_at)"
            " VALUES (?,?,?,?)", (task_id, session_id, role, created_at))

    def depends_on(self, task_id: int, other: int) -> None:
        self.tasks.execute("INSERT INTO task_relations VALUES (?,?, 'depends_on')", (task_id, other))

    # --- tau.db ---
    def add_session(self, session_id: str, *, phase: str | None = "idle", exit_status: str | None = None,
                    archived: bool = False, tagline: str = "", created_at: int = BASE_MS,
                    model: str = "Claude Test") -> None:
        """A sessions row; ``phase`` is what tau persisted (one of six values:
        a phase that lives only in the server's memory is refused, use `run`)."""
        _persisted(phase)
        if self.old:
            self.tau.execute(
                "INSERT INTO sessions (id, model_json, system_prompt, is_subscription, created_at)"
                " VALUES (?,?,?,?,?)",
                (session_id, model_json(model), "", 0, created_at))
            return
        self.tau.execute(
            "INSERT INTO sessions (id, model_json, created_at, tagline, archived, last_phase,"
            " last_exit_status) VALUES (?,?,?,?,?,?,?)",
            (session_id, model_json(model), created_at, tagline, int(archived), phase, exit_status))

    def set_phase(self, session_id: str, phase: str) -> None:
        """What tau persists (see `add_session`); the server is not told."""
        _persisted(phase)
        self.tau.execute("UPDATE sessions SET last_phase=? WHERE id=?", (phase, session_id))

    def set_exit(self, session_id: str, status: str | None, phase: str = "idle") -> None:
        _persisted(phase)
        self.tau.execute("UPDATE sessions SET last_exit_status=?, last_phase=? WHERE id=?",
                         (status, phase, session_id))

    def run(self, session_id: str, label: str = "thinking") -> None:
        """A turn running in ``label`` (tau's label, e.g. "running tools"), as
        tau has it: the disk says what tau persists for it (``sending request``
        for the phases kept in memory), the server's memory says the phase.
        Memory first, as tau's persist_phase sets the phase map before it
        writes the column (notifications.rs), so a reader that sees the
        column and subscribes is never told Idle."""
        persisted = label if label in PERSISTED else "sending request"
        if self.server.running:
            self.server.set_phase(session_id, WIRE[label])
        self.tau.execute("UPDATE sessions SET last_phase=? WHERE id=?", (persisted, session_id))

    def finish(self, session_id: str, exit_status: str | None = None) -> None:
        """The turn ends: agent_done and Idle in the server, ``idle`` on disk,
        and the exit status if the turn was a socket chat (tau keeps the old
        one otherwise)."""
        if self.server.running:
            self.server.end_turn(session_id)
        self.tau.execute("UPDATE sessions SET last_phase='idle',"
                         " last_exit_status=COALESCE(?, last_exit_status) WHERE id=?",
                         (exit_status, session_id))

    def archive(self, session_id: str) -> None:
        self.tau.execute("UPDATE sessions SET archived=1 WHERE id=?", (session_id,))

    def add_message(self, session_id: str, msg: dict | str, created_at: int = BASE_MS) -> int:
        raw = msg if isinstance(msg, str) else json.dumps(msg)
        cur = self.tau.execute(
            "INSERT INTO messages (session_id, message_json, created_at) VALUES (?,?,?)",
            (session_id, raw, created_at))
        return int(cur.lastrowid)

    def add_messages(self, session_id: str, msgs: list[dict], start: int = BASE_MS) -> None:
        with self._tx(self.tau) as c:
            c.executemany(
                "INSERT INTO messages (session_id, message_json, created_at) VALUES (?,?,?)",
                [(session_id, json.dumps(m), start + i * 1000) for i, m in enumerate(msgs)])

    def _tx(self, conn: sqlite3.Connection):  # type: ignore[no-untyped-def]
        return _Tx(conn)


class _Tx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


def fixed_fleet(kit: StoreKit) -> None:
    """A small, fixed fleet used by the store, pilot and snapshot tests."""
    h = 3_600_000
    kit.add_task(1, "Add retry to the dispatcher", "ready", priority=2, branch="task-1-retry",
                 tags=["core", "reliability"], updated_at=BASE_MS - 60_000)
    kit.add_task(2, "Review the watcher debounce", "review", priority=1, updated_at=BASE_MS - 120_000)
    kit.add_task(3, "Plan the schema migration", "planning", updated_at=BASE_MS - 2 * h)
    kit.add_task(4, "Refactor the session list", "ready", held=True, updated_at=BASE_MS - 3 * h)
    kit.add_task(5, "Ship the docs", "ready", updated_at=BASE_MS - 4 * h)
    kit.add_task(6, "Fix the flaky merge", "failed", updated_at=BASE_MS - 5 * h)
    kit.add_task(7, "Rename the crate", "merged", updated_at=BASE_MS - 6 * h)
    kit.add_task(8, "Old cleanup", "done", project="webapp", updated_at=BASE_MS - 30 * h)
    kit.depends_on(5, 3)
    # task 1: four sessions, two live
    kit.link(1, "s1", "creator", BASE_MS - 2 * h)
    kit.link(1, "s2", "planner", BASE_MS - h)
    kit.link(1, "s3", "worker", BASE_MS - 30 * 60_000)
    kit.link(1, "s4", "worker", BASE_MS - 20 * 60_000)
    kit.add_session("s1", phase="idle", exit_status="completed", tagline="filed the task",
                    created_at=BASE_MS - 2 * h)
    kit.add_session("s2", phase="idle", exit_status="succeeded", archived=True,
                    tagline="planned the retry", created_at=BASE_MS - h)
    # Live turns: on disk every run reads "sending request" (TAU.md §5.1); the
    # real phase is in the server's memory only. s4 was chatted with over the
    # socket once: its exit status is that earlier turn's.
    kit.add_session("s3", phase="sending request", tagline="writing the retry loop",
                    created_at=BASE_MS - 30 * 60_000)
    kit.add_session("s4", phase="sending request", exit_status="error", tagline="adding tests",
                    created_at=BASE_MS - 20 * 60_000)
    kit.add_messages("s1", [user("please add retry", BASE_MS - 2 * h),
                            assistant("Filed task 1.", tokens=300, cost=0.02)], BASE_MS - 2 * h)
    kit.add_messages("s3", [
        user("implement retry with backoff"),
        assistant("Looking at the dispatcher.", thinking="The dispatcher lives in dispatch.rs",
                  calls=(("read_file", {"path": "src/dispatch.rs"}),), tokens=1200, cost=0.05),
        tool_result("read_file", "fn dispatch() {}", summary="42 lines"),
        assistant("", calls=(("bash", {"command": "cargo test"}),), tokens=800, cost=0.03),
        tool_result("bash", "error: test failed", is_error=True, duration_ms=5300, summary="exit 101"),
    ], BASE_MS - 10 * 60_000)
    kit.add_messages("s4", [user("write tests for retry"),
                            assistant("Writing tests now.", tokens=500, cost=0.01)], BASE_MS - 5 * 60_000)
    # task 2: reviewer live; a bare row whose session was deleted
    kit.link(2, "s5", "reviewer", BASE_MS - h)
    kit.link(2, "s99", "worker", BASE_MS - 2 * h)
    kit.add_session("s5", phase="waiting", tagline="reviewing", created_at=BASE_MS - h)
    if kit.server.running:
        kit.live("s3", "ToolExec")
        kit.live("s4", "Thinking")
        kit.live("s5", "Waiting")
    kit.add_messages("s5", [user("review the change"), assistant("Reading the diff.")],
                     BASE_MS - 3 * 60_000)
    # finished tasks: archived sessions with exit statuses
    kit.link(6, "s6", "worker", BASE_MS - 6 * h)
    kit.add_session("s6", exit_status="panicked", archived=True, created_at=BASE_MS - 6 * h)
    kit.link(7, "s7", "worker", BASE_MS - 7 * h)
    kit.add_session("s7", exit_status="max_turns", archived=True, created_at=BASE_MS - 7 * h)
    kit.link(7, "s8", "reviewer", BASE_MS - 7 * h)
    kit.add_session("s8", exit_status="cancelled", archived=True, created_at=BASE_MS - 7 * h)
    kit.set_state(1, "active", at=BASE_MS - 60_000)
