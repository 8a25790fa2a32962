"""tau's on-disk schema, as DDL, for the writers this project owns.

The dashboard itself never runs any of this: it only reads. The DDL is here so
that the demo fleet, the tests and the benchmark build stores that look exactly
like a real tau installation (tau 0.1.1, see TAU.md §2, §4), including the
oldest layouts the reader has to tolerate.

The statements are tau's own, in the order tau runs them: db.rs ``Db::open``
for tau.db and tasks_db.rs ``SCHEMA`` + ``migrate`` for tasks.db. A fresh tau
store is the CREATE TABLE followed by the ALTERs that ``open`` always runs, so
the physical column order is tau's (e.g. ``tasks.require_approval`` comes after
``updated_at``).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

TASKS_DB = "tasks.db"
TAU_DB = "tau.db"

#: tasks.db as tau 0.1.1 creates it: tasks_db.rs SCHEMA, then the three ALTERs
#: of ``migrate`` that also run on a brand-new store.
TASKS_DDL = """
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY,
    project_name TEXT NOT NULL,
    title TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'interactive',
    priority INTEGER DEFAULT 0,
    parent_id INTEGER REFERENCES tasks(id),
    tags TEXT,
    affected_files TEXT,
    branch TEXT,
    worktree_path TEXT,
    session_id TEXT,
    skip_review INTEGER NOT NULL DEFAULT 0,
    held INTEGER NOT NULL DEFAULT 0,
    placeholder_session_id TEXT,
    auto_downgraded_from_ready INTEGER NOT NULL DEFAULT 0,
    filed_by_project TEXT,
    filed_by_session_id TEXT,
    no_merge INTEGER NOT NULL DEFAULT 0,
    dispatch_failure_count INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS task_messages (
    id INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    content TEXT NOT NULL,
    author TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS task_relations (
    from_task INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    to_task INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    relation TEXT NOT NULL,
    PRIMARY KEY (from_task, to_task, relation)
);
CREATE TABLE IF NOT EXISTS task_sessions (
    task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    session_id TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'worker',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (task_id, session_id)
);
CREATE TABLE IF NOT EXISTS task_history (
    id INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    field TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    session_id TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_tasks_project_state ON tasks(project_name, state);
CREATE INDEX IF NOT EXISTS idx_tasks_parent ON tasks(parent_id);
CREATE INDEX IF NOT EXISTS idx_task_messages_task ON task_messages(task_id);
CREATE INDEX IF NOT EXISTS idx_task_history_task ON task_history(task_id);
ALTER TABLE tasks ADD COLUMN require_approval INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN merge_target TEXT;
ALTER TABLE tasks ADD COLUMN sandbox_profile TEXT;
"""

#: The first tasks.db (tau commit 2ff4f5c): ``project`` (a path) and
#: ``assigned_session``; the same five tables as today, task_sessions included.
OLD_TASKS_DDL = """
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY,
    project TEXT NOT NULL,
    title TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'interactive',
    priority INTEGER DEFAULT 0,
    parent_id INTEGER REFERENCES tasks(id),
    tags TEXT,
    affected_files TEXT,
    assigned_session TEXT,
    branch TEXT,
    worktree_path TEXT,
    session_id TEXT,
    skip_review INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS task_messages (
    id INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    content TEXT NOT NULL,
    author TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS task_relations (
    from_task INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    to_task INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    relation TEXT NOT NULL,
    PRIMARY KEY (from_task, to_task, relation)
);
CREATE TABLE IF NOT EXISTS task_sessions (
    task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    session_id TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'worker',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (task_id, session_id)
);
CREATE TABLE IF NOT EXISTS task_history (
    id INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    field TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    session_id TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_tasks_project_state ON tasks(project, state);
CREATE INDEX IF NOT EXISTS idx_tasks_parent ON tasks(parent_id);
CREATE INDEX IF NOT EXISTS idx_task_messages_task ON task_messages(task_id);
CREATE INDEX IF NOT EXISTS idx_task_history_task ON task_history(task_id);
"""

#: tau.db as tau 0.1.1 creates it: db.rs ``Db::open``, CREATE TABLEs first (the
#: sessions table stops at ``archived``), then the ALTERs it runs on every open,
#: then the parent index.
TAU_DDL = """
CREATE TABLE IF NOT EXISTS sessions (
    id             TEXT PRIMARY KEY,
    model_json     TEXT NOT NULL,
    system_prompt  TEXT,
    cwd            TEXT,
    is_subscription INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    parent_id      TEXT,
    child_budget   INTEGER NOT NULL DEFAULT 16,
    tagline        TEXT,
    archived       INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
    id          INTEGER PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    message_json TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_messages_session ON messages(session_id);
CREATE TABLE IF NOT EXISTS queued_messages (
    id INTEGER PRIMARY KEY,
    target_session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    content TEXT NOT NULL,
    sender_info TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_queued_target ON queued_messages(target_session_id);
CREATE TABLE IF NOT EXISTS projects (
    name        TEXT PRIMARY KEY,
    path        TEXT NOT NULL UNIQUE,
    last_seen   INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS migrations (
    name       TEXT PRIMARY KEY,
    applied_at INTEGER NOT NULL
);
ALTER TABLE sessions ADD COLUMN last_exit_status TEXT;
ALTER TABLE sessions ADD COLUMN last_phase TEXT;
ALTER TABLE sessions ADD COLUMN auto_archive INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN notify_parent INTEGER NOT NULL DEFAULT 1;
ALTER TABLE sessions ADD COLUMN project_name TEXT;
ALTER TABLE sessions ADD COLUMN successor_id TEXT;
ALTER TABLE sessions ADD COLUMN resume_on_restart INTEGER NOT NULL DEFAULT 1;
CREATE INDEX IF NOT EXISTS idx_sessions_parent ON sessions(parent_id);
"""

#: The first tau.db (tau commit 88f769b): five session columns, messages as today.
OLD_TAU_DDL = """
CREATE TABLE IF NOT EXISTS sessions (
    id             TEXT PRIMARY KEY,
    model_json     TEXT NOT NULL,
    system_prompt  TEXT,
    is_subscription INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id          INTEGER PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    message_json TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_messages_session ON messages(session_id);
"""


def connect_writer(path: Path | str) -> sqlite3.Connection:
    """A writer connection configured the way tau's own is (WAL, foreign keys)."""
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def run_ddl(conn: sqlite3.Connection, ddl: str) -> None:
    """Run ``ddl`` statement by statement, ignoring "duplicate column" as tau does.

    tau re-runs its ALTERs on every open and drops their errors, so running a
    DDL again on an existing store is a no-op here too.
    """
    for stmt in (s.strip() for s in ddl.split(";")):
        if not stmt:
            continue
        try:
            conn.execute(stmt)
        except sqlite3.OperationalError as exc:
            if "duplicate column" not in str(exc):
                raise


def create_store(data_dir: Path | str, *, old: bool = False) -> tuple[Path, Path]:
    """Create an empty tau store (both files) in ``data_dir``; return their paths.

    ``old=True`` makes the oldest layouts tau ever wrote (``OLD_TASKS_DDL``,
    ``OLD_TAU_DDL``), as a store last opened by the first tau builds.
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    tasks_path = data_dir / TASKS_DB
    tau_path = data_dir / TAU_DB
    for path, ddl in (
        (tasks_path, OLD_TASKS_DDL if old else TASKS_DDL),
        (tau_path, OLD_TAU_DDL if old else TAU_DDL),
    ):
        conn = connect_writer(path)
        try:
            run_ddl(conn, ddl)
        finally:
            conn.close()
    return tasks_path, tau_path
