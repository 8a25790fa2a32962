"""Which tables and columns one file has, so queries name only what is there.

tau adds columns by migration (tau.db) and renamed one (tasks.db: ``project``
became ``project_name``); a store last opened by an older tau lacks the later
ones. Learnt with ``PRAGMA table_info`` at open and again when a query meets a
migration; a missing column is read as NULL.
"""

from __future__ import annotations

import aiosqlite

from .decode import as_str


class Schema:
    """The columns of every table of one file (empty while it is not open)."""

    __slots__ = ("tables",)

    def __init__(self, tables: dict[str, set[str]] | None = None) -> None:
        self.tables: dict[str, set[str]] = tables if tables is not None else {}

    def col(self, table: str, col: str, alias: str | None = None) -> str:
        """``col`` if the table has it, else ``NULL AS col``: tolerate missing columns."""
        name = alias or col
        have = self.tables.get(table, set())
        if table == "tasks" and col == "session_id" and "assigned_session" in have:
            return f'{task_session_expr(have)} AS "{name}"'
        return f'"{col}"' if col in have else f"NULL AS \"{name}\""

    def has(self, table: str, *cols: str) -> bool:
        """True if ``table`` exists with at least ``cols`` (the columns a query
        cannot do without; the others are read through `col`)."""
        have = self.tables.get(table)
        return have is not None and all(c in have for c in cols)

    def messages_ok(self) -> bool:
        """tau.db has messages we can page through and attribute to sessions."""
        return self.has("messages", "id", "session_id", "message_json")

    def msg_created(self) -> str:
        """The expression for a message's ``created_at`` (NULL if the column is missing)."""
        return '"created_at"' if self.has("messages", "created_at") else "NULL"

    def project_col(self) -> str:
        """tasks.db's project column: ``project_name``, or ``project`` in older stores."""
        cols = self.tables.get("tasks", set())
        if "project_name" in cols:
            return "project_name"
        if "project" in cols:
            return "project"
        return "NULL"


def task_session_expr(task_cols: set[str]) -> str:
    """A task's session as tau's migration makes it (TAU.md §4.2, step 2): the
    first tasks.db kept it in ``assigned_session``, which tau copies into
    ``session_id`` where it is set and differs, then drops."""
    if "session_id" in task_cols:
        return 'COALESCE("assigned_session", "session_id")'
    return '"assigned_session"'


async def discover(conn: aiosqlite.Connection) -> Schema:
    """The columns of every table, to read what is there and NULL for the rest."""
    cols: dict[str, set[str]] = {}
    async with conn.execute("SELECT name FROM sqlite_master WHERE type='table'") as cur:
        tables = [as_str(r[0]) for r in await cur.fetchall()]
    for table in tables:
        quoted = table.replace('"', '""')
        async with conn.execute(f'PRAGMA table_info("{quoted}")') as cur:
            cols[table] = {as_str(r[1]) for r in await cur.fetchall()}
    return Schema(cols)
