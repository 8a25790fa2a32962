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

from .content import MODELS, TERMINAL, WIRE, _system_prompts

#: In-memory phases of a running turn, as the load moves through them (one LLM
#: call: sending request, thinking or working, running tools).
RUN_WIRE = ("Connecting", "Thinking", "Responding", "ToolExec")


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

    @staticmethod
    def _commit(conn) -> float:  # type: ignore[no-untyped-def]
        t0 = time.monotonic()
        conn.execute("COMMIT")
        return t0

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

    def stream(self, sids: list[str], chars: int = 16_000, deltas: int = 400,
               rate: float = 20.0) -> dict[str, Any]:
        """Each of ``sids`` streams one answer of ``chars`` characters in ``deltas``
        text deltas, ``rate`` a second, in lockstep, as tau's server sends them
        (each delta with the whole partial message, TAU.md §7.4); then tau
        stores it and the turn ends. Delta k's text ends in ``⟦k⟧``; its ``t0``
        is taken before the first session's event is pushed."""
        srv = self._srv()
        words = "the retry loop backs off on a closed socket and reads again".split()
        piece = max(8, chars // deltas)
        partial: dict[str, dict[str, Any]] = {}
        now_ms = _now_ms()
        for sid in sids:
            partial[sid] = {"content": [{"type": "text", "text": ""}], "api": "anthropic-messages",
                            "provider": "anthropic", "model": "claude-bench",
                            "usage": {"input": 100, "output": 0, "cache_read": 0, "cache_write": 0,
                                      "total_tokens": 100, "cost": {"input": 0, "output": 0,
                                                                    "cache_read": 0, "cache_write": 0,
                                                                    "total": 0}},
                            "stop_reason": "stop", "timestamp": now_ms}
            srv.emit(sid, {"type": "start", "partial": partial[sid]})
            srv.emit(sid, {"type": "text_start", "content_index": 0, "partial": partial[sid]})
        t0s: list[float] = []
        start = time.monotonic()
        for k in range(deltas):
            text = ""
            while len(text) < piece - 8:
                text += self.rng.choice(words) + (" " if self.rng.random() > 0.08 else ".\n")
            text += f" ⟦{k}⟧"
            due = start + k / rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            t0s.append(time.monotonic())
            for sid in sids:
                block = partial[sid]["content"][0]
                block["text"] += text
                srv.emit(sid, {"type": "text_delta", "content_index": 0, "delta": text,
                               "partial": partial[sid]})
        for sid in sids:
            block = partial[sid]["content"][0]
            srv.emit(sid, {"type": "text_end", "content_index": 0, "content": block["text"],
                           "partial": partial[sid]})
            srv.emit(sid, {"type": "done", "reason": "stop", "message": partial[sid]})
            self.tau.execute("BEGIN IMMEDIATE")
            self.tau.execute("INSERT INTO messages (session_id, message_json, created_at) VALUES (?,?,?)",
                             (sid, json.dumps({"role": "assistant", **partial[sid]}), _now_ms()))
            self._commit(self.tau)
        return {"t0s": t0s, "seconds": time.monotonic() - start}

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

    # --- runs ending and starting ------------------------------------------------------

    def _end_runs(self, sids: list[str]) -> None:
        """Runs tau started itself end: agent_done, Idle, ``idle`` persisted (no
        exit status: only a socket chat writes one)."""
        srv = self._srv()
        for sid in sids:
            srv.end_turn(sid)
            if sid in self.live:
                self.live.remove(sid)
            self.rested.append(sid)
        self.tau.execute("BEGIN IMMEDIATE")
        self.tau.executemany("UPDATE sessions SET last_phase='idle' WHERE id=?", [(s,) for s in sids])
        self._commit(self.tau)

    def _start_runs(self, sids: list[str], wire: str = "ToolExec") -> None:
        """Runs start: the phase in memory, then ``sending request`` persisted
        with the run's first message (one commit). (Memory first: a dashboard
        that subscribes on seeing the commit is never answered "Idle".)"""
        srv = self._srv()
        for sid in sids:
            srv.set_phase(sid, wire)
            if sid not in self.live:
                self.live.append(sid)
            if sid in self.rested:
                self.rested.remove(sid)
        now = _now_ms()
        self.tau.execute("BEGIN IMMEDIATE")
        for sid in sids:
            self.tau.execute("UPDATE sessions SET last_phase='sending request' WHERE id=?", (sid,))
            self.tau.execute("INSERT INTO messages (session_id, message_json, created_at) VALUES (?,?,?)",
                             (sid, _user_msg("Continue with the task.", now), now))
        self._commit(self.tau)

    def _idle_sessions(self, k: int) -> list[str]:
        """Up to ``k`` sessions that could start a run and that the dashboard
        watches: not archived, not running, on a task that is not finished."""
        open_tasks = ",".join("?" * len(TERMINAL))
        linked = [r[0] for r in self.tasks.execute(
            "SELECT ts.session_id FROM task_sessions ts JOIN tasks t ON t.id = ts.task_id"
            f" WHERE t.state NOT IN ({open_tasks}) ORDER BY ts.created_at DESC", TERMINAL)]
        out: list[str] = []
        live = set(self.live)
        for i in range(0, len(linked), 500):
            part = [s for s in linked[i:i + 500] if s not in live]
            if not part:
                continue
            marks = ",".join("?" * len(part))
            ok = {r[0] for r in self.tau.execute(
                f"SELECT id FROM sessions WHERE id IN ({marks}) AND archived = 0", part)}
            out += [s for s in part if s in ok and s not in out]
            if len(out) >= k:
                break
        return out[:k]

    def live_count(self, n: int, keep: list[str] | None = None) -> dict[str, Any]:
        keep_set = set(keep or ())
        ended: list[str] = []
        started: list[str] = []
        if len(self.live) > n:
            extra = [s for s in reversed(self.live) if s not in keep_set][:len(self.live) - n]
            self._end_runs(extra)
            ended = extra
        if len(self.live) < n:
            started = self._idle_sessions(n - len(self.live))
            if started:
                self._start_runs(started)
        return {"ok": True, "t0": time.monotonic(), "live": len(self.live), "ended": len(ended),
                "started": len(started), "sids": list(self.live)}

    # --- sustained load ------------------------------------------------------------------

    def load(self, out, rate: float, seconds: float, task: int, marker_every: int = 10,  # type: ignore[no-untyped-def]
             prefix: str = "LD", start_seq: int = 0, turn_share: float = 0.05,
             keep: list[str] | None = None) -> dict[str, Any]:
        srv = self._srv()
        keep_set = set(keep or ())
        if not self.live:
            self._start_runs(self._idle_sessions(20))
        rng = self.rng
        period = 1.0 / rate
        start = time.monotonic()
        n = 0
        seq = start_seq
        late_max = 0.0
        kinds = Counter()
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
            # One phase change in the server's memory per tick (an LLM call
            # moves through several; most never reach the disk).
            if self.live:
                srv.set_phase(rng.choice(self.live), rng.choice(RUN_WIRE))
                kinds["phase_event"] += 1
            if marker_every and n % marker_every == 0:
                seq += 1
                t0 = self.title(task, f"{prefix}{seq:05d} bench target")
                out.write(json.dumps({"seq": seq, "t0": t0}) + "\n")
                out.flush()
                kinds["title"] += 1
                continue
            movable = [s for s in self.live if s not in keep_set]
            if rng.random() < turn_share and movable:
                # a run ends; another (one that ended earlier) starts
                self._end_runs([rng.choice(movable)])
                kinds["run_end"] += 1
                if len(self.rested) > 1:
                    self._start_runs([self.rested[0]], rng.choice(RUN_WIRE))
                    kinds["run_start"] += 1
                continue
            if not self.live:
                continue
            sid = rng.choice(self.live)
            now_ms = _now_ms()
            self.tau.execute("BEGIN IMMEDIATE")
            self.tau.execute("INSERT INTO messages (session_id, message_json, created_at)"
                             " VALUES (?,?,?)", (sid, _assistant_msg(rng, now_ms), now_ms))
            self._commit(self.tau)
            kinds["message"] += 1
        elapsed = time.monotonic() - start
        commits = kinds["title"] + kinds["message"] + kinds["run_end"] + kinds["run_start"]
        return {"done": True, "ticks": n, "commits": commits, "seconds": elapsed,
                "rate": commits / elapsed, "late_max_ms": late_max * 1000, "kinds": dict(kinds),
                "last_seq": seq, "live_end": len(self.live)}


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
                elif op in ("requests", "live_count", "stream"):
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
