"""The demo's writes to tau's two files, each as the tau code that does it.

Why: every row the demo writes must be one tau writes, written the way tau
writes it: db.rs ``append_message`` (``created_at`` = insert time),
``update_phase`` / ``update_exit_status`` (single columns), ``compact_session``
(delete below the first kept row, then one summary row with a higher id),
the ArchiveSession handler (an info per session of the subtree, then
``archived = 1``, nothing else), tasks_db.rs state changes with history.
Short ``BEGIN IMMEDIATE`` transactions, like a busy tau.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..tau import ddl as tauschema
from . import content as c


@contextmanager
def tx(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One short write transaction, taken up front (no upgrade deadlocks)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def num(sid: str) -> int:
    """The number in a session id like ``s12`` (0 for anything else)."""
    return int(sid[1:]) if sid[:1] == "s" and sid[1:].isdigit() else 0


def cut_point(roles: list[str], keep: int = 4) -> int | None:
    """Where compaction cuts (compaction.rs ``find_cut_point``): only at a user, info or
    summary message; the latest such point that keeps ``keep`` messages, else the first."""
    points = [i for i, role in enumerate(roles) if i > 0 and role in ("user", "info", "compaction_summary")]
    fit = [i for i in points if len(roles) - i >= keep]
    return max(fit) if fit else (min(points) if points else None)


class StoreWriter:
    """Connections to both files (one thread's), and tau's writes over them."""

    def __init__(self, tasks_path: Path, tau_path: Path, clock: Callable[[], int]) -> None:
        self.tasks = tauschema.connect_writer(tasks_path)
        self.tau = tauschema.connect_writer(tau_path)
        for conn in (self.tasks, self.tau):  # fewer fsyncs; readers cannot tell
            conn.execute("PRAGMA synchronous=NORMAL")
        self.now = clock

    def close(self) -> None:
        self.tasks.close()
        self.tau.close()

    # --- tau.db ---------------------------------------------------------------------

    def append(self, sid: str, msgs: list[c.Msg]) -> list[int]:
        """db.rs ``append_message``, one row per message, ``created_at`` = now."""
        now, ids = self.now(), []
        with tx(self.tau):
            for m in msgs:
                cur = self.tau.execute("INSERT INTO messages (session_id, message_json, created_at)"
                                       " VALUES (?,?,?)", (sid, c.dump(m), now))
                ids.append(int(cur.lastrowid or 0))
        return ids

    def update_phase(self, sid: str, label: str) -> None:
        self.tau.execute("UPDATE sessions SET last_phase = ? WHERE id = ?", (label, sid))

    def update_exit_status(self, sid: str, status: str) -> None:
        self.tau.execute("UPDATE sessions SET last_exit_status = ? WHERE id = ?", (status, sid))

    def tagline_if_empty(self, sid: str, text: str) -> None:
        self.tau.execute("UPDATE sessions SET tagline = ? WHERE id = ? AND tagline IS NULL", (text, sid))

    def next_sid(self) -> str:
        """db.rs ``next_session_id``: max numeric suffix + 1 (ids can be reused)."""
        row = self.tau.execute("SELECT id FROM sessions ORDER BY CAST(SUBSTR(id, 2) AS INTEGER) DESC"
                               " LIMIT 1").fetchone()
        return f"s{(num(row[0]) if row else 0) + 1}"

    def create_session(self, model: dict[str, Any], *, cwd: str | None, parent_id: str | None,
                       tagline: str | None, project: str | None, system_prompt: str | None,
                       auto_archive: bool = False, notify_parent: bool = True) -> str:
        """dispatch.rs ``create_session_impl``: a row, no messages."""
        with tx(self.tau):
            sid = self.next_sid()
            self.tau.execute(
                "INSERT INTO sessions (id, model_json, system_prompt, cwd, is_subscription, created_at,"
                " parent_id, child_budget, tagline, archived, last_exit_status, last_phase, auto_archive,"
                " notify_parent, project_name, successor_id) VALUES (?,?,?,?,?,?,?,16,?,0,NULL,NULL,?,?,?,NULL)",
                (sid, c.dump(model), system_prompt, cwd, int(model["provider"] == "anthropic"), self.now(),
                 parent_id, tagline, int(auto_archive), int(notify_parent), project))
        return sid

    def succeed(self, sid: str, caller: str | None = None) -> str:
        """dispatch.rs ``succeed_session_impl``: a top-level successor with the same
        model, cwd, tagline and project; the old session's ``successor_id``; then
        the handoff info line stored on the old session (its push comes next)."""
        row = self.tau.execute("SELECT model_json, cwd, tagline, project_name, system_prompt FROM sessions"
                               " WHERE id = ?", (sid,)).fetchone()
        new = self.create_session(json.loads(row[0]), cwd=row[1], parent_id=None, tagline=row[2],
                                  project=row[3], system_prompt=row[4])
        self.tau.execute("UPDATE sessions SET successor_id = ? WHERE id = ?", (new, sid))
        by = f"Session retired by {caller}; " if caller else "Session retired; "
        self.append(sid, [c.info(f"{by}succeeded by {new}. Future notifications forwarded.", self.now())])
        return new

    def compact(self, sid: str, summary: str, tokens_before: int, *,
                dry_run: bool = False) -> tuple[int, int] | None:
        """db.rs ``compact_session``: rows below the first kept one go, one summary row comes
        (a higher id than the kept rows). Returns (rows deleted, tokens after), or None when
        there is no cut point; ``dry_run`` only says what it would do."""
        rows = self.tau.execute("SELECT id, json_extract(message_json, '$.role') FROM messages"
                                " WHERE session_id = ? ORDER BY id", (sid,)).fetchall()
        cut = cut_point([r[1] for r in rows])
        if cut is None:
            return None
        if dry_run:
            return cut, 18_000 + (tokens_before % 4_000)
        now = self.now()
        with tx(self.tau):
            self.tau.execute("DELETE FROM messages WHERE session_id = ? AND id < ?", (sid, rows[cut][0]))
            self.tau.execute("INSERT INTO messages (session_id, message_json, created_at) VALUES (?,?,?)",
                             (sid, c.dump(c.compaction_summary(summary, tokens_before, now)), now))
        return cut, 18_000 + (tokens_before % 4_000)

    def subtree(self, root: str) -> list[str]:
        """db.rs ``get_subtree_ids``: the root, then each child's subtree, by created_at."""
        out = [root]
        for (child,) in self.tau.execute("SELECT id FROM sessions WHERE parent_id = ? ORDER BY created_at",
                                         (root,)).fetchall():
            out += self.subtree(child)
        return out

    def archive_tree(self, root: str, busy: set[str] | frozenset[str] = frozenset()) -> list[str]:
        """The ArchiveSession handler: "Session archived." to each, then archived = 1.
        ``last_phase`` is left alone, as tau leaves it. Refused (nothing happens, as when
        tau answers "cannot archive: session … is busy") if a session of the tree is live."""
        if self.tau.execute("SELECT 1 FROM sessions WHERE id = ?", (root,)).fetchone() is None:
            return []
        ids = self.subtree(root)
        if busy & set(ids):
            return []
        now = self.now()
        for sid in ids:
            self.tau.execute("INSERT INTO messages (session_id, message_json, created_at) VALUES (?,?,?)",
                             (sid, c.dump(c.info("Session archived.", now)), now))
        with tx(self.tau):
            self.tau.executemany("UPDATE sessions SET archived = 1 WHERE id = ?", [(s,) for s in ids])
        return ids

    # --- tasks.db -------------------------------------------------------------------------

    def set_state(self, task_id: int, old: str, new: str, by: str | None, note: str | None = None,
                  **cols: Any) -> None:
        """A state change: row, history and updated_at in one tasks.db transaction."""
        now = self.now()
        sets = "".join(f", {k} = ?" for k in cols)
        with tx(self.tasks):
            self.tasks.execute(f"UPDATE tasks SET state = ?, updated_at = ?{sets} WHERE id = ?",
                               (new, now, *cols.values(), task_id))
            self.tasks.execute("INSERT INTO task_history (task_id, field, old_value, new_value, session_id,"
                               " created_at) VALUES (?, 'state', ?, ?, ?, ?)", (task_id, old, new, by, now))
            if note:
                self.tasks.execute("INSERT INTO task_messages (task_id, content, author, created_at, updated_at)"
                                   " VALUES (?,?,?,?,?)", (task_id, note, by or "system", now, now))

    def link(self, task_id: int, sid: str, role: str, *, owner: bool) -> None:
        """tasks_db.rs ``record_session`` (INSERT OR IGNORE), and the owner column if dispatched."""
        now = self.now()
        with tx(self.tasks):
            self.tasks.execute("INSERT OR IGNORE INTO task_sessions (task_id, session_id, role, created_at)"
                               " VALUES (?,?,?,?)", (task_id, sid, role, now))
            if owner:  # tasks_db.rs set_session_id: no history entry
                self.tasks.execute("UPDATE tasks SET session_id = ?, updated_at = ? WHERE id = ?",
                                   (sid, now, task_id))

    def file_task(self, project: str, title: str, state: str, priority: int, tags: list[str],
                  files: list[str], creator: str | None, dep: int | None) -> int:
        """task_create from a session (or a person): row, creator link, first history entry."""
        now = self.now()
        with tx(self.tasks):
            cur = self.tasks.execute(
                "INSERT INTO tasks (project_name, title, state, priority, tags, affected_files,"
                " filed_by_project, filed_by_session_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (project, title, state, priority, json.dumps(tags), json.dumps(files),
                 project if creator else None, creator, now, now))
            task_id = int(cur.lastrowid or 0)
            if creator:
                self.tasks.execute("INSERT OR IGNORE INTO task_sessions (task_id, session_id, role, created_at)"
                                   " VALUES (?,?,'creator',?)", (task_id, creator, now))
            self.tasks.execute("INSERT INTO task_history (task_id, field, old_value, new_value, session_id,"
                               " created_at) VALUES (?, 'state', NULL, ?, ?, ?)", (task_id, state, creator, now))
            if dep is not None:
                self.tasks.execute("INSERT INTO task_relations VALUES (?,?,'depends_on')", (task_id, dep))
        return task_id

    def set_placeholder(self, task_id: int, sid: str) -> None:
        self.tasks.execute("UPDATE tasks SET placeholder_session_id = ? WHERE id = ?", (sid, task_id))
