"""tau's socket, connection by connection (dispatch.rs ``handle_client``).

Why: the framing and the life of a connection are where clients break: one
compact JSON line per message both ways, blank lines skipped, a bad line
answered with ``bad request: …`` and the connection kept, ``subscribe``
taking the connection over until the client closes, sends a byte, a write
fails, or the server shuts down (TAU.md §7.1, §7.4). This mixin holds that
part of ``TauServer``; it runs only on the server's loop thread.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
from pathlib import Path
from typing import Any

from . import dispatch, protocol
from .queries import Live

#: Stream events that imply a phase (agent_runner.rs forward loop).
DERIVED = {"thinking_start": "Thinking", "thinking_delta": "Thinking", "text_start": "Responding",
           "text_delta": "Responding", "toolcall_start": "Responding", "toolcall_end": "ToolExec",
           "tool_result": "ToolExec"}
SUN_PATH_MAX = 107
READ_LIMIT = 1 << 26  # tau reads lines of any length; 64 MiB is plenty for a test


def line_of(obj: dict[str, Any]) -> bytes:
    """One compact JSON line, as serde_json writes it (type first, no ASCII escaping)."""
    return (json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


def bind_unix(path: Path) -> socket.socket:
    """Bind a listening socket at ``path``, through /proc/self/fd when it is too long."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        if len(os.fsencode(str(path))) > SUN_PATH_MAX:
            fd = os.open(path.parent, getattr(os, "O_PATH", os.O_RDONLY))
            try:
                sock.bind(f"/proc/self/fd/{fd}/{path.name}")
            finally:
                os.close(fd)
        else:
            sock.bind(str(path))
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


class Conn:
    """One client connection, owned by the loop thread."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.stop = asyncio.Event()
        self.restart = False
        self.queue: asyncio.Queue[bytes] | None = None  # set while subscribed
        self.task: asyncio.Task[None] | None = None


class Serving:
    """The connection-serving half of ``TauServer`` (its loop thread only)."""

    data_dir: Path
    _lock: threading.Lock
    _conns: set[Conn]
    _subs: dict[str, list[Conn]]
    _requests: list[dict[str, Any]]
    _answers: list[tuple[str, str]]
    _phases: dict[str, tuple[str, int | None, int | None]]
    _listener: asyncio.base_events.Server | None
    _unstalled: asyncio.Event | None

    def live_view(self) -> Live:
        raise NotImplementedError

    async def _close_all(self, *, graceful: bool, restart: bool) -> None:
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            if graceful:
                conn.restart = restart
                conn.stop.set()
            else:
                conn.writer.transport.abort()
        tasks = [c.task for c in conns if c.task is not None]
        if graceful and tasks:
            await asyncio.wait(tasks, timeout=5)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Conn(reader, writer)
        conn.task = asyncio.current_task()
        with self._lock:
            self._conns.add(conn)
        try:
            await self._requests_loop(conn)
        except (ConnectionError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            with self._lock:
                self._conns.discard(conn)
                for subs in self._subs.values():
                    if conn in subs:
                        subs.remove(conn)
            writer.close()

    async def _until_stop(self, conn: Conn, coro: Any) -> Any:
        """Await ``coro``; None if the connection was told to stop first (then it is cancelled)."""
        task = asyncio.ensure_future(coro)
        stop = asyncio.ensure_future(conn.stop.wait())
        done, _ = await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            stop.cancel()
            return task.result()
        task.cancel()
        return None

    async def _goodbye(self, conn: Conn) -> None:
        conn.writer.write(line_of({"type": "server_shutdown", "restart": conn.restart}))
        await asyncio.wait_for(conn.writer.drain(), 2)

    async def _requests_loop(self, conn: Conn) -> None:
        """dispatch.rs ``handle_client``: requests in order, one answer each."""
        while True:
            raw = await self._until_stop(conn, conn.reader.readline())
            if raw is None:
                return await self._goodbye(conn)
            if not raw:
                return
            assert self._unstalled is not None
            if await self._until_stop(conn, self._unstalled.wait()) is None:
                return await self._goodbye(conn)
            text = raw.decode("utf-8", errors="replace")
            if not text.strip():
                continue
            try:
                req = protocol.parse_request(text)
            except protocol.BadRequest as exc:
                conn.writer.write(line_of({"type": "error", "message": f"bad request: {exc}"}))
                await conn.writer.drain()
                continue
            with self._lock:
                self._requests.append(json.loads(text))
            if req["type"] == "subscribe":
                return await self._subscription(conn, req["session_id"])
            try:
                resp = dispatch.answer(req, self.data_dir, self.live_view())
            except Exception as exc:  # a store the stand-in cannot read: say so, keep serving
                resp = {"type": "error", "message": f"{type(exc).__name__}: {exc}"}
            conn.writer.write(line_of(resp))
            await conn.writer.drain()

    async def _subscription(self, conn: Conn, sid: str) -> None:
        """Register, send the current phase at once, then forward until the client closes,
        sends any byte, a write fails, or the server shuts down."""
        conn.queue = asyncio.Queue()
        with self._lock:
            self._subs.setdefault(sid, []).append(conn)
            phase, turn_ms, phase_ms = self._phases.get(sid, ("Idle", None, None))
            self._answers.append((sid, phase))
        conn.writer.write(line_of({"type": "stream", "event": phase_event(phase, turn_ms, phase_ms)}))
        await conn.writer.drain()
        reading = asyncio.ensure_future(conn.reader.read(1))
        stopping = asyncio.ensure_future(conn.stop.wait())
        try:
            while True:
                getting = asyncio.ensure_future(conn.queue.get())
                done, _ = await asyncio.wait({getting, reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if getting in done:
                    conn.writer.write(getting.result())
                    await conn.writer.drain()
                    continue
                getting.cancel()
                if stopping in done:
                    await self._goodbye(conn)
                return
        finally:
            reading.cancel()
            stopping.cancel()

    def _deliver(self, sid: str, data: bytes) -> None:
        with self._lock:
            subs = list(self._subs.get(sid, ()))
        for conn in subs:
            if conn.queue is not None:
                conn.queue.put_nowait(data)


def phase_event(phase: str, turn_ms: int | None, phase_ms: int | None) -> dict[str, Any]:
    """types.rs ``StreamEvent::Phase``: the stamps are omitted when None (Idle)."""
    event: dict[str, Any] = {"type": "phase", "phase": phase}
    if turn_ms is not None:
        event["turn_started_at_ms"] = turn_ms
    if phase_ms is not None:
        event["phase_started_at_ms"] = phase_ms
    return event
