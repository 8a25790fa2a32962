"""Talking to tau's server over its Unix socket: read-only, framed, bounded.

tau's protocol (TAU.md §7) is one compact JSON object per line in both
directions, no request ids, one connection per subscription. This module is
the only place that writes bytes to tau: `encode_request` refuses every request
type that is not on the allowlist (the two the dashboard uses), so nothing
that changes tau's state (TAU.md §7.5), takes its lock per message (§7.6) or
makes it call out (`get_subscription_usage`) can be sent, whatever a caller
asks.

Reading is bounded: a line longer than `MAX_LINE` is skipped (and said), never
held whole, because a subscription's deltas carry the whole partial message
and a runaway tool argument can be megabytes. No Textual here.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from .errors import denied

#: The request types this dashboard sends, and so the only ones it can send:
#: `subscribe` (the live truth, TAU.md §7.4) and `task_overview` (wait reasons,
#: no per-message work, §7.6). Every other of tau's 49 types is refused here,
#: before a byte is written: the state-changing ones (§7.5), the costly reads
#: that take tau's state lock and parse messages (list_sessions,
#: get_session_info, task_get, get_messages: §7.6), the rest of §7.2, and
#: `get_subscription_usage` (it can make tau call Anthropic).
ALLOWED_REQUESTS = frozenset({"subscribe", "task_overview"})
#: The longest line kept (bytes). Longer ones are skipped as they stream past.
MAX_LINE = 16 * 1024 * 1024
#: How much is read from the socket at a time.
CHUNK = 256 * 1024
#: A connect that takes longer than this is a server that does not answer.
CONNECT_TIMEOUT_S = 2.0
#: Unix socket paths longer than this cannot be passed to connect() directly.
SUN_PATH_MAX = 107

# serde writes an internally tagged enum's tag first, and tau's messages are
# compact, so a stream event's type is in the first few dozen bytes.
_STREAM_HEAD = re.compile(rb'\{"type":"stream","event":\{"type":"([a-z_]+)"')


class RequestRefused(ValueError):
    """A request type that is not on the allowlist."""


class ServerUnavailable(OSError):
    """The server could not be reached; ``kind`` says why, for the operator."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind  # "down" | "denied" | "unreachable"
        self.detail = detail


