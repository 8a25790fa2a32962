"""Where tau keeps its files, computed the way tau computes them (TAU.md §1.1).

tau reads each ``XDG_*`` variable with Rust's ``std::env::var``: a variable
that exists counts as set even when it is empty (``XDG_DATA_HOME=""`` gives
the relative path ``tau``), and a value that is not valid UTF-8 counts as
unset. Without ``HOME`` the runtime directory is per process
(``/tmp/tau-<pid>``), so a client cannot compute the server's: it has to look
for ``/tmp/tau-*/tau.sock``.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Mapping
from pathlib import Path

STORE_FILES = ("tasks.db", "tasks.db-wal", "tau.db", "tau.db-wal")
SOCKET = "tau.sock"
PID_FILE = "tau.pid"


def _var(env: Mapping[str, str], name: str) -> str | None:
    """The variable as ``std::env::var`` sees it: None if absent or not UTF-8."""
    value = env.get(name)
    if value is None:
        return None
    try:
        value.encode("utf-8")  # os.environ keeps undecodable bytes as surrogates
    except UnicodeEncodeError:
        return None
    return value


def default_data_dir(env: Mapping[str, str] = os.environ) -> Path:
    """`$XDG_DATA_HOME/tau`, else `$HOME/.local/share/tau`, else `/tmp/tau-data`."""
    xdg, home = _var(env, "XDG_DATA_HOME"), _var(env, "HOME")
    if xdg is not None:
        return Path(xdg) / "tau"
    if home is not None:
        return Path(home) / ".local" / "share" / "tau"
    return Path("/tmp/tau-data")


def default_runtime_dir(env: Mapping[str, str] = os.environ) -> Path | None:
    """`$XDG_RUNTIME_DIR/tau`, else `$HOME/.tau`; None when tau's is per process
    (both unset): then `find_socket` looks for it."""
    xdg, home = _var(env, "XDG_RUNTIME_DIR"), _var(env, "HOME")
    if xdg is not None:
        return Path(xdg) / "tau"
    if home is not None:
        return Path(home) / ".tau"
    return None


def find_socket(runtime_dir: Path | None) -> Path | None:
    """The server's socket: in the runtime directory, or, when that is per
    process, the newest ``/tmp/tau-*/tau.sock`` (None if there is none)."""
    if runtime_dir is not None:
        return runtime_dir / SOCKET
    found: list[tuple[float, str]] = []
    for candidate in glob.glob(f"/tmp/tau-*/{SOCKET}"):
        try:
            found.append((os.stat(candidate).st_mtime, candidate))
        except OSError:
            continue
    return Path(max(found)[1]) if found else None


def file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of ``path``, or None if it is not there: tells a file
    replaced or a directory re-created apart from the one seen before."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino)
