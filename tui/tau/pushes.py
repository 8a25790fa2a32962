"""What tau pushes on a subscription that is not the session's phase.

Kept by the tracker beside the phases (`tui.tau.live`), per server connection
that heard it:

- the newest ``subscription_usage`` (rate-limit windows; tau sends one copy on
  every subscription at each 300 s refresh: copies are taken once);
- ``session_succeeded``: the session retired, its successor's id (tau writes
  ``sessions.successor_id`` first, dispatch.rs ``succeed_session_impl``; the
  push says it at once);
- the LLM calls tau never stores that the stream showed begin (a compaction's
  summary, a loop review): no cost total can include them, so the screens say
  how many were seen while watching.

Pure state, no I/O.
"""

from __future__ import annotations

from ..model.snapshots import RateLimits
from .limits import same_figures

#: The same figures pushed again this long after the last (s) are taken anew:
#: the age the status line shows starts again.
RESTAMP_S = 30.0
#: Sessions whose unpriced calls are remembered.
MAX_COUNTED = 4096


class Pushes:
    """The newest usage push, successors and unpriced calls seen."""

    def __init__(self) -> None:
        self.limits: RateLimits | None = None
        self._successors: dict[str, str] = {}
        self._unpriced: dict[str, tuple[int, int]] = {}

    def usage(self, limits: RateLimits) -> bool:
        """A usage push; True if what the screen says of it changed."""
        old = self.limits
        if old is not None and same_figures(old, limits) and limits.received_at - old.received_at < RESTAMP_S:
            return False
        self.limits = limits
        return True

    def succeeded(self, sid: str, successor: str) -> bool:
        changed = self._successors.get(sid) != successor
        self._successors[sid] = successor
        return changed

    def successor(self, sid: str) -> str | None:
        return self._successors.get(sid)

    def unpriced_call(self, sid: str, kind: str) -> None:
        """An LLM call tau does not store began: "compaction" or "loop review"."""
        compactions, reviews = self._unpriced.get(sid, (0, 0))
        if kind == "compaction":
            compactions += 1
        else:
            reviews += 1
        if sid not in self._unpriced and len(self._unpriced) >= MAX_COUNTED:
            self._unpriced.pop(next(iter(self._unpriced)))
        self._unpriced[sid] = (compactions, reviews)

    def unpriced(self, sid: str) -> tuple[int, int]:
        """(compactions, loop reviews) seen on ``sid``'s stream while watching."""
        return self._unpriced.get(sid, (0, 0))
