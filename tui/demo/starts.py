"""A run tau starts itself, one step at a time, in tau's order (TAU.md §5.2a).

Why: the moments a dashboard can miss are between these steps, and a test
must be able to stop in each one: the session live with no phase (a
``subscribe`` answers Idle), its prompt stored, its ``Connecting``. The simulated
fleet (runs.py) takes the same steps with ticks between them; this drives them
by hand, on a `TauServer` and tau.db through a connection of its own, as tau's
server writes its store.

- ``live``: the session lock is taken and the session enters ``live_sessions``
  (agent_runner.rs ``run_child_chat`` :758, ``resume_child_session`` :1064);
  the phase map has nothing for it yet;
- ``prompt``: ``append_message`` of the user message (:840), then its
  ``user_message`` broadcast; ``info``: ``queue_info_to_session`` (the
  restart's "Resumed after server restart.", mod.rs:254);
- ``connecting``: ``run_agent_turn_inner`` emits ``Connecting`` (:404): the
  phase map first, then ``sending request`` persisted, in one critical section
  of tau's state lock (notifications.rs ``persist_phase``), so a reader that
  sees the column and then subscribes is answered ``Connecting``. The UPDATE
  commits even when the column already says ``sending request`` (a resume over
  a crash's stale value): only the commit shows;
- ``end``: ``agent_done``, then ``Idle`` (persisted ``idle``), then the session
  leaves ``live_sessions`` (:1007-1011).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from ..tau import ddl as tauschema
from . import content as c
from .server import TauServer


class RunStarts:
    """tau's steps of a run start, on a stand-in server and its store."""

    def __init__(self, server: TauServer, tau_path: Path | str | None = None, *,
                 clock: Callable[[], int] | None = None) -> None:
        self.server = server
        self.tau_path = Path(tau_path) if tau_path is not None else server.data_dir / tauschema.TAU_DB
        self._clock = clock or (lambda: int(time.time() * 1000))
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = tauschema.connect_writer(self.tau_path)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def live(self, sid: str) -> None:
        """Step 1: live, with no phase: a subscribe now answers Idle."""
        self.server.set_live(sid, True)

    def _append(self, sid: str, msg: c.Msg) -> None:
        self._db().execute("INSERT INTO messages (session_id, message_json, created_at) VALUES (?,?,?)",
                           (sid, json.dumps(msg, separators=(",", ":")), self._clock()))

    def prompt(self, sid: str, text: str) -> None:
        """Step 2: the prompt stored, then broadcast."""
        self._append(sid, c.user(text, self._clock()))
        self.server.send(sid, {"type": "user_message", "text": text})

    def info(self, sid: str, text: str) -> None:
        """An info line tau stores (a restart's "Resumed after server restart.")."""
        self._append(sid, c.info(text, self._clock()))

    def connecting(self, sid: str) -> None:
        """Step 3: Connecting in memory and to subscribers, then ``sending request`` on disk."""
        self.server.set_phase(sid, "Connecting", live=True)
        self._db().execute("UPDATE sessions SET last_phase = 'sending request' WHERE id = ?", (sid,))

    def end(self, sid: str) -> None:
        """The run ends: agent_done, Idle (persisted ``idle``), out of the live set."""
        self.server.send(sid, {"type": "agent_done"})
        self.server.set_phase(sid, "Idle", live=True)
        self._db().execute("UPDATE sessions SET last_phase = 'idle' WHERE id = ?", (sid,))
        self.server.set_live(sid, False)
