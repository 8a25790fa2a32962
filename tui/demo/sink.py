"""Where a fleet's runs send their effects: the server's memory, the disk.

Why: a run (runs.py) only says what happens; this sink splits it as tau
does — phases, events and the live set go to the in-memory ``TauServer`` (and
its subscribers), and only the six phase labels, whole messages and chat exit
statuses reach tau.db.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import content as c
from . import queueing
from .queries import LABELS

if TYPE_CHECKING:
    from .port import Fleet

#: The only values tau writes to ``sessions.last_phase`` (notifications.rs ``persist_phase``).
PERSISTED = frozenset({"waiting", "preparing", "sending request", "rate limited", "compacting", "idle"})


class FleetSink:
    """runs.Sink over a fleet: memory and socket in its server, disk through its writer."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet, self.server = fleet, fleet.server

    def now(self) -> int:
        return self.fleet._clock()

    def phase(self, sid: str, wire: str, *, persist: bool, turn_ms: int | None = None) -> None:
        self.server.set_phase(sid, wire, live=self.server.is_live(sid), turn_started_at_ms=turn_ms)
        if persist:
            label = LABELS[wire]
            if label not in PERSISTED:
                raise ValueError(f"tau never persists {label!r}")
            self.fleet.writer().update_phase(sid, label)

    def event(self, sid: str, event: dict[str, Any]) -> None:
        self.server.emit(sid, event)

    def send(self, sid: str, msg: dict[str, Any]) -> None:
        self.server.send(sid, msg)

    def live(self, sid: str, on: bool) -> None:
        self.server.set_live(sid, on)

    def write(self, sid: str, msgs: list[c.Msg]) -> None:
        self.fleet.writer().append(sid, msgs)

    def exit_status(self, sid: str, status: str) -> None:
        self.fleet.writer().update_exit_status(sid, status)

    def chat_tagline(self, sid: str, text: str) -> None:
        self.fleet.writer().tagline_if_empty(sid, text)

    def compact(self, sid: str, summary: str, tokens_before: int, *,
                dry_run: bool = False) -> tuple[int, int] | None:
        return self.fleet.writer().compact(sid, summary, tokens_before, dry_run=dry_run)

    def succeed(self, sid: str) -> str:
        return self.fleet.writer().succeed(sid, caller=sid)

    def drain(self, sid: str) -> list[str]:
        return queueing.drain(self.fleet, sid)

    def queue(self, target: str, content: str, sender: str) -> str:
        return queueing.queue(self.fleet, target, content, sender)
