"""The benchmark's writer: a separate process that changes the store like tau does.

``python -m bench.writer DATA_DIR`` reads one JSON command per line on stdin
and answers one JSON line on stdout. Every change is one short ``BEGIN
IMMEDIATE`` … ``COMMIT`` on its own connection (tau's way), and the answer
carries ``t0``: ``time.monotonic()`` taken just before the COMMIT that makes
the change visible (for a change spanning both files, before the first of the
two commits). ``time.monotonic()`` is CLOCK_MONOTONIC, system-wide on Linux, so
the benchmark process can subtract it from its own readings.

Commands (``op``):

- ``phase`` {sid, phase}: ``sessions.last_phase``
- ``exit`` {sid, status, phase}: a turn ends: ``last_exit_status`` and phase
- ``title`` {task, title}: ``tasks.title`` (+ a ``task_history`` row)
- ``message`` {sid, text}: a user message (``messages`` row, JSON as tau writes it)
- ``session`` {task, sid, role}: a new session in tau.db, then linked to the task
- ``cleanup`` {task, sids}: delete the sessions this benchmark added (and their rows)
- ``load`` {rate, seconds, task, marker_every, prefix}: commit ``rate`` changes a
  second for ``seconds`` (phases and messages on live sessions, exit statuses,
  and every ``marker_every``-th commit a title ``<prefix><seq>`` on ``task``);
  streams ``{"seq", "t0"}`` per marker and ends with a summary line
- ``ping``, ``quit``
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from tui.tauschema import TASKS_DB, TAU_DB, connect_writer

from .gen import MODELS, _system_prompts

PHASES = ("thinking", "running tools", "sending request", "working", "waiting", "preparing",
          "compacting", "rate limited")


def _now_ms() -> int:
    return int(time.time() * 1000)


def _user_msg(text: str, ts: int) -> str:
    return json.dumps({"role": "user", "content": [{"type": "text", "text": text}], "timestamp": ts},
                      separators=(",", ":"))


def _assistant_msg(rng: random.Random, ts: int) -> str:
    tokens = rng.randint(500, 20000)
    return json.dumps({
        "role": "assistant",
        "content": [{"type": "text", "text": "Running the tests again after the edit."},
                    {"type": "tool_call", "id": f"toolu_{rng.getrandbits(56):014x}", "name": "bash",
                     "arguments": {"command": "cargo test -p tau-server"}}],
        "provider": "anthropic", "model": "claude-sonnet-4-5",
        "usage": {"input": tokens // 10, "output": tokens // 20, "cache_read": tokens - tokens // 10
                  - tokens // 20, "cache_write": 0, "total_tokens": tokens,
                  "cost": {"input": 0.001, "output": 0.002, "cache_read": 0.0005, "cache_write": 0,
                           "total": 0.0035}},
        "stop_reason": "tool_use", "timestamp": ts}, separators=(",", ":"))


class Writer:
    def __init__(self, data_dir: Path) -> None:
        self.tasks = connect_writer(Path(data_dir) / TASKS_DB)
        self.tau = connect_writer(Path(data_dir) / TAU_DB)
        self.prompt = _system_prompts()[0]
        self.rng = random.Random(99)

    # --- one committed change each ---------------------------------------------------

    @staticmethod
    def _commit(conn) -> float:  # type: ignore[no-untyped-def]
        t0 = time.monotonic()
        conn.execute("COMMIT")
        return t0

    def phase(self, sid: str, phase: str) -> float:
        self.tau.execute("BEGIN IMMEDIATE")
        self.tau.execute("UPDATE sessions SET last_phase=? WHERE id=?", (phase, sid))
        return self._commit(self.tau)

    def exit(self, sid: str, status: str, phase: str = "idle") -> float:
        self.tau.execute("BEGIN IMMEDIATE")
        self.tau.execute("UPDATE sessions SET last_exit_status=?, last_phase=? WHERE id=?",
                         (status, phase, sid))
        return self._commit(self.tau)

    def title(self, task: int, title: str) -> float:
        c = self.tasks
        c.execute("BEGIN IMMEDIATE")
        old = c.execute("SELECT title FROM tasks WHERE id=?", (task,)).fetchone()
        now = _now_ms()
        c.execute("UPDATE tasks SET title=?, updated_at=? WHERE id=?", (title, now, task))
        c.execute("INSERT INTO task_history (task_id, field, old_value, new_value, created_at)"
                  " VALUES (?,?,?,?,?)", (task, "title", old[0] if old else None, title, now))
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
             f"Worker #{task}: benchmark session", 0, "completed", "idle", 1, 0, "tau", 1))
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

    # --- sustained load ------------------------------------------------------------------

    def load(self, out, rate: float, seconds: float, task: int, marker_every: int = 10,  # type: ignore[no-untyped-def]
             prefix: str = "LD", start_seq: int = 0) -> dict[str, Any]:
        live = [r[0] for r in self.tau.execute(
            "SELECT id FROM sessions WHERE last_phase IS NOT NULL AND last_phase != 'idle'")]
        if not live:
            live = [r[0] for r in self.tau.execute("SELECT id FROM sessions ORDER BY id DESC LIMIT 20")]
        rng = self.rng
        period = 1.0 / rate
        start = time.monotonic()
        n = 0
        seq = start_seq
        late_max = 0.0
        kinds = {"phase": 0, "message": 0, "exit": 0, "title": 0}
        while True:
            due = start + n * period
            if due - start >= seconds:
                break
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            else:
                late_max = max(late_max, now - due)
            n += 1
            if marker_every and n % marker_every == 0:
                seq += 1
                t0 = self.title(task, f"{prefix}{seq:05d} bench target")
                out.write(json.dumps({"seq": seq, "t0": t0}) + "\n")
                out.flush()
                kinds["title"] += 1
                continue
            sid = rng.choice(live)
            r = rng.random()
            if r < 0.45:
                self.phase(sid, rng.choice(PHASES))
                kinds["phase"] += 1
            elif r < 0.95:
                now_ms = _now_ms()
                self.tau.execute("BEGIN IMMEDIATE")
                self.tau.execute("INSERT INTO messages (session_id, message_json, created_at)"
                                 " VALUES (?,?,?)", (sid, _assistant_msg(rng, now_ms), now_ms))
                self._commit(self.tau)
                kinds["message"] += 1
            else:
                self.exit(sid, rng.choice(("completed", "error", "cancelled")),
                          phase=rng.choice(PHASES))
                kinds["exit"] += 1
        elapsed = time.monotonic() - start
        return {"done": True, "commits": n, "seconds": elapsed, "rate": n / elapsed,
                "late_max_ms": late_max * 1000, "kinds": kinds, "last_seq": seq}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    w = Writer(Path(argv[0]))
    out = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        op = cmd.pop("op")
        try:
            if op == "quit":
                out.write('{"ok": true}\n')
                out.flush()
                break
            if op == "ping":
                reply: dict[str, Any] = {"ok": True, "t0": time.monotonic()}
            elif op == "load":
                reply = w.load(out, **cmd)
            else:
                t0 = getattr(w, op)(**cmd)
                reply = {"ok": True, "t0": t0, "t1": time.monotonic()}
        except Exception as exc:  # noqa: BLE001 - report, keep serving
            reply = {"ok": False, "error": f"{op}: {exc!r}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()
    w.tasks.close()
    w.tau.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
