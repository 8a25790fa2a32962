"""``TauServer``: tau's Unix socket and in-memory live state, in this process.

Why: the dashboard's live truth (which session is running, in which phase,
what it is streaming) exists only in tau's server (TAU.md §5.2, §7). The
stand-in keeps the same memory — ``(phase, turn_started_at_ms,
phase_started_at_ms)`` per session and a live set, empty after every start —
and serves it on a real socket with tau's framing, start-up and shutdown.

One thread runs an asyncio loop for all connections. The simulator calls the
hooks from its own thread: they update memory under a lock, serialise the
line once, and hand it to the loop; they never wait for a client. As in tau,
a subscriber's queue is unbounded.

Test hooks (all thread-safe): ``requests``, ``answers()``, ``subscriber_count()``,
``connection_count()``, ``set_phase()``, ``emit()``, ``send()``, ``broadcast()``,
``end_turn()``, ``shutdown()``, ``crash()``, ``start()`` again (a restart),
``stall()`` and ``inject_line()``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..tau import ddl as tauschema
from .queries import LABELS, Live
from .wire import DERIVED, READ_LIMIT, Conn, Serving, bind_unix, line_of, phase_event

__all__ = ["TauServer", "bind_unix"]


class TauServer(Serving):
    """A tau server stand-in: socket at ``<runtime_dir>/tau.sock``, memory, hooks."""

    def __init__(self, runtime_dir: Path | str, data_dir: Path | str, *,
                 clock: Callable[[], int] | None = None) -> None:
        self.runtime_dir, self.data_dir = Path(runtime_dir), Path(data_dir)
        self.socket_path = self.runtime_dir / "tau.sock"
        self.pid_path = self.runtime_dir / "tau.pid"
        self._clock = clock or (lambda: int(time.time() * 1000))
        self._lock = threading.Lock()
        self._phases: dict[str, tuple[str, int | None, int | None]] = {}
        self._live: set[str] = set()
        self._requests: list[dict[str, Any]] = []
        self._answers: list[tuple[str, str]] = []  # (session, wire phase) each subscribe was answered
        self._subs: dict[str, list[Conn]] = {}
        self._conns: set[Conn] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._listener: asyncio.base_events.Server | None = None
        self._unstalled: asyncio.Event | None = None
        self._stalled = False

    # --- lifecycle -------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, before_serving: Callable[[], None] | None = None) -> TauServer:
        """Start as tau does: mkdir, delete a stale tau.sock, bind, write tau.pid,
        then ``before_serving`` (tau's start-up work: gc, the restart's info lines
        and resumes, mod.rs ``run``) while connections wait in the backlog, then
        serve."""
        if self.running:
            return self
        with self._lock:
            self._phases.clear()
            self._live.clear()
            self._subs.clear()
        self.runtime_dir.mkdir(parents=True, exist_ok=True)
        if self.socket_path.exists() or self.socket_path.is_symlink():
            self.socket_path.unlink()
        sock = bind_unix(self.socket_path)
        self.pid_path.write_text(str(os.getpid()), encoding="ascii")
        if before_serving is not None:
            try:
                before_serving()
            except BaseException:
                sock.close()
                raise
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._loop = loop
        self._thread = threading.Thread(target=self._serve, args=(loop, sock, ready),
                                        name="tau-demo-server", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def shutdown(self, restart: bool = False) -> None:
        """tau's clean shutdown: notify and close every connection, reset persisted
        phases to idle, delete tau.sock and tau.pid. No drain: running turns stop."""
        if not self.running:
            return
        self._call(self._close_all(graceful=True, restart=restart))
        self._stop_loop()
        path = self.data_dir / tauschema.TAU_DB
        if path.exists():
            conn = tauschema.connect_writer(path)
            try:
                conn.execute("UPDATE sessions SET last_phase = 'idle'"
                             " WHERE last_phase IS NOT NULL AND last_phase != 'idle'")
            finally:
                conn.close()
        for p in (self.socket_path, self.pid_path):
            try:
                p.unlink()
            except FileNotFoundError:
                pass

    def crash(self) -> None:
        """Die like a killed tau: connections cut, tau.sock, tau.pid and phases left behind."""
        if not self.running:
            return
        self._call(self._close_all(graceful=False, restart=False))
        self._stop_loop()

    def _serve(self, loop: asyncio.AbstractEventLoop, sock: socket.socket, ready: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        try:
            self._unstalled = asyncio.Event()
            if not self._stalled:
                self._unstalled.set()
            self._listener = loop.run_until_complete(
                asyncio.start_unix_server(self._handle, sock=sock, limit=READ_LIMIT))
            ready.set()
            loop.run_forever()
        finally:
            ready.set()
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    def _call(self, coro: Any, timeout: float = 10.0) -> Any:
        assert self._loop is not None
        try:
            return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)
        except Exception:  # a wedged client must not wedge the caller
            return None

    def _stop_loop(self) -> None:
        assert self._loop is not None and self._thread is not None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread, self._loop, self._listener = None, None, None
        with self._lock:
            self._subs.clear()
            self._conns.clear()

    # --- memory and pushes (any thread) ----------------------------------------------

    def _push(self, sid: str, data: bytes) -> None:
        loop = self._loop
        if loop is not None:
            try:
                loop.call_soon_threadsafe(self._deliver, sid, data)
            except RuntimeError:  # the loop closed meanwhile
                pass

    def _stamp(self, sid: str, wire: str, turn_ms: int | None = None) -> tuple[int | None, int | None]:
        """notifications.rs ``set_phase_and_stamp_locked``; call with the lock held."""
        if wire == "Idle":
            self._phases[sid] = ("Idle", None, None)
            return None, None
        now = self._clock()
        old, turn, since = self._phases.get(sid, ("Idle", None, None))
        if turn_ms is not None:
            turn = turn_ms
        elif turn is None:
            turn = now
        if old != wire or since is None:
            since = now
        self._phases[sid] = (wire, turn, since)
        return turn, since

    def set_phase(self, session_id: str, wire_phase: str, *, live: bool = True,
                  turn_started_at_ms: int | None = None) -> None:
        """Change a session's phase in memory only and push a stamped phase event."""
        if wire_phase not in LABELS:
            raise ValueError(f"unknown phase {wire_phase!r}")
        with self._lock:
            turn, since = self._stamp(session_id, wire_phase, turn_started_at_ms)
            if live:
                self._live.add(session_id)
            else:
                self._live.discard(session_id)
        self._push(session_id, line_of({"type": "stream", "event": phase_event(wire_phase, turn, since)}))

    def set_live(self, session_id: str, on: bool) -> None:
        with self._lock:
            (self._live.add if on else self._live.discard)(session_id)

    def emit(self, session_id: str, event: dict[str, Any]) -> None:
        """A stream event to the session's subscribers; updates the derived phase."""
        kind = event.get("type")
        event = {"type": kind, **event}
        with self._lock:
            if kind == "phase":
                turn, since = self._stamp(session_id, event["phase"])
                event = phase_event(event["phase"], turn, since)
            elif kind in DERIVED:
                self._stamp(session_id, DERIVED[kind])
        self._push(session_id, line_of({"type": "stream", "event": event}))

    def send(self, session_id: str, msg: dict[str, Any]) -> None:
        """A non-stream message (agent_done, cancelled, error, user_message, …) to subscribers."""
        self._push(session_id, line_of({"type": msg["type"], **msg}))

    def broadcast(self, msg: dict[str, Any]) -> None:
        """A push to every subscription (refresh_subscription_usage.rs: once per
        subscribed session, so a client with several gets several copies)."""
        with self._lock:
            sids = list(self._subs)
        data = line_of(msg)
        for sid in sids:
            self._push(sid, data)

    def end_turn(self, session_id: str) -> None:
        """agent_done, then Idle; the session leaves the live set."""
        self.send(session_id, {"type": "agent_done"})
        self.set_phase(session_id, "Idle", live=False)

    def inject_line(self, session_id: str, raw: bytes) -> None:
        """Raw bytes (garbage, a huge line) to the session's subscribers, as given."""
        self._push(session_id, bytes(raw))

    def stall(self, on: bool = True) -> None:
        """Keep accepting connections but answer nothing while ``on``."""
        self._stalled = on
        loop, ev = self._loop, self._unstalled
        if loop is not None and ev is not None:
            loop.call_soon_threadsafe(ev.clear if on else ev.set)

    # --- views ---------------------------------------------------------------------------

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every well-formed request received, in order (a copy)."""
        with self._lock:
            return list(self._requests)

    def answers(self, session_id: str) -> list[str]:
        """The phase each subscribe to this session was answered with, in order."""
        with self._lock:
            return [phase for sid, phase in self._answers if sid == session_id]

    def subscriber_count(self, session_id: str | None = None) -> int:
        with self._lock:
            if session_id is not None:
                return len(self._subs.get(session_id, ()))
            return sum(len(v) for v in self._subs.values())

    def connection_count(self) -> int:
        with self._lock:
            return len(self._conns)

    def phase_of(self, session_id: str) -> tuple[str, int | None, int | None]:
        with self._lock:
            return self._phases.get(session_id, ("Idle", None, None))

    def is_live(self, session_id: str) -> bool:
        with self._lock:
            return session_id in self._live

    def live_view(self) -> Live:
        with self._lock:
            return Live(dict(self._phases), frozenset(self._live))

