"""tau's on-disk schema, as DDL, for the writers this project owns.

The dashboard itself never runs any of this: it only reads. The DDL is here so
that the demo fleet, the tests and the benchmark build stores that look exactly
like a real tau installation (tau 0.1.x, see TAU_STORE.md), including the older
and newer variants the reader has to tolerate.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

TASKS_DB = "tasks.db"
TAU_DB = "tau.db"

#: tasks.db as tau 0.1.x creates it (the newest columns included).
TASKS_DDL = """
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY,
    project_name TEXT NOT NULL,
    title TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'interactive',
    priority INTEGER DEFAULT 0,
    parent_id INTEGER,
    tags TEXT,
    affected_files TEXT,
    branch TEXT,
    worktree_path TEXT,
    session_id TEXT,
    skip_review INTEGER DEFAULT 0,
    held INTEGER DEFAULT 0,
    auto_downgraded_from_ready INTEGER DEFAULT 0,
    no_merge INTEGER DEFAULT 0,
    dispatch_failure_count INTEGER NOT NULL DEFAULT 0,
    placeholder_session_id TEXT,
    filed_by_project TEXT,
    filed_by_session_id TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    require_approval INTEGER NOT NULL DEFAULT 0,
    merge_target TEXT,
    sandbox_profile TEXT
);
CREATE TABLE IF NOT EXISTS task_sessions (
    task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    session_id TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'worker',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (task_id, session_id)
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
CREATE TABLE IF NOT EXISTS task_history (
    id INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    field TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    session_id TEXT,
    created_at INTEGER NOT NULL
);
"""

#: An older tasks.db: `project` instead of `project_name`, no `task_sessions`,
#: none of the later columns.
OLD_TASKS_DDL = """
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY,
    project TEXT NOT NULL,
    title TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'interactive',
    priority INTEGER DEFAULT 0,
    parent_id INTEGER,
    tags TEXT,
    branch TEXT,
    session_id TEXT,
    held INTEGER DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS task_relations (
    from_task INTEGER NOT NULL,
    to_task INTEGER NOT NULL,
    relation TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS task_history (
    id INTEGER PRIMARY KEY,
    task_id INTEGER NOT NULL,
    field TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    session_id TEXT,
    created_at INTEGER NOT NULL
);
"""

#: tau.db as tau 0.1.x creates it.
TAU_DDL = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    model_json TEXT NOT NULL,
    system_prompt TEXT,
    cwd TEXT,
    is_subscription INTEGER,
    created_at INTEGER NOT NULL,
    parent_id TEXT,
    child_budget INTEGER,
    tagline TEXT,
    archived INTEGER NOT NULL DEFAULT 0,
    last_exit_status TEXT,
    last_phase TEXT,
    auto_archive INTEGER,
    notify_parent INTEGER,
    project_name TEXT,
    successor_id TEXT,
    resume_on_restart INTEGER
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    message_json TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_messages_session ON messages(session_id);
CREATE TABLE IF NOT EXISTS queued_messages (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    message_json TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS projects (
    name TEXT PRIMARY KEY,
    path TEXT,
    last_seen INTEGER,
    created_at INTEGER
);
CREATE TABLE IF NOT EXISTS migrations (
    version INTEGER PRIMARY KEY,
    applied_at INTEGER
);
"""

#: An older tau.db: the sessions table stops at `archived`.
OLD_TAU_DDL = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    model_json TEXT NOT NULL,
    system_prompt TEXT,
    cwd TEXT,
    is_subscription INTEGER,
    created_at INTEGER NOT NULL,
    parent_id TEXT,
    child_budget INTEGER,
    tagline TEXT,
    archived INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    message_json TEXT NOT NULL,
    created_at INTEGER NOT NULL
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


def create_store(data_dir: Path | str, *, old: bool = False) -> tuple[Path, Path]:
    """Create an empty tau store (both files) in ``data_dir``; return their paths.

    ``old=True`` makes the older variant (no task_sessions, ``project`` column,
    sessions without the migration columns).
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
            conn.executescript(ddl)
        finally:
            conn.close()
    return tasks_path, tau_path
