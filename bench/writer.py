"""The benchmark's tau: a separate process that changes the store and serves the socket, as tau does.

``python -m bench.writer DATA_DIR`` reads one JSON command per line on stdin
and answers one JSON line on stdout. It plays both halves of tau's server:

- the store: every change is one short ``BEGIN IMMEDIATE`` … ``COMMIT`` on its
  own connection (tau's way), and only what tau persists is written (the six
  phases of TAU.md §5.1; an exit status only at the end of a socket chat's
  turn, with ``last_phase = 'idle'``, §5.3);
- the server: after ``serve``, tau's socket and in-memory live state
  (`tui.demo.TauServer`, on a thread of this process, as tau's runtime serves
  its socket next to its writes). A phase change of a running session is a
  change in that memory only, pushed to the session's subscribers.

Each answer carries ``t0``: ``time.monotonic()`` taken just before the COMMIT
that makes the change visible (for a change spanning both files, before the
first of the two commits), or just before the server's memory is changed and
the event pushed. ``time.monotonic()`` is CLOCK_MONOTONIC, system-wide on
Linux, so the benchmark process can subtract it from its own readings.

Commands (``op``):

- ``serve`` {runtime, live}: start tau's server in RUNTIME with ``live``
  ({session id: phase label}) running (in memory; the generator left their
  persisted phase at ``sending request``)
- ``phase`` {sid, phase}: a running session's phase changes (memory and push only)
- ``exit`` {sid, status}: a socket chat's turn ends: ``agent_done`` and
  ``Idle`` to subscribers, then ``last_exit_status`` and ``last_phase='idle'``
- ``start`` {sid, text}: a socket chat's turn starts: ``Preparing`` in memory,
  ``last_phase='preparing'`` (a commit), then the user's message (a commit)
- ``reset`` {sid, status, phase}: the scenario's starting point (not timed): a
  running turn in ``phase``, the previous turn's ``status`` on disk
- ``title`` {task, title}: ``tasks.title`` (+ a ``task_history`` row)
- ``task`` {title, state, project}: a new task (answers its ``id``);
  ``task_state`` {task, state}: its state moves on; ``drop_tasks`` {ids}
- ``message`` {sid, text}: a user message (``messages`` row, JSON as tau writes it)
- ``session`` {task, sid, role}: a new session in tau.db (never run: no phase,
  no exit status), then linked to the task
- ``cleanup`` {task, sids}: delete the sessions this benchmark added (and their rows)
- ``live_count`` {n, keep}: end or start runs until ``n`` sessions are running
  (``keep`` are never ended); started ones get a user message, as a run does
- ``requests``: what the server has received so far: count by request type,
  subscribers and connections now
- ``load`` {rate, seconds, task, marker_every, prefix}: ``rate`` commits a
  second for ``seconds`` (new assistant messages on running sessions, turns
  ending and others starting, and every ``marker_every``-th commit a title
  ``<prefix><seq>`` on ``task``), each with one phase change in the server's
  memory; streams ``{"seq", "t0"}`` per marker and ends with a summary line
- ``ping``, ``quit``
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tui.demo import TauServer
from tui.tau.ddl import TASKS_DB, TAU_DB, connect_writer

from .content import MODELS, WIRE, _system_prompts
from .writer_runs import Runs, _now_ms, _user_msg

class Writer(Runs):
    """tau's two files and its server, changed one commit at a time as tau does."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.tasks = connect_writer(self.data_dir / TASKS_DB)
        self.tau = connect_writer(self.data_dir / TAU_DB)
        self.prompt = _system_prompts()[0]
        self.rng = random.Random(99)
        self.server: TauServer | None = None
        self.live: list[str] = []  # running sessions, as the server holds them
        self.rested: list[str] = []  # sessions whose run this process ended (may run again)

    # --- tau's server ------------------------------------------------------------------

    def serve(self, runtime: str, live: dict[str, str]) -> float:
        self.server = TauServer(Path(runtime), self.data_dir).start()
        for sid, label in live.items():
            self.server.set_phase(sid, WIRE[label])
        self.live = list(live)
        return time.monotonic()

    def _srv(self) -> TauServer:
        if self.server is None:
            raise RuntimeError("no server: send 'serve' first")
        return self.server

    def requests(self) -> dict[str, Any]:
        srv = self._srv()
        reqs = srv.requests
        return {"n": len(reqs), "by_type": dict(Counter(str(r.get("type")) for r in reqs)),
                "subscribers": srv.subscriber_count(), "connections": srv.connection_count(),
                "live": len(self.live),
                # running sessions nobody follows: the dashboard does not know they run
                "unwatched": [s for s in self.live if not srv.subscriber_count(s)]}

    def stop_server(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server = None

    # --- one change each -------------------------------------------------------------

    def _persist(self, sid: str, phase: str | None = None, status: str | None = None) -> float:
        self.tau.execute("BEGIN IMMEDIATE")
        if status is not None:
            self.tau.execute("UPDATE sessions SET last_exit_status=?, last_phase=? WHERE id=?",
                             (status, phase, sid))
        else:
            self.tau.execute("UPDATE sessions SET last_phase=? WHERE id=?", (phase, sid))
        return self._commit(self.tau)

    def phase(self, sid: str, phase: str) -> float:
        """A running session's phase: tau's memory, pushed; nothing on disk (§5.1)."""
        srv = self._srv()
        t0 = time.monotonic()
        srv.set_phase(sid, WIRE[phase])
        return t0

    def exit(self, sid: str, status: str) -> float:
        """A socket chat's turn ends (dispatch.rs): agent_done, Idle, then the
        outcome written with the phase idle."""
        srv = self._srv()
        srv.end_turn(sid)
        if sid in self.live:
            self.live.remove(sid)
        return self._persist(sid, "idle", status)

    def start(self, sid: str, text: str = "Continue.") -> float:
        """A socket chat's turn starts: Preparing (memory, persisted), then the
        user's message is stored."""
        srv = self._srv()
        srv.set_phase(sid, "Preparing")
        if sid not in self.live:
            self.live.append(sid)
        t0 = self._persist(sid, "preparing")
        self.message(sid, text)
        return t0

    def reset(self, sid: str, status: str, phase: str) -> float:
        """The scenario's starting point: a turn running in ``phase`` (the run
        persisted ``sending request`` when it began), the previous turn's
        ``status`` on disk."""
        srv = self._srv()
        srv.set_phase(sid, WIRE[phase])  # memory first: a subscribe that reads the disk's
        if sid not in self.live:         # word is never answered "Idle" for this run
            self.live.append(sid)
        return self._persist(sid, "sending request", status)

    def title(self, task: int, title: str) -> float:
        c = self.tasks
        c.execute("BEGIN IMMEDIATE")
        old = c.execute("SELECT title FROM tasks WHERE id=?", (task,)).fetchone()
        now = _now_ms()
        c.execute("UPDATE tasks SET title=?, updated_at=? WHERE id=?", (title, now, task))
        c.execute("INSERT INTO task_history (task_id, field, old_value, new_value, created_at)"
                  " VALUES (?,?,?,?,?)", (task, "title", old[0] if old else None, title, now))
        return self._commit(c)

    def task(self, title: str, state: str = "active", project: str = "tau") -> dict[str, Any]:
        """tau files a task: a tasks row (its id the next one, as SQLite gives
        it) and its first history row, one commit."""
        c = self.tasks
        now = _now_ms()
        c.execute("BEGIN IMMEDIATE")
        cur = c.execute("INSERT INTO tasks (project_name, title, state, priority, created_at, updated_at)"
                        " VALUES (?,?,?,?,?,?)", (project, title, state, 0, now, now))
        tid = cur.lastrowid
        c.execute("INSERT INTO task_history (task_id, field, old_value, new_value, created_at)"
                  " VALUES (?,?,?,?,?)", (tid, "state", None, state, now))
        return {"t0": self._commit(c), "id": tid}

    def task_state(self, task: int, state: str) -> float:
        """A task's state moves on (tau bumps updated_at and writes history)."""
        c = self.tasks
        now = _now_ms()
        c.execute("BEGIN IMMEDIATE")
        old = c.execute("SELECT state FROM tasks WHERE id=?", (task,)).fetchone()
        c.execute("UPDATE tasks SET state=?, updated_at=? WHERE id=?", (state, now, task))
        c.execute("INSERT INTO task_history (task_id, field, old_value, new_value, created_at)"
                  " VALUES (?,?,?,?,?)", (task, "state", old[0] if old else None, state, now))
        return self._commit(c)

    def drop_tasks(self, ids: list[int]) -> float:
        """Delete the tasks this benchmark filed (their history cascades)."""
        c = self.tasks
        c.execute("BEGIN IMMEDIATE")
        c.executemany("DELETE FROM task_history WHERE task_id=?", [(i,) for i in ids])
        c.executemany("DELETE FROM tasks WHERE id=?", [(i,) for i in ids])
        return self._commit(c)

    def message(self, sid: str, text: str) -> float:
        now = _now_ms()
        self.tau.execute("BEGIN IMMEDIATE")
        self.tau.execute("INSERT INTO messages (session_id, message_json, created_at) VALUES (?,?,?)",
                         (sid, _user_msg(text, now), now))
        return self._commit(self.tau)

    def session(self, task: int, sid: str, role: str = "worker") -> float:
        now = _now_ms()
        self.tau.execute("BEGIN IMMEDIATE")
        self.tau.execute(
            "INSERT INTO sessions (id, model_json, system_prompt, cwd, is_subscription, created_at,"
            " tagline, archived, last_exit_status, last_phase, auto_archive, notify_parent,"
            " project_name, resume_on_restart) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (sid, json.dumps(MODELS[0]), self.prompt, "/home/dev/src/tau", 1, now,
             f"Worker #{task}: benchmark session", 0, None, None, 1, 0, "tau", 1))
        t0 = self._commit(self.tau)
        self.tasks.execute("BEGIN IMMEDIATE")
        self.tasks.execute("INSERT OR IGNORE INTO task_sessions (task_id, session_id, role, created_at)"
                           " VALUES (?,?,?,?)", (task, sid, role, now))
        self._commit(self.tasks)
        return t0

    def cleanup(self, task: int, sids: list[str]) -> float:
        self.tasks.execute("BEGIN IMMEDIATE")
        self.tasks.executemany("DELETE FROM task_sessions WHERE task_id=? AND session_id=?",
                               [(task, s) for s in sids])
        t0 = self._commit(self.tasks)
        self.tau.execute("BEGIN IMMEDIATE")
        self.tau.executemany("DELETE FROM messages WHERE session_id=?", [(s,) for s in sids])
        self.tau.executemany("DELETE FROM sessions WHERE id=?", [(s,) for s in sids])
        self._commit(self.tau)
        return t0

def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    w = Writer(Path(argv[0]))
    out = sys.stdout
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            cmd = json.loads(line)
            op = cmd.pop("op")
            try:
                if op == "quit":
                    w.stop_server()
                    out.write('{"ok": true}\n')
                    out.flush()
                    break
                if op == "ping":
                    reply: dict[str, Any] = {"ok": True, "t0": time.monotonic()}
                elif op == "load":
                    reply = w.load(out, **cmd)
                elif op in ("requests", "live_count", "stream", "task"):
                    reply = {"ok": True, **getattr(w, op)(**cmd)}
                else:
                    t0 = getattr(w, op)(**cmd)
                    reply = {"ok": True, "t0": t0, "t1": time.monotonic()}
            except Exception as exc:  # noqa: BLE001 - report, keep serving
                reply = {"ok": False, "error": f"{op}: {exc!r}"}
            out.write(json.dumps(reply) + "\n")
            out.flush()
    finally:
        w.stop_server()
        w.tasks.close()
        w.tau.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
