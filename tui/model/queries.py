"""What a screen shows, said as a query the app can run against the store.

Screens describe their data with one of these; the app runs it (screens never
open the database) and hands back the snapshot. Frozen, so the app can tell
whether the screen's question changed since the last read. Each query is
typed by its answer (`Asks`): it says which read of a `Reader` answers it, so
the snapshot a screen is handed has the type the screen declared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar

from .snapshots import TaskDetail, TaskListSnapshot, Transcript

#: The snapshot a query is answered with.
A = TypeVar("A", covariant=True)


class Reader(Protocol):
    """The reads that answer queries: this machine's store, a host's source,
    or every host's (`tui.tau.store.Store`, `tui.remote.source.RemoteSource`,
    `tui.hosts.Hosts`)."""

    async def read_task_list(self) -> TaskListSnapshot: ...

    async def read_task(self, task_id: int, *, recent: int = 3, include_archived: bool = True,
                        ask_waits: bool = True) -> TaskDetail | None: ...

    async def read_transcript(self, session_id: str, *, limit: int = 200,
                              before_id: int | None = None, after_id: int | None = None) -> Transcript: ...


class Asks(Protocol[A]):
    """A query answered with an ``A``, asked of its host's reader."""

    @property
    def host(self) -> str:
        """The host whose reader answers ("": this machine's, or every host's)."""
        ...

    async def ask(self, reader: Reader) -> A: ...


@dataclass(frozen=True, slots=True)
class TaskListQuery:
    """Every task, grouped by the screen."""

    @property
    def host(self) -> str:
        return ""  # every host's: asked of the store as a whole

    async def ask(self, reader: Reader) -> TaskListSnapshot:
        return await reader.read_task_list()


@dataclass(frozen=True, slots=True)
class TaskQuery:
    task_id: int
    include_archived: bool = True
    recent: int = 3
    host: str = ""  # the task's host (its row's): ids are per host

    async def ask(self, reader: Reader) -> TaskDetail | None:
        """None: the task is not in the store (deleted)."""
        return await reader.read_task(self.task_id, recent=self.recent,
                                      include_archived=self.include_archived)


@dataclass(frozen=True, slots=True)
class TranscriptQuery:
    session_id: str
    after_id: int | None = None  # None: the newest page; else what came after
    limit: int = 200  # messages in the newest page
    host: str = ""  # the session's host: session ids are per host

    async def ask(self, reader: Reader) -> Transcript:
        return await reader.read_transcript(self.session_id, after_id=self.after_id, limit=self.limit)


Query = TaskListQuery | TaskQuery | TranscriptQuery


@dataclass(frozen=True, slots=True)
class RefreshState:
    """How the screen is being kept up to date, for the status line."""

    mode: str  # "watching" | "polling" | "paused"
    poll_seconds: float | None = None
    last_read: float | None = None  # s, when data last arrived
    stale_since: float | None = None  # s, first failed read since the last good one
    error: str | None = None
