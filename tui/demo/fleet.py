"""``DemoFleet``: a simulated tau server over a demo store, with its socket.

Why: sessiontop reads tau's files and talks to tau's socket; on a machine
without tau there is nothing to watch. The fleet writes the files exactly as
tau does (only the six persisted phases, exit statuses only for socket chats,
whole messages only) and keeps the live truth in a ``TauServer`` in the same
process, as tau does. Two clocks drive it: ``step()`` makes one change (a
board move, a run started, or a run advanced to its next write), ``stream_step()``
advances every live run by one streamed event. The thread does both, the
stream every ~70 ms and the board every ~2 s at speed 1: a turn lasts tens of
seconds, a task minutes, and the task list does not reorder under the
operator's cursor every moment (`tests/test_demo_pace.py`). It also pushes
tau's ``subscription_usage`` to every subscriber, every 300 s (`usage`).

Data only: no Textual or Rich here (an import-linter contract says so).
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..tau import ddl as tauschema
from . import board, resume
from . import content as c
from .build import build_demo_store
from .runs import LOAD_TICKS, Run
from .server import TauServer
from .sink import FleetSink
from .usage import FIRST_S, INTERVAL_S, UsageWindows
from .writer import StoreWriter, num

BASE_INTERVAL_S = 2.0     # a look at the board every two seconds at speed 1 (most find nothing to do)
STREAM_INTERVAL_S = 0.07  # one streamed event per live run per tick
CHAT_OUTCOMES = {"completed": 62, "llm_error": 5, "max_turns": 8, "cancelled": 8, "error": 6, "panicked": 2}
TASK_OUTCOMES = {"completed": 75, "llm_error": 5, "max_turns": 7, "cancelled": 3, "error": 7, "panicked": 3}


class DemoFleet:
    """A simulated tau server over a demo store: a thread, or ``step()`` by hand."""

    def __init__(self, data_dir: Path | str, *, seed: int = 7, speed: float = 1.0,
                 runtime_dir: Path | str | None = None, clock: Callable[[], int] | None = None,
                 load_ticks: tuple[int, int] = LOAD_TICKS) -> None:
        """``load_ticks``: the range of stream ticks a run spends live before its
        prompt (history load and plugin start, TAU.md §5.2a)."""
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.data_dir = Path(data_dir)
        self.runtime_dir = Path(runtime_dir) if runtime_dir is not None else self.data_dir / "run"
        self.tasks_path = self.data_dir / tauschema.TASKS_DB
        self.tau_path = self.data_dir / tauschema.TAU_DB
        self.seed, self.speed = seed, speed
        self.load_ticks = load_ticks
        self.steps = 0
        self.skipped = 0  # changes given up because the store stayed busy
        self.error: BaseException | None = None  # what killed the thread, if anything
        self._clock = clock or (lambda: int(time.time() * 1000))
        self.server = TauServer(self.runtime_dir, self.data_dir, clock=self._clock)
        self.socket_path = self.server.socket_path
        self.pid_path = self.server.pid_path
        self.rng = random.Random(seed)
        self._jitter = random.Random(seed + 1)  # timing only: keeps the change sequence seeded
        self.turns: dict[tuple[int, str], int] = {}
        self.ended: dict[str, str] = {}  # a task session's last outcome, for the board
        self.has_queued: set[str] = set()  # tau's per-session flag: the next loop drains the queue
        self._runs: dict[str, Run] = {}
        self._usage = UsageWindows(random.Random(seed + 2), self._clock())
        self._sink = FleetSink(self)
        self._attached = False
        self._local = threading.local()
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = False

    # --- lifecycle -----------------------------------------------------------------

    def ensure_store(self) -> None:
        """Build the initial fleet unless the store already holds tasks."""
        if self.tasks_path.exists() and self.tau_path.exists():
            conn = sqlite3.connect(self.tasks_path)
            try:
                if conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]:
                    return
            except sqlite3.Error:
                pass
            finally:
                conn.close()
        build_demo_store(self.data_dir, seed=self.seed, now_ms=self._clock())

    def start(self, *, run_thread: bool = True) -> DemoFleet:
        """Build the store if absent, start the server (socket, tau.pid), resume the
        runs the store shows mid-turn, and start the simulator thread (unless
        ``run_thread`` is False: then ``step()`` / ``stream_step()`` drive it by hand).
        Starting a started fleet does nothing."""
        if self._started:
            return self
        self.ensure_store()
        if not self.server.running:
            self.server.start()
        with self._lock:
            self._attach(prime=True)
            resume.gc_empty(self)
        self._started = True
        if run_thread:
            self._start_thread()
        return self

    def _start_thread(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="tau-demo-fleet", daemon=True)
        self._thread.start()

    def restart(self, *, crash: bool = False) -> list[str]:
        """Restart the server as tau does: a clean shutdown (``restart: true``) or a
        crash, then a new process: memory empty, sessions with an unfinished last turn
        resumed (mod.rs ``spawn_auto_resume_tasks``), each with "Resumed after server
        restart.". Returns the resumed session ids."""
        threaded = self.running
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            if crash:
                self.server.crash()
            else:
                self.server.shutdown(restart=True)
            self._runs.clear()
            self.has_queued.clear()  # a new server: its flags are set again for what waits
            self._attached = True  # tau never restores phases from disk
            resumed: list[str] = []

            def startup() -> None:  # mod.rs run: bound, not yet accepting
                resume.gc_empty(self)
                resumed.extend(self._resume_unfinished())

            self.server.start(before_serving=startup)
        self._started = True
        if threaded:
            self._start_thread()
        return resumed

    def stop(self) -> None:
        """tau's clean shutdown: the thread stops, then ``server.shutdown()`` notifies
        clients, resets every persisted phase to idle and removes tau.sock and tau.pid."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._started:
            self._started = False
            self.server.shutdown()
            with self._lock:
                self._runs.clear()
                self._attached = False
        self.close()

    def close(self) -> None:
        """Close the calling thread's connections (those ``step()`` opened)."""
        w = getattr(self._local, "writer", None)
        if w is not None:
            w.close()
            self._local.writer = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> DemoFleet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            next_step = time.monotonic()
            next_usage = next_step + FIRST_S / self.speed
            while not self._stop.is_set():
                try:
                    if time.monotonic() >= next_step:
                        self._change(advance_runs=False)
                        next_step = time.monotonic() + BASE_INTERVAL_S / self.speed * self._jitter.uniform(0.5, 1.5)
                    if time.monotonic() >= next_usage:
                        self.push_usage()
                        next_usage = time.monotonic() + INTERVAL_S / self.speed
                    self._stream()
                except sqlite3.OperationalError:  # busy past the timeout: skip this change
                    self.skipped += 1
                if self._stop.wait(STREAM_INTERVAL_S / self.speed):
                    break
        except Exception as exc:  # keep it for the caller: a daemon thread has nobody to tell
            self.error = exc
        finally:
            self.close()

    # --- stepping ----------------------------------------------------------------------

    def _check_thread(self) -> None:
        if self.running and threading.current_thread() is not self._thread:
            raise RuntimeError("the simulator thread is running; stop() it before stepping by hand")

    def step(self) -> str:
        """Perform one change of the board or of a run, synchronously; return
        what it was. A run advanced goes to its next disk write; a run started
        is only made live (tau writes nothing then, TAU.md §5.2a)."""
        self._check_thread()
        return self._change(advance_runs=True)

    def stream_step(self) -> int:
        """Advance every live run by one tick (one stream event each); return how many ran."""
        self._check_thread()
        return self._stream()

    def _change(self, *, advance_runs: bool) -> str:
        with self._lock:
            self.writer()
            self._attach(prime=False)
            what = board.choose(self, advance_runs=advance_runs)
            self.steps += 1
            return what

    def _stream(self) -> int:
        with self._lock:
            self.writer()
            self._attach(prime=False)
            ran = 0
            for sid in sorted(self._runs, key=num):
                run = self._runs[sid]
                run.tick()
                ran += 1
                self._reap(sid, run)
            return ran

    def writer(self) -> StoreWriter:
        """The calling thread's writer (sqlite3 connections stay in their thread)."""
        w = getattr(self._local, "writer", None)
        if w is None:
            self.ensure_store()
            w = self._local.writer = StoreWriter(self.tasks_path, self.tau_path, self._clock)
        return w

    # --- runs --------------------------------------------------------------------------

    def waiting(self, sid: str) -> bool:
        """Whether a chat already waits for this session's running turn."""
        run = self._runs.get(sid)
        return run is not None and run.queued_chats > 0

    def live_runs(self) -> list[str]:
        return sorted(self._runs, key=num)

    def advance(self, sid: str) -> str:
        """Advance a live run to its next disk write."""
        run = self._runs[sid]
        run.flush()
        self._reap(sid, run)
        return f"{sid}: {'turn ended ' + run.outcome if run.done else 'advanced'}"

    def _reap(self, sid: str, run: Run) -> None:
        if not run.done:
            return
        del self._runs[sid]
        if not run.chat:
            self.ended[sid] = run.outcome
        if run.queued_chats:  # the chat that waited for the lock starts now
            self.start_run(sid, queued=run.queued_chats - 1)

    def chat(self, sid: str) -> str:
        """A socket ``chat`` to a chat session: waits for the lock if a turn is running."""
        run = self._runs.get(sid)
        if run is not None:
            run.queued_chats += 1
            self._sink.phase(sid, "Waiting", persist=True)
            return f"{sid}: chat waiting"
        self.start_run(sid)
        return f"{sid}: chat started"

    def push_usage(self) -> None:
        """tau's periodic ``subscription_usage``, to every subscriber."""
        with self._lock:
            self.server.broadcast(self._usage.message(self._clock()))

    def resume_run(self, sid: str) -> Run:
        """``resume_child_session`` (a queued message for an idle session): live,
        history and plugins, then Connecting; its engine drains the queue first."""
        run = self._new_run(sid, "resume", chat=False)
        self._runs[sid] = run
        run.tick()
        self._reap(sid, run)
        return run

    def start_run(self, sid: str, *, queued: int = 0) -> Run:
        """Start a new turn of ``sid``: its first tick, as tau starts one (live,
        with no phase; a chat also persists ``preparing``). Its history load,
        plugin start, prompt and Connecting come with the next ticks."""
        run = self._new_run(sid, "start")
        run.queued_chats = queued
        self._runs[sid] = run
        run.tick()
        self._reap(sid, run)
        return run

    def _new_run(self, sid: str, mode: str, pending: list[dict[str, Any]] | None = None,
                 chat: bool | None = None) -> Run:
        ctx, n_msgs, n_users = self._ctx(sid)
        rng = random.Random(f"{self.seed}/{sid}/{n_users}/{n_msgs}")
        chat = ctx.role in c.CHAT_ROLES if chat is None else chat
        weights = dict(CHAT_OUTCOMES if chat else TASK_OUTCOMES)
        if ctx.role == "orchestrator":
            weights["succeeded"] = 3
        outcome = rng.choices(list(weights), list(weights.values()))[0]
        return Run(self._sink, sid, ctx, rng, chat=chat, first=n_users == 0, n_msgs=n_msgs, outcome=outcome,
                   mode=mode, pending=pending, compact=chat and n_msgs >= 24 and rng.random() < 0.5,
                   load_ticks=rng.randint(*self.load_ticks))

    def _ctx(self, sid: str) -> tuple[c.Ctx, int, int]:
        """What a session is about (role, task, model), and its message and user counts."""
        w = self.writer()
        row = w.tasks.execute(
            "SELECT ts.role, t.id, t.title, t.branch FROM task_sessions ts JOIN tasks t ON t.id = ts.task_id"
            " WHERE ts.session_id = ? AND ts.role NOT IN ('creator', 'contributor')"
            " ORDER BY ts.created_at LIMIT 1", (sid,)).fetchone()
        srow = w.tau.execute(
            "SELECT model_json, project_name, (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id),"
            " (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id"
            "  AND json_extract(m.message_json, '$.role') = 'user') FROM sessions s WHERE id = ?", (sid,)).fetchone()
        role, t_id, title, branch = row or ("orchestrator", 0, f"{srow[1]} orchestration", "main")
        ctx = c.Ctx(c.PROJECTS.get(srow[1], c.PROJECTS["tau"]), t_id, title, role, json.loads(srow[0]),
                    branch or f"tau/task-{t_id}")
        return ctx, srow[2], srow[3]

    def orchestrators(self) -> list[str]:
        """Top-level chat sessions that are not any task's worker, planner, … (they file tasks)."""
        w = self.writer()
        roles = {r[0] for r in w.tasks.execute(
            "SELECT DISTINCT session_id FROM task_sessions WHERE role NOT IN ('creator', 'contributor')")}
        return [sid for (sid,) in w.tau.execute(
            "SELECT id FROM sessions WHERE archived = 0 AND parent_id IS NULL AND successor_id IS NULL"
            " AND json_extract(model_json, '$.api') != 'log' ORDER BY created_at, id") if sid not in roles]

    def project_of(self, sid: str) -> str | None:
        row = self.writer().tau.execute("SELECT project_name FROM sessions WHERE id = ?", (sid,)).fetchone()
        return row[0] if row else None

    def _resume_unfinished(self) -> list[str]:
        return resume.unfinished(self)

    def _attach(self, *, prime: bool) -> None:
        resume.attach(self, prime=prime)
