"""Where tau keeps its files (TAU_STORE.md: "Where the files are")."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

STORE_FILES = ("tasks.db", "tasks.db-wal", "tau.db", "tau.db-wal")


def default_data_dir(env: Mapping[str, str] = os.environ) -> Path:
    """`$XDG_DATA_HOME/tau`, else `$HOME/.local/share/tau`, else `/tmp/tau-data`."""
    if env.get("XDG_DATA_HOME"):
        return Path(env["XDG_DATA_HOME"]) / "tau"
    if env.get("HOME"):
        return Path(env["HOME"]) / ".local" / "share" / "tau"
    return Path("/tmp/tau-data")


def default_runtime_dir(env: Mapping[str, str] = os.environ) -> Path:
    """`$XDG_RUNTIME_DIR/tau`, else `$HOME/.tau`: where tau.pid and tau.sock live."""
    if env.get("XDG_RUNTIME_DIR"):
        return Path(env["XDG_RUNTIME_DIR"]) / "tau"
    return Path(env.get("HOME", "/tmp")) / ".tau"


def file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of ``path``, or None if it is not there: tells a file
    replaced or a directory re-created apart from the one seen before."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino)