def encode_request(request: dict[str, object]) -> bytes:
    """The bytes of one request line; refuses anything not on the allowlist."""
    kind = request.get("type")
    if not isinstance(kind, str) or kind not in ALLOWED_REQUESTS:
        raise RequestRefused(f"sessiontop never sends {kind!r} to tau (only "
                             f"{' and '.join(sorted(ALLOWED_REQUESTS))})")
    return json.dumps(request, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


@dataclass(frozen=True, slots=True)
class Skipped:
    """A line that was not kept: too long, or not JSON. ``size`` in bytes."""

    reason: str
    size: int


@dataclass(frozen=True, slots=True)
class Line:
    """One line from tau: its stream event type if it is a stream event
    (read from the head of the line, without decoding it), and the raw bytes."""

    raw: bytes
    stream_type: str | None

    def decode(self) -> dict[str, object] | Skipped:
        """The whole JSON object; a line that is not one is `Skipped`."""
        try:
            obj = json.loads(self.raw)
        except (ValueError, RecursionError) as exc:
            return Skipped(f"not JSON ({str(exc)[:80]})", len(self.raw))
        if not isinstance(obj, dict):
            return Skipped(f"JSON {type(obj).__name__}, not an object", len(self.raw))
        return obj


def socket_started_ms(path: Path) -> int | None:
    """When the server bound its socket (the file's mtime, ms): tau binds it
    first thing at start (mod.rs ``run``), so this is the server's start."""
    try:
        return os.stat(path).st_mtime_ns // 1_000_000
    except OSError:
        return None


def socket_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the socket file: a restarted server binds a new one."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


async def connect(path: Path, *, timeout: float = CONNECT_TIMEOUT_S) -> Connection:
    """Connect as tau's own `is_running` test does; classify a failure.

    Missing socket or connection refused: the server is not running (a crash
    leaves the file behind). Permission denied: another user's server.
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.setblocking(False)
    dir_fd: int | None = None
    try:
        target = str(path)
        if len(os.fsencode(target)) > SUN_PATH_MAX:
            # Too long for sun_path: reach it through the directory's fd.
            dir_fd = os.open(path.parent, os.O_PATH)
            target = f"/proc/self/fd/{dir_fd}/{path.name}"
        loop = asyncio.get_running_loop()
        await asyncio.wait_for(loop.sock_connect(sock, target), timeout)
        reader, writer = await asyncio.open_unix_connection(sock=sock, limit=CHUNK)
    except (FileNotFoundError, ConnectionRefusedError, NotADirectoryError) as exc:
        sock.close()
        raise ServerUnavailable("down", f"tau server not running ({_why(exc)})") from exc
    except PermissionError as exc:
        sock.close()
        raise ServerUnavailable("denied", _why_denied(path)) from exc
    except asyncio.TimeoutError as exc:
        sock.close()
        raise ServerUnavailable("unreachable", f"tau server does not accept connections "
                                               f"(no answer in {timeout:g}s)") from exc
    except OSError as exc:
        sock.close()
        raise ServerUnavailable("unreachable", f"cannot reach tau server: {exc.strerror or exc}") from exc
    finally:
        if dir_fd is not None:
            os.close(dir_fd)
    return Connection(reader, writer)


def _why_denied(path: Path) -> str:
    """A refused connect: a directory on the way this user may not enter, or
    a socket that is not this user's (another user's server)."""
    refused = denied(path)
    if refused is not None:
        return refused
    try:
        owner = os.stat(path).st_uid
    except OSError:
        owner = None
    if owner is not None and owner != os.geteuid():
        return f"{path.name} belongs to another user (permission denied)"
    return f"{path.name}: permission denied (its mode does not let this user connect)"


def _why(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "tau.sock refuses connections: left behind by a server that stopped"
    return "no tau.sock"


class Connection:
    """One connection to tau: send allowlisted requests, read bounded lines."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._buf = bytearray()
        self._skipping = 0  # >0: inside an over-long line, bytes skipped so far
        self.bytes_read = 0

    async def send(self, request: dict[str, object]) -> None:
        self._writer.write(encode_request(request))
        await self._writer.drain()

    async def lines(self) -> AsyncIterator[Line | Skipped]:
        """Lines until the server closes; blank lines are dropped as tau does."""
        reader, buf = self._reader, self._buf
        while True:
            chunk = await reader.read(CHUNK)
            if not chunk:
                return
            self.bytes_read += len(chunk)
            start = 0
            while True:
                end = chunk.find(b"\n", start)
                if end < 0:
                    break
                piece = chunk[start:end]
                start = end + 1
                if self._skipping or len(buf) + len(piece) > MAX_LINE:
                    size = (self._skipping or len(buf)) + len(piece)
                    self._skipping = 0
                    buf.clear()
                    yield Skipped(f"a line of {size:,} bytes (over {MAX_LINE:,}) was skipped", size)
                    continue
                if buf:
                    buf += piece
                    raw = bytes(buf)
                    buf.clear()
                else:
                    raw = piece
                if raw.strip():
                    yield _line(raw)
            rest = chunk[start:]
            if self._skipping:
                self._skipping += len(rest)
            elif len(buf) + len(rest) > MAX_LINE:
                self._skipping = len(buf) + len(rest)
                buf.clear()
            else:
                buf += rest

    async def close(self) -> None:
        writer = self._writer
        if writer.is_closing():
            return
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), 1.0)
        except (OSError, asyncio.TimeoutError):
            pass


def _line(raw: bytes) -> Line:
    m = _STREAM_HEAD.match(raw, 0, 96)
    return Line(raw, m.group(1).decode() if m else None)
