"""Stalled marks carried on the very rows and panes the screens show.

A stalled task row is a `StalledRow`, a stalled session's pane a
`StalledPane`: the same fields plus the stall. Being of another class they
compare unequal to the unmarked row, so the task table and the pane, which
redraw only what changed, redraw exactly the rows whose mark came or went; the
widgets ask ``isinstance``. Only `tui.model.snapshots` is imported here: widgets may
import this module (the screens never see the store).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypeVar

from ..model.snapshots import SessionPane, TaskRow

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StalledRow(TaskRow):
    """A task with a stalled session."""

    stalled_since: float = 0.0  # s: the newest sign of life of its quietest stalled session
    stalled_sessions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StalledPane(SessionPane):
    """A stalled session's pane."""

    stalled_since: float = 0.0  # s: its newest sign of life
    stall_after_s: float = 0.0  # the threshold it passed


def copy_as(cls: type[T], obj: Any, **extra: Any) -> T:
    """``obj``'s fields in an instance of ``cls`` (a subclass of its class)."""
    return cls(**{f.name: getattr(obj, f.name) for f in fields(obj)}, **extra)
