"""The benchmark's tau, continued: runs that end and start, streaming, sustained load.

A mixin of `bench.writer.Writer` (its connections, its server, its running
sessions): the parts that change many sessions at once, in tau's order.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections import Counter
from typing import Any

from tui.demo import TauServer

from .content import TERMINAL

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


class Runs:
    """Runs, streams and load on the writer's connections and server."""

    tasks: sqlite3.Connection
    tau: sqlite3.Connection
    rng: random.Random
    live: list[str]
    rested: list[str]

    def _srv(self) -> TauServer:
        raise NotImplementedError

    @staticmethod
    def _commit(conn: sqlite3.Connection) -> float:
        t0 = time.monotonic()
        conn.execute("COMMIT")
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

    def _idle_sessions(self, k: int, avoid_task: int | None = None) -> list[str]:
        """Up to ``k`` sessions that could start a run and that the dashboard
        watches: not archived, not running, on a task that is not finished
        (nor ``avoid_task``: the scenario counts its target's live sessions)."""
        open_tasks = ",".join("?" * len(TERMINAL))
        linked = [r[0] for r in self.tasks.execute(
            "SELECT ts.session_id FROM task_sessions ts JOIN tasks t ON t.id = ts.task_id"
            f" WHERE t.state NOT IN ({open_tasks}) AND t.id IS NOT ? ORDER BY ts.created_at DESC",
            (*TERMINAL, avoid_task))]
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

    def live_count(self, n: int, keep: list[str] | None = None,
                   avoid_task: int | None = None) -> dict[str, Any]:
        """End or start runs until ``n`` sessions run (``keep`` never ended;
        none started on ``avoid_task``)."""
        keep_set = set(keep or ())
        ended: list[str] = []
        started: list[str] = []
        if len(self.live) > n:
            extra = [s for s in reversed(self.live) if s not in keep_set][:len(self.live) - n]
            self._end_runs(extra)
            ended = extra
        if len(self.live) < n:
            started = self._idle_sessions(n - len(self.live), avoid_task)
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
            self._start_runs(self._idle_sessions(20, task))
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
