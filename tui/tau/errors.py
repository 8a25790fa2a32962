"""What went wrong with a file of the store, worded for the operator.

SQLite's messages name neither the file nor the fix; the status line must do
both in one line, and the readers must tell a passing lock (read again later)
from a broken file (drop the connection) and from a migration (learn the
schema again).
"""

from __future__ import annotations

import os
from pathlib import Path


class StoreError(Exception):
    """A problem with the store, worded for the operator."""


def describe_error(exc: BaseException, path: Path | None = None) -> str:
    """One line an operator can act on, for an exception raised by SQLite.

    It names the file (the data directory is on the status line), says what
    is wrong and, where there is one, the fix; short enough for one line.
    """
    where = f"{path.name}: " if path else ""
    text = str(exc)
    low = text.lower()
    if path is not None and path.is_dir():
        return f"{where}cannot open: it is a directory, not a database file"
    if "file is not a database" in low or "not a database" in low:
        return f"{where}not an SQLite database (corrupt, truncated, or another kind of file)"
    if "malformed" in low:
        return f"{where}the database is corrupt ({text})"
    if "unable to open" in low or "readonly" in low or "read-only" in low:
        if path is not None and path.exists():
            return f"{where}cannot open: {why_cannot_open(path)}"
        return f"{where}cannot open (missing, or no permission to reach it)"
    if is_busy(exc):
        return f"{where}busy: a writer holds a lock ({text}); retrying"
    if isinstance(exc, PermissionError):
        return f"{where}permission denied ({text})"
    return f"{where}{text}"


def schema_moved(exc: BaseException) -> bool:
    """tau migrated the schema under a prepared query: learn it again, read again."""
    low = str(exc).lower()
    return "no such column" in low or "no such table" in low


def is_busy(exc: BaseException) -> bool:
    """A lock held by a writer: wait and read again, the file itself is fine."""
    low = str(exc).lower()
    return "locked" in low or "busy" in low


def why_cannot_open(path: Path) -> str:
    """Why SQLite cannot open an existing file read-only, and the fix.

    A WAL database is read through its ``-shm`` index: a reader must be able to
    read the file and open (or create) ``-shm`` and ``-wal`` beside it.
    """
    if not os.access(path, os.R_OK):
        return "permission denied (run as tau's user, or grant this user read access)"
    side = [path.with_name(path.name + suffix) for suffix in ("-shm", "-wal")]
    missing = [p.name for p in side if not p.exists()]
    if missing and not os.access(path.parent, os.W_OK):
        return (f"the directory is read-only and SQLite must create {missing[0]} beside it "
                f"(make the directory writable, or let tau open the store once)")
    locked = [p.name for p in side if p.exists() and not os.access(p, os.R_OK | os.W_OK)]
    if locked:
        return (f"{locked[0]} is not readable and writable by this user "
                f"(run as tau's user, or grant access to it)")
    return "SQLite cannot read it (check the permissions of the file, its -wal/-shm and directory)"


def denied(path: Path) -> str | None:
    """If this user may not reach ``path`` (a directory on the way withholds
    its search permission, or the file its read permission): one line that
    says so and the fix; else None. A denied file looked missing: the status
    said "no tau store yet" for a data directory this user cannot open."""
    try:
        os.stat(path)
    except PermissionError:
        parent = next((p for p in path.parents if _searchable(p) is False), path.parent)
        return f"{parent}: permission denied (run as tau's user, or grant this user access to it)"
    except OSError:
        return None
    if path.is_dir() and not os.access(path, os.R_OK | os.X_OK):
        return f"{path}: permission denied (run as tau's user, or grant this user access to it)"
    return None


def _searchable(directory: Path) -> bool | None:
    """Whether this user may look inside ``directory`` (None: it is not there)."""
    try:
        os.stat(directory)
    except OSError:
        return None
    return os.access(directory, os.X_OK)
