"""Which sessions' live state changed since a reader last looked.

The tracker bumps a version on every change the screens may show; a reader
(the store, once per read) asks what changed since the version it saw, so only
the task rows of those sessions are built again. A change of the whole picture
(the server came, went or was replaced) answers "everything".
"""

from __future__ import annotations

from collections.abc import Callable


class Changes:
    """A version counter, the sessions changed at each version, and listeners."""

    def __init__(self) -> None:
        self.version = 0
        self.epoch = 0  # the version of the last change of everything
        self._at: dict[str, int] = {}
        self._listeners: list[Callable[[], None]] = []

    def listen(self, callback: Callable[[], None]) -> None:
        """``callback()`` after every change (on the event loop)."""
        self._listeners.append(callback)

    def session(self, sid: str, *, rows: bool = True) -> None:
        """What the server says of ``sid`` changed (``rows``: what a task row
        shows of it, its liveness or phase; else only a pane's detail)."""
        self.version += 1
        if rows:
            self._at[sid] = self.version
        self._notify()

    def poke(self) -> None:
        """Something the screens show changed that is no session's (a wait reason)."""
        self.version += 1
        self._notify()

    def everything(self) -> None:
        self.version += 1
        self.epoch = self.version
        self._at.clear()
        self._notify()

    def since(self, version: int) -> set[str] | None:
        """Sessions whose rows changed after ``version``; None: all may have."""
        if self.epoch > version:
            return None
        return {sid for sid, at in self._at.items() if at > version}

    def _notify(self) -> None:
        for callback in self._listeners:
            callback()
