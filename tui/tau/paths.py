"""Where tau keeps its files, computed the way tau computes them (TAU.md §1.1).

tau reads each ``XDG_*`` variable with Rust's ``std::env::var``: a variable
that exists counts as set even when it is empty (``XDG_DATA_HOME=""`` gives
the relative path ``tau``), and a value that is not valid UTF-8 counts as
unset. Without ``HOME`` the runtime directory is per process
(``/tmp/tau-<pid>``), so a client cannot compute the server's: it has to look
for ``/tmp/tau-*/tau.sock``, and take only its own user's.
"""

from __future__ import annotations

import glob
import os
import stat
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


class ForeignSocket(OSError):
    """The only ``/tmp/tau-*/tau.sock`` there is belongs to another user:
    named, and never connected to (its server would see our requests)."""

    def __init__(self, path: Path, uid: int) -> None:
        super().__init__(f"{path} belongs to another user (uid {uid}): not connected")
        self.path, self.uid = path, uid


def find_socket(runtime_dir: Path | None, *, tmp: Path = Path("/tmp")) -> Path | None:
    """The server's socket: in the runtime directory, or, when that is per
    process, the newest ``<tmp>/tau-*/tau.sock`` that is ours (None if there
    is none).

    ``/tmp`` is everyone's: only a socket (not a link to one) owned by this
    user, in a directory owned by this user, is taken. If all there are belong
    to others, `ForeignSocket` names the newest, so the operator is told why
    nothing is live rather than shown another user's fleet (root could
    connect to any of them).
    """
    if runtime_dir is not None:
        return runtime_dir / SOCKET
    uid = os.geteuid()
    mine: list[tuple[float, str]] = []
    theirs: list[tuple[float, str, int]] = []
    for candidate in glob.glob(os.path.join(glob.escape(str(tmp)), "tau-*", SOCKET)):
        try:
            st = os.lstat(candidate)
            owner_dir = os.lstat(os.path.dirname(candidate)).st_uid
        except OSError:
            continue
        if not stat.S_ISSOCK(st.st_mode):
            continue
        if st.st_uid == uid and owner_dir == uid:
            mine.append((st.st_mtime, candidate))
        else:
            theirs.append((st.st_mtime, candidate, st.st_uid if st.st_uid != uid else owner_dir))
    if mine:
        return Path(max(mine)[1])
    if theirs:
        _, path, owner = max(theirs)
        raise ForeignSocket(Path(path), owner)
    return None


def file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of ``path``, or None if it is not there: tells a file
    replaced or a directory re-created apart from the one seen before."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino)
