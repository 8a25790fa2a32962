"""What the board, the resumes and the sink need of the demo fleet: its port.

`DemoFleet` composes those three; they act through it. Naming the fleet by
this protocol rather than by its class keeps the import one way (fleet →
board, resume, sink → port), with no circle back to the fleet.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .content import Ctx
    from .runs import Run
    from .server import TauServer
    from .writer import StoreWriter


class Fleet(Protocol):
    """The demo fleet as its parts see it."""

    server: TauServer
    rng: random.Random
    turns: dict[tuple[int, str], int]
    ended: dict[str, str]
    _runs: dict[str, Run]
    _attached: bool
    has_queued: set[str]  # tau's per-session flag: a drain is owed

    def _clock(self) -> int: ...
    def writer(self) -> StoreWriter: ...
    def waiting(self, sid: str) -> bool: ...
    def live_runs(self) -> list[str]: ...
    def advance(self, sid: str) -> str: ...
    def chat(self, sid: str) -> str: ...
    def start_run(self, sid: str, *, queued: int = 0) -> Run: ...
    def resume_run(self, sid: str) -> Run: ...
    def orchestrators(self) -> list[str]: ...
    def project_of(self, sid: str) -> str | None: ...
    def _ctx(self, sid: str) -> tuple[Ctx, int, int]: ...
    def _reap(self, sid: str, run: Run) -> None: ...
    def _new_run(self, sid: str, mode: str, pending: list[dict[str, Any]] | None = None,
                 chat: bool | None = None) -> Run: ...
