"""What a screen shows, said as a query the app can run against the store.

Screens describe their data with one of these; the app runs it (screens never
open the database) and hands back the snapshot. Frozen, so the app can tell
whether the screen's question changed since the last read.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TaskListQuery:
    """Every task, grouped by the screen."""


@dataclass(frozen=True, slots=True)
class TaskQuery:
    task_id: int
    include_archived: bool = True
    recent: int = 3
    host: str = ""  # the task's host (its row's): ids are per host


@dataclass(frozen=True, slots=True)
class TranscriptQuery:
    session_id: str
    after_id: int | None = None  # None: the newest page; else what came after
    limit: int = 200  # messages in the newest page
    host: str = ""  # the session's host: session ids are per host


Query = TaskListQuery | TaskQuery | TranscriptQuery


@dataclass(frozen=True, slots=True)
class RefreshState:
    """How the screen is being kept up to date, for the status line."""

    mode: str  # "watching" | "polling" | "paused"
    poll_seconds: float | None = None
    last_read: float | None = None  # s, when data last arrived
    stale_since: float | None = None  # s, first failed read since the last good one
    error: str | None = None
