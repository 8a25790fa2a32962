"""tau's message queue, as its server fills and drains it.

Why: a message for a session waits in ``queued_messages`` until the session's
next turn takes it, and the dashboard shows what waits and what was fed into a
running turn. So the stand-in queues and drains exactly as tau does:

- ``queue_and_maybe_resume`` (notifications.rs): the target resolved through
  its successor chain (db.rs ``resolve_successor``), one row inserted (db.rs
  ``queue_message``: content and sender kept apart, ``created_at`` now), the
  session's ``has_queued`` flag set; if no run holds the session, a resume is
  started (``resume_child_session``: live, history and plugins, then
  ``Connecting``, no prompt of its own);
- ``queue_message_to_session``: the same without a resume (tau's "plugins
  reloaded" note): it waits for whatever run comes next;
- the drain (agent.rs ``drain_queued``, at the top of each engine loop, before
  its ``Connecting``, only when the flag is set): in one transaction every row
  of the session becomes a user message ``[from sender] content`` and is
  deleted (db.rs ``drain_queued_messages``); then the engine's
  ``SteerMessage``, which the server sends subscribers as ``user_message``
  (agent_runner.rs :626). A turn that ends before its next loop leaves the
  rows (and the flag) for the next run.
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

from . import content as c
from .writer import tx

if TYPE_CHECKING:
    from .port import Fleet

#: db.rs ``resolve_successor``'s hop limit.
MAX_HOPS = 32


def resolve_successor(db: sqlite3.Connection, sid: str) -> str:
    """The live tip of ``sid``'s successor chain (a successor archived or
    missing ends it there; a cycle stops at the hop limit)."""
    tip = sid
    for _ in range(MAX_HOPS):
        row = db.execute("SELECT successor_id FROM sessions WHERE id = ?", (tip,)).fetchone()
        nxt = row[0] if row else None
        if not nxt:
            return tip
        ok = db.execute("SELECT 1 FROM sessions WHERE id = ? AND archived = 0", (nxt,)).fetchone()
        if ok is None:
            return tip
        tip = nxt
    return tip


def queue(fleet: Fleet, target: str, content: str, sender: str, *, resume: bool = True) -> str:
    """Queue ``content`` for ``target`` as tau does; the session it landed on."""
    w = fleet.writer()
    sid = resolve_successor(w.tau, target)
    w.tau.execute("INSERT INTO queued_messages (target_session_id, content, sender_info, created_at)"
                  " VALUES (?,?,?,?)", (sid, content, sender, fleet._clock()))
    fleet.has_queued.add(sid)
    if resume and sid not in fleet._runs:  # the session's lock is free: resume it
        fleet.resume_run(sid)
    return sid


def drain(fleet: Fleet, sid: str) -> list[str]:
    """The engine's drain: [] unless the flag is set; else every queued row of
    ``sid`` stored as a user message and deleted, in one transaction; their texts."""
    if sid not in fleet.has_queued:
        return []
    fleet.has_queued.discard(sid)
    w = fleet.writer()
    now = fleet._clock()
    texts: list[str] = []
    with tx(w.tau):
        rows = w.tau.execute("SELECT id, content, sender_info FROM queued_messages"
                             " WHERE target_session_id = ? ORDER BY id", (sid,)).fetchall()
        for _, content, sender in rows:
            text = f"[from {sender}] {content}" if sender is not None else content
            w.tau.execute("INSERT INTO messages (session_id, message_json, created_at) VALUES (?,?,?)",
                          (sid, json.dumps(c.user(text, now), separators=(",", ":")), now))
            texts.append(text)
        w.tau.executemany("DELETE FROM queued_messages WHERE id = ?", [(r[0],) for r in rows])
    return texts


def waiting(fleet: Fleet) -> dict[str, int]:
    """Session → how many messages wait for it (the board's view)."""
    return dict(fleet.writer().tau.execute(
        "SELECT target_session_id, COUNT(*) FROM queued_messages GROUP BY target_session_id").fetchall())
