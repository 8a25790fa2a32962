"""The sequence of visible changes the latency runs commit, and what each should show.

The target task (``meta["target_task"]``) has one live session
(``meta["target_session"]``); its other sessions are idle. On the task list the
changes are: its title (a new ``BTnnnnn`` marker), the live session's phase
(the Phase column), a new session (the Sessions column). On the task screen:
the live session's phase, a new message (the pane's newest lines, ``mknnnnn``),
an exit status (the pane's second line), a new session (the "Sessions (N, …"
heading). Each change is different from what the screen showed before it, so
"the text is there" means "the change arrived".
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .views import Expect

PHASES = ("thinking", "running tools", "working", "sending request", "waiting", "compacting",
          "preparing", "rate limited")
EXITS = ("completed", "error", "cancelled", "max_turns", "succeeded", "panicked")


def _phase_text(phase: str) -> str:
    return phase[:12]  # the task table cuts the phase to 13 columns


@dataclass
class Change:
    screen: str  # "list" | "task"
    kind: str  # title | phase | session | message | exit
    op: str
    args: dict[str, Any]
    expect: Expect


@dataclass
class Scenario:
    task: int
    sid: str
    sessions: int  # task_sessions rows of the target task now
    marker_seq: int = 0
    msg_seq: int = 0
    new_seq: int = 0
    phase: str = "thinking"
    exit_i: int = 0  # EXITS[0] is what the generator left
    added: list[str] = field(default_factory=list)
    sid_base: int = 50_000_000

    def __post_init__(self) -> None:
        # Message markers differ from one run to the next on the same store (a
        # pane shows the newest three messages, which may be an earlier run's).
        self.msg_seq = (self.sid_base // 100) % 100_000

    @property
    def marker(self) -> str:
        return f"BT{self.marker_seq:05d}"

    def setup_ops(self) -> list[tuple[str, dict[str, Any]]]:
        """Commits that put the target in its starting state (not timed)."""
        self.phase = "thinking"
        self.exit_i = 0
        return [("title", {"task": self.task, "title": f"{self.marker} bench target"}),
                ("exit", {"sid": self.sid, "status": EXITS[0], "phase": self.phase}),
                ("message", {"sid": self.sid, "text": "bench: starting the latency run"})]

    def ready_expect(self) -> Expect:
        return Expect("row", _phase_text(self.phase), title_marker=self.marker)

    def _next_phase(self) -> str:
        i = PHASES.index(self.phase) if self.phase in PHASES else -1
        self.phase = PHASES[(i + 1) % len(PHASES)]
        return self.phase

    def _new_sid(self) -> str:
        self.new_seq += 1
        sid = f"s{self.sid_base + self.new_seq}"
        self.added.append(sid)
        self.sessions += 1
        return sid

    def list_changes(self, n: int) -> Iterator[Change]:
        kinds = itertools.cycle(("title", "phase", "session"))
        for _ in range(n):
            kind = next(kinds)
            if kind == "title":
                self.marker_seq += 1
                yield Change("list", kind, "title",
                             {"task": self.task, "title": f"{self.marker} bench target"},
                             Expect("row", self.marker, title_marker=self.marker))
            elif kind == "phase":
                p = self._next_phase()
                yield Change("list", kind, "phase", {"sid": self.sid, "phase": p},
                             Expect("row", _phase_text(p), title_marker=self.marker))
            else:
                sid = self._new_sid()
                yield Change("list", kind, "session", {"task": self.task, "sid": sid},
                             Expect("row", f" {self.sessions} (1 live)", title_marker=self.marker))

    def task_changes(self, n: int) -> Iterator[Change]:
        kinds = itertools.cycle(("phase", "message", "exit", "session"))
        for _ in range(n):
            kind = next(kinds)
            if kind == "phase":
                p = self._next_phase()
                yield Change("task", kind, "phase", {"sid": self.sid, "phase": p},
                             Expect("card", _phase_text(p), sid=self.sid, line=1))
            elif kind == "message":
                self.msg_seq += 1
                mk = f"mk{self.msg_seq:05d}"
                yield Change("task", kind, "message",
                             {"sid": self.sid, "text": f"{mk} keep going with the retry loop"},
                             Expect("card", mk, sid=self.sid))
            elif kind == "exit":
                self.exit_i = (self.exit_i + 1) % len(EXITS)
                status = EXITS[self.exit_i]
                self.phase = "idle"
                yield Change("task", kind, "exit", {"sid": self.sid, "status": status, "phase": "idle"},
                             Expect("card", f"last turn {status}", sid=self.sid, line=1))
            else:
                sid = self._new_sid()
                yield Change("task", kind, "session", {"task": self.task, "sid": sid},
                             Expect("heading", f"Sessions ({self.sessions},"))

    def cleanup_ops(self) -> list[tuple[str, dict[str, Any]]]:
        ops: list[tuple[str, dict[str, Any]]] = []
        if self.added:
            ops.append(("cleanup", {"task": self.task, "sids": list(self.added)}))
            self.sessions -= len(self.added)
            self.added.clear()
        self.phase = "thinking"
        self.exit_i = 0
        ops.append(("exit", {"sid": self.sid, "status": EXITS[0], "phase": self.phase}))
        return ops
