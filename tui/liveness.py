"""Is the tau server up? From disk only, so what this says is an inference."""

from __future__ import annotations

import os
from pathlib import Path


def server_pid(runtime_dir: Path | None) -> int | None:
    """The pid in ``tau.pid`` if it names a living process, else None.

    A stale pid file (after a crash) names a dead process and so reads as
    "server down"; a pid that was reused by another process cannot be told
    apart from disk, which is why the screen says the liveness is inferred.
    """
    if runtime_dir is None:
        return None
    try:
        with open(runtime_dir / "tau.pid", "rb") as f:
            head = f.read(64)  # a pid is short; whatever else is there is not read
        pid = int(head.decode("ascii", errors="replace").split()[0])
    except (OSError, ValueError, IndexError):
        return None
    if not 0 < pid < 2**31:  # os.kill cannot take it: not a pid
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid  # alive, owned by someone else
    except (OSError, OverflowError):
        return None
    return pid
