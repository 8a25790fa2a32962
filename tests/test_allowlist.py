"""The client sends tau only what the dashboard uses: ``subscribe`` and ``task_overview``.

Every other request type of tau v0.1.1 (TAU.md §7.2 and §7.5: 49 in all, with
``get_subscription_usage``) and anything that is not a request type is refused
in the client, before a byte is written. The peer is a real Unix socket that
records every byte it receives.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import apoll
from tests.taukit import MUTATING_REQUESTS
from tui.tau.client import ALLOWED_REQUESTS, RequestRefused, connect

#: tau's read-only requests (TAU.md §7.2).
READ_ONLY = (
    "list_sessions", "get_session_info", "get_session_ancestors", "get_messages", "subscribe", "task_get",
    "task_overview", "task_list", "task_search", "task_status", "task_merge_queue", "project_stats",
    "get_project_info", "resolve_successor", "get_task_session_role", "list_models", "list_aliases",
    "auth_status",
)
JUNK = (None, 7, True, "", " subscribe", "subscribe\n", "SUBSCRIBE", "Subscribe", "task_overview ",
        "subscribe\x00", ["subscribe"], {"type": "subscribe"})


class Recorder:
    """A listening Unix socket that keeps every byte any client sends."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(8)
        self.received = bytearray()
        self.lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(4096):
                with self.lock:
                    self.received += data

    def bytes(self) -> bytes:
        with self.lock:
            return bytes(self.received)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[Recorder]:
    r = Recorder(tmp_path / "tau.sock")
    yield r
    r.close()


def test_tau_has_49_request_types_and_two_are_allowed() -> None:
    assert len(set(READ_ONLY) | set(MUTATING_REQUESTS)) == 49
    assert ALLOWED_REQUESTS == {"subscribe", "task_overview"}


async def test_every_other_request_is_refused_before_a_byte_is_sent(recorder: Recorder, tmp_path: Path) -> None:
    conn = await connect(tmp_path / "tau.sock")
    try:
        for kind in (*READ_ONLY, *MUTATING_REQUESTS, *JUNK):
            if kind in ("subscribe", "task_overview"):
                continue
            with pytest.raises(RequestRefused):
                await conn.send({"type": kind, "session_id": "s1", "project": "app", "id": 1})  # type: ignore[dict-item]
        with pytest.raises(RequestRefused):
            await conn.send({"session_id": "s1"})  # no type at all
        # What was allowed goes through, so the recorder does see what is sent.
        await conn.send({"type": "task_overview", "project": "app", "recent_limit": 0})
        await conn.send({"type": "subscribe", "session_id": "s1"})
        expected = (b'{"type":"task_overview","project":"app","recent_limit":0}\n'
                    b'{"type":"subscribe","session_id":"s1"}\n')
        await apoll(lambda: len(recorder.bytes()) >= len(expected), what="the allowed lines received")
    finally:
        await conn.close()
    assert recorder.bytes() == expected
